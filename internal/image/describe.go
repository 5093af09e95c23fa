package image

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// DescribeRequest is DescribeImages' input.
type DescribeRequest struct {
	ImageIDs          []string
	Owners            []string
	ExecutableBy      []string
	Filters           []Filter
	IncludeDeprecated bool
	IncludeDisabled   bool
	MaxResults        *int32
	NextToken         *string
	DryRun            bool
}

// Described is one image of a DescribeImages answer with the caller's tags.
type Described struct {
	*Image
	Tags []Tag
	// Allowed is imageAllowed: the caller's Allowed AMIs verdict, nil when
	// its setting is disabled.
	Allowed *bool
}

// maxTagCandidates bounds the id list a tag filter hands the store.
const maxTagCandidates = 5000

var ownerAliases = []string{"amazon", "aws-marketplace", "aws-backup-vault"}

// describePlan is a validated DescribeImages request.
type describePlan struct {
	query   Query
	ids     map[string]bool
	owners  map[string]bool // owner ids; aliases below
	aliases map[string]bool
	granted []LaunchPermission
	// selfGrants are the grants that reach the caller itself (ExecutableBy=self).
	selfGrants map[LaunchPermission]bool
	filters    []compiledFilter[*Image]
	fp         uint64 // fingerprint of the criteria, bound into page tokens

	// allowedFilters are the image-allowed filters, tested against the
	// Allowed AMIs verdict; allowed is the caller's policy, loaded by keep.
	allowedFilters []compiledFilter[*Image]
	allowed        *allowedPolicy

	// tagFilter is a tag:<key> filter whose candidates the caller's tag
	// index can list, instead of testing every visible image.
	tagFilter *compiledFilter[*Image]
	tagKey    string
}

// DescribeImages lists the images the caller may see, narrowed by ids,
// owners, executable users and filters (spec §2.4). Results are ordered by
// image id, so pages never overlap or skip.
//
// Returns InvalidAMIID.Malformed / .NotFound, InvalidUserID.Malformed,
// InvalidParameterValue (filters, MaxResults, NextToken),
// InvalidParameterCombination (ImageId with MaxResults), InvalidParameter
// (state=disabled without IncludeDisabled), FilterLimitExceeded,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeImages(ctx context.Context, c Caller, r *DescribeRequest) ([]Described, string, error) {
	p, err := s.plan(c, r)
	if err != nil {
		return nil, "", err
	}
	if err := authorize(c, "DescribeImages", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	limit := 0
	if r.MaxResults != nil {
		limit = int(*r.MaxResults)
	}
	if r.NextToken != nil {
		after, err := s.openToken(*r.NextToken, p.fp)
		if err != nil {
			return nil, "", err
		}
		p.query.AfterID = after
	}
	var out []Described
	next := ""
	err = s.store.View(ctx, func(tx Tx) error {
		out, next = nil, ""
		q := p.query
		if limit > 0 {
			q.Limit = max(limit*2, 100)
		}
		if p.tagFilter != nil && len(q.IDs) == 0 {
			// Only images carrying the caller's tag can match: start from those.
			tags, err := tx.ListTags(ctx, TagQuery{Region: c.Region, Account: c.Account, Keys: []string{p.tagKey}})
			if err != nil {
				return err
			}
			for _, t := range tags {
				if resourceType(t.ResourceID) == "image" && p.tagFilter.matchValue(t.Value) {
					q.IDs = append(q.IDs, t.ResourceID)
				}
			}
			switch {
			case len(q.IDs) == 0:
				return nil
			case len(q.IDs) > maxTagCandidates:
				q.IDs = nil // so common a tag that the other indexes serve better
			default:
				slices.Sort(q.IDs)
				q.IDs = slices.Compact(q.IDs)
			}
		}
		for {
			imgs, err := tx.FindImages(ctx, q)
			if err != nil {
				return err
			}
			kept, missing, err := s.keep(ctx, tx, c, r, p, imgs)
			if err != nil {
				return err
			}
			if len(missing) > 0 {
				return errNotFound(missing...)
			}
			if out == nil && limit == 0 {
				out = make([]Described, 0, len(kept))
			}
			for _, d := range kept {
				if limit > 0 && len(out) == limit {
					// A match is left over: the page is full and more follow.
					next = s.sealToken(out[len(out)-1].ID, p.fp)
					return nil
				}
				out = append(out, d)
			}
			if limit == 0 || len(imgs) < q.Limit {
				return nil
			}
			q.AfterID = imgs[len(imgs)-1].ID
		}
	})
	return out, next, err
}

// plan validates the request and chooses the index the store should use.
func (s *Service) plan(c Caller, r *DescribeRequest) (*describePlan, error) {
	p := &describePlan{query: Query{Region: c.Region, VisibleTo: &c.Viewer, IncludeDeregistered: len(r.ImageIDs) > 0}}
	h := sha256.New()
	mark := func(parts ...string) {
		for _, s := range parts {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
	}
	for _, id := range r.ImageIDs {
		if !ValidImageID(id) {
			return nil, errMalformedID(id)
		}
	}
	if len(r.ImageIDs) > 0 {
		if r.MaxResults != nil {
			return nil, errCombination("The parameter imageIdsSet cannot be used with the parameter maxResults")
		}
		p.ids = map[string]bool{}
		for _, id := range r.ImageIDs {
			p.ids[id] = true
		}
		p.query.IDs = slices.Compact(slices.Sorted(func(yield func(string) bool) {
			for id := range p.ids {
				if !yield(id) {
					return
				}
			}
		}))
	}
	if r.MaxResults != nil {
		n := *r.MaxResults
		if n < 5 {
			return nil, awserr.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than 5.", n)
		}
		if n > 1000 {
			return nil, awserr.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value smaller than or equal to 1000.", n)
		}
	}
	if len(r.Owners) > 0 {
		p.owners, p.aliases = map[string]bool{}, map[string]bool{}
		for _, o := range r.Owners {
			switch {
			case o == "self":
				p.owners[c.Account] = true
			case slices.Contains(ownerAliases, o):
				p.aliases[o] = true
			case ValidAccountID(o):
				p.owners[o] = true
			default:
				return nil, awserr.Newf("InvalidUserID.Malformed", "User ID '%s' is invalid", o)
			}
		}
		for o := range p.owners {
			p.query.OwnerIDs = append(p.query.OwnerIDs, o)
		}
		for a := range p.aliases {
			p.query.OwnerAliases = append(p.query.OwnerAliases, a)
		}
		slices.Sort(p.query.OwnerIDs)
		slices.Sort(p.query.OwnerAliases)
		mark("owners")
		mark(p.query.OwnerIDs...)
		mark(p.query.OwnerAliases...)
	}
	if len(r.ExecutableBy) > 0 {
		for _, e := range r.ExecutableBy {
			switch {
			case e == "all":
				p.granted = append(p.granted, Public)
			case e == "self" || e == c.Account:
				// Grants that reach the caller: its id, its organization, its OUs.
				self := []LaunchPermission{{Kind: PermUser, Value: c.Account}}
				if c.OrgARN != "" {
					self = append(self, LaunchPermission{Kind: PermOrg, Value: c.OrgARN})
				}
				for _, ou := range c.OUARNs {
					self = append(self, LaunchPermission{Kind: PermOU, Value: ou})
				}
				p.selfGrants = map[LaunchPermission]bool{}
				for _, g := range self {
					p.selfGrants[g] = true
				}
				p.granted = append(p.granted, self...)
			case ValidAccountID(e):
				p.granted = append(p.granted, LaunchPermission{Kind: PermUser, Value: e})
			default:
				return nil, awserr.Newf("InvalidUserID.Malformed", "User ID '%s' is invalid", e)
			}
		}
		p.granted = dedupe(p.granted)
		p.query.GrantedAny = p.granted
		mark("executable")
		for _, g := range p.granted {
			mark(string(g.Kind), g.Value)
		}
	}
	var err error
	if p.filters, err = compileFilters(r.Filters, imageFields); err != nil {
		return nil, err
	}
	p.filters, p.allowedFilters = splitAllowedFilters(p.filters)
	for _, f := range r.Filters {
		mark("filter", *f.Name)
		mark(f.Values...)
		if *f.Name == "state" && slices.Contains(f.Values, StateDisabled) && !r.IncludeDisabled {
			return nil, awserr.New("InvalidParameter", "When filtering by the 'disabled' state, 'IncludeDisabled' must be set to 'true' in the request.")
		}
	}
	// A tag:<key> filter can start from the caller's tags.
	for i := range p.filters {
		if k, ok := strings.CutPrefix(p.filters[i].name, "tag:"); ok && k != "" {
			p.tagFilter, p.tagKey = &p.filters[i], k
			break
		}
	}
	// A single-valued name filter can use the name index.
	for _, f := range p.filters {
		if f.name != "name" || len(f.patterns) != 1 {
			continue
		}
		pt := f.patterns[0]
		if !pt.wild {
			p.query.Name = pt.literal
		} else if pre, ok := pt.prefix(); ok && pre != "" {
			p.query.NamePrefix = pre
		}
	}
	mark("flags", boolStr(r.IncludeDeprecated), boolStr(r.IncludeDisabled), c.Account, c.Region)
	p.fp = binary.BigEndian.Uint64(h.Sum(nil))
	return p, nil
}

// keep applies the rules the store's indexes do not: exact owner and grant
// semantics, deprecation, disabled images and the filters, and attaches the
// caller's tags. It also reports the requested ids that read as not existing.
func (s *Service) keep(ctx context.Context, tx Tx, c Caller, r *DescribeRequest, p *describePlan, imgs []*Image) ([]Described, []string, error) {
	now := s.now()
	if p.allowed == nil {
		var err error
		if p.allowed, err = s.loadAllowedPolicy(ctx, tx, c); err != nil {
			return nil, nil, err
		}
	}
	found := map[string]bool{}
	var cands []*Image
	for _, img := range imgs {
		img = s.settled(img)
		if s.gone(img) || !img.VisibleTo(c.Viewer) || p.allowed.hides(img) {
			continue
		}
		if p.ids != nil {
			if !p.ids[img.ID] {
				continue
			}
			found[img.ID] = true
		}
		if img.State == StateDeregistered {
			continue // still "exists" by id for a while, but is never listed
		}
		if p.owners != nil && !p.owners[img.OwnerID] && !(img.OwnerAlias != "" && p.aliases[img.OwnerAlias]) {
			continue
		}
		if p.granted != nil && !executableBy(img, c.Account, p.granted, p.selfGrants) {
			continue
		}
		if img.State == StateDisabled && !r.IncludeDisabled {
			continue
		}
		if img.OwnerID != c.Account && !r.IncludeDeprecated && p.ids == nil && deprecated(img, now) {
			continue
		}
		cands = append(cands, img)
	}
	var missing []string
	if p.ids != nil {
		for _, id := range r.ImageIDs {
			if !found[id] && !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		}
	}
	ids := make([]string, len(cands))
	for i, img := range cands {
		ids[i] = img.ID
	}
	tags, err := tx.Tags(ctx, c.Region, c.Account, ids)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Described, 0, len(cands))
	for _, img := range cands {
		t := tags[img.ID]
		verdict := p.allowed.verdict(img)
		if matchAll(p.filters, img, t) && matchAllowed(p.allowedFilters, verdict) {
			out = append(out, Described{Image: img, Tags: t, Allowed: verdict})
		}
	}
	return out, missing, nil
}

// executableBy reports whether one of the grants ExecutableBy asked for is
// on the image. An owner's implicit permission is not a grant: its own
// images show up only as public ones.
func executableBy(img *Image, caller string, granted []LaunchPermission, self map[LaunchPermission]bool) bool {
	for _, g := range granted {
		if img.OwnerID == caller && self[g] {
			continue
		}
		if slices.Contains(img.LaunchPermissions, g) {
			return true
		}
	}
	return false
}

// fingerprint condenses query criteria into the number a page token binds.
func fingerprint(parts ...string) uint64 {
	h := sha256.New()
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// Page tokens are opaque and tamper-evident: base64url(after id, criteria
// fingerprint, HMAC). A token only continues the query that issued it.

const tokenKeySetting = "pagination-token-key"

func (s *Service) sealToken(after string, fp uint64) string {
	var b []byte
	b = binary.BigEndian.AppendUint64(b, fp)
	b = append(b, after...)
	m := hmac.New(sha256.New, s.opts.TokenKey)
	m.Write(b)
	b = append(b, m.Sum(nil)[:16]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) openToken(tok string, fp uint64) (string, error) {
	bad := awserr.InvalidParameterValue("Value ( %s ) for parameter NextToken is invalid. The token is invalid.", tok)
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 8+16 {
		return "", bad
	}
	body, sum := b[:len(b)-16], b[len(b)-16:]
	m := hmac.New(sha256.New, s.opts.TokenKey)
	m.Write(body)
	if !hmac.Equal(sum, m.Sum(nil)[:16]) || binary.BigEndian.Uint64(body) != fp {
		return "", bad
	}
	return string(body[8:]), nil
}

// loadTokenKey reads the token key shared by every process on one store,
// creating it on first use.
func loadTokenKey(ctx context.Context, st Store) ([]byte, error) {
	var key string
	err := st.Update(ctx, func(tx Tx) error {
		v, err := tx.Setting(ctx, "", "", tokenKeySetting)
		if err == nil {
			key = v
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		key = hex.EncodeToString(b[:])
		return tx.SetSetting(ctx, "", "", tokenKeySetting, key)
	})
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(strings.TrimSpace(key))
}
