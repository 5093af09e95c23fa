package image

import (
	"context"
	"slices"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// DescribeRequest is DescribeImages' input.
type DescribeRequest struct {
	ImageIDs          []string
	Owners            []string
	ExecutableBy      []string
	Filters           []resource.Filter
	IncludeDeprecated bool
	IncludeDisabled   bool
	MaxResults        *int32
	NextToken         *string
	DryRun            bool
}

// Described is one image of a DescribeImages answer with the caller's tags.
type Described struct {
	*Image
	Tags []resource.Tag
	// Allowed is imageAllowed: the caller's Allowed AMIs verdict, nil when
	// its setting is disabled.
	Allowed *bool
}

// maxTagCandidates bounds the id list a tag filter hands the store.
const maxTagCandidates = 5000

var ownerAliases = []string{"amazon", "aws-marketplace", "aws-backup-vault"}

// describePlan is a validated DescribeImages request.
type describePlan struct {
	r       *DescribeRequest
	query   Query
	ids     map[string]bool // asked-for id → found
	owners  map[string]bool // owner ids; aliases below
	aliases map[string]bool
	granted []LaunchPermission
	// selfGrants are the grants that reach the caller itself (ExecutableBy=self).
	selfGrants map[LaunchPermission]bool
	filters    []resource.CompiledFilter[*Image]

	// allowedFilters are the image-allowed filters, tested against the
	// Allowed AMIs verdict; allowed is the caller's policy, loaded in the
	// transaction.
	allowedFilters []resource.CompiledFilter[*Image]
	allowed        *allowedPolicy

	// tagFilter is a tag:<key> filter whose candidates the caller's tag
	// index can list, instead of testing every visible image.
	tagFilter *resource.CompiledFilter[*Image]
	tagKey    string
}

// DescribeImages lists the images the caller may see, narrowed by ids,
// owners, executable users and filters (spec §2.4). Results are ordered by
// image id, so pages never overlap or skip. An id that exists and is
// visible but that the other criteria exclude is simply not listed;
// InvalidAMIID.NotFound names only ids that do not exist for the caller.
//
// Returns InvalidAMIID.Malformed / .NotFound, InvalidUserID.Malformed,
// InvalidParameterValue (filters, MaxResults, NextToken),
// InvalidParameterCombination (ImageId with MaxResults), InvalidParameter
// (state=disabled without IncludeDisabled), FilterLimitExceeded,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeImages(ctx context.Context, c resource.Caller, r *DescribeRequest) ([]Described, string, error) {
	p, err := s.plan(c, r)
	if err != nil {
		return nil, "", err
	}
	if err := resource.Authorize(c, "DescribeImages", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	var out []Described
	next := ""
	err = s.store.View(ctx, func(tx Tx) error {
		none, err := s.prepare(ctx, tx, c, p)
		if err != nil || none {
			return err
		}
		q := p.query
		out, next, err = resource.List(ctx, s.pages, c, resource.Page{MaxResults: r.MaxResults, NextToken: r.NextToken}, resource.Listing[*Image, Described]{
			Kind:     "images",
			Criteria: p.criteria,
			Fetch: func(after string, limit int) ([]*Image, error) {
				q.AfterID, q.Limit = after, limit
				return tx.FindImages(ctx, q)
			},
			Key:       imageID,
			Keep:      func(imgs []*Image) ([]Described, error) { return s.keep(ctx, tx, c, r, p, imgs) },
			ResultKey: describedID,
		})
		if err != nil {
			return err
		}
		if p.ids != nil {
			var missing []string
			for _, id := range r.ImageIDs {
				if !p.ids[id] && !slices.Contains(missing, id) {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				return errNotFound(missing...)
			}
		}
		return nil
	})
	return out, next, err
}

// prepare does what a listing reads once, before its candidates: the
// caller's Allowed AMIs policy, and for a tag filter the candidate ids from
// the caller's tag index (into p.query.IDs). none reports that the tag
// index leaves no candidate.
func (s *Service) prepare(ctx context.Context, tx Tx, c resource.Caller, p *describePlan) (none bool, err error) {
	if p.allowed, err = s.loadAllowedPolicy(ctx, tx, c); err != nil {
		return false, err
	}
	if p.tagFilter == nil || len(p.query.IDs) > 0 {
		return false, nil
	}
	// Only images carrying the caller's tag can match: start from those.
	tags, err := tx.ListTags(ctx, resource.TagQuery{Region: c.Region, Account: c.Account, Keys: []string{p.tagKey}})
	if err != nil {
		return false, err
	}
	var ids []string
	for i, t := range tags {
		if err := resource.Poll(ctx, i); err != nil {
			return false, err
		}
		if resource.TypeOf(t.ResourceID) == "image" && p.tagFilter.MatchValue(t.Value) {
			ids = append(ids, t.ResourceID)
		}
	}
	switch {
	case len(ids) == 0:
		return true, nil
	case len(ids) > maxTagCandidates:
		// so common a tag that the other indexes serve better
	default:
		slices.Sort(ids)
		p.query.IDs = slices.Compact(ids)
	}
	return false, nil
}

func imageID(img *Image) string      { return img.ID }
func describedID(d Described) string { return d.ID }

// plan validates the request and chooses the index the store should use.
func (s *Service) plan(c resource.Caller, r *DescribeRequest) (*describePlan, error) {
	p := &describePlan{r: r, query: Query{Region: c.Region, VisibleTo: &c.Viewer, IncludeDeregistered: len(r.ImageIDs) > 0}}
	for _, id := range r.ImageIDs {
		if !ValidImageID(id) {
			return nil, errMalformedID(id)
		}
	}
	if len(r.ImageIDs) > 0 {
		if r.MaxResults != nil {
			return nil, errCombination("The parameter imageIdsSet cannot be used with the parameter maxResults")
		}
		p.ids = make(map[string]bool, len(r.ImageIDs))
		for _, id := range r.ImageIDs {
			p.ids[id] = false // not found yet
		}
		p.query.IDs = slices.Compact(slices.Sorted(func(yield func(string) bool) {
			for id := range p.ids {
				if !yield(id) {
					return
				}
			}
		}))
	}
	if err := resource.CheckMaxResults(r.MaxResults); err != nil {
		return nil, err
	}
	if len(r.Owners) > 0 {
		p.owners, p.aliases = map[string]bool{}, map[string]bool{}
		for _, o := range r.Owners {
			switch {
			case o == "self":
				p.owners[c.Account] = true
			case slices.Contains(ownerAliases, o):
				p.aliases[o] = true
			case resource.ValidAccountID(o):
				p.owners[o] = true
			default:
				return nil, awserr.Newf(awserr.CodeInvalidUserIDMalformed, "User ID '%s' is invalid", o)
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
			case resource.ValidAccountID(e):
				p.granted = append(p.granted, LaunchPermission{Kind: PermUser, Value: e})
			default:
				return nil, awserr.Newf(awserr.CodeInvalidUserIDMalformed, "User ID '%s' is invalid", e)
			}
		}
		p.granted = dedupe(p.granted)
		p.query.GrantedAny = p.granted
	}
	var err error
	if p.filters, err = resource.CompileFilters(r.Filters, imageFields); err != nil {
		return nil, err
	}
	p.filters, p.allowedFilters = splitAllowedFilters(p.filters)
	for _, f := range r.Filters {
		if *f.Name == "state" && slices.Contains(f.Values, StateDisabled) && !r.IncludeDisabled {
			return nil, awserr.New(awserr.CodeInvalidParameter, "When filtering by the 'disabled' state, 'IncludeDisabled' must be set to 'true' in the request.")
		}
	}
	// A tag:<key> filter can start from the caller's tags.
	for i := range p.filters {
		if k, ok := resource.TagFilterKey(p.filters[i].Name); ok {
			p.tagFilter, p.tagKey = &p.filters[i], k
			break
		}
	}
	// A single-valued name filter can use the name index, unless ids are
	// asked for: those are the index then, and an id the filter excludes
	// must still be found (it exists, it is just not listed).
	for _, f := range p.filters {
		if f.Name != "name" || len(f.Patterns) != 1 || p.ids != nil {
			continue
		}
		pt := f.Patterns[0]
		if lit, ok := pt.Literal(); ok {
			p.query.Name = lit
		} else if pre, ok := pt.Prefix(); ok && pre != "" {
			p.query.NamePrefix = pre
		}
	}
	return p, nil
}

// criteria writes what a page token binds: everything that selects images
// (the caller is added by the listing).
func (p *describePlan) criteria(f *resource.Fingerprint) {
	if p.owners != nil {
		f.Add("owners")
		f.Add(p.query.OwnerIDs...)
		f.Add(p.query.OwnerAliases...)
	}
	if p.granted != nil {
		f.Add("executable")
		for _, g := range p.granted {
			f.Add(string(g.Kind), g.Value)
		}
	}
	f.AddFilters(p.r.Filters)
	f.Add("flags", boolStr(p.r.IncludeDeprecated), boolStr(p.r.IncludeDisabled))
}

// keep applies the rules the store's indexes do not: exact owner and grant
// semantics, deprecation, disabled images and the filters, and attaches the
// caller's tags. It marks the requested ids that exist for the caller.
func (s *Service) keep(ctx context.Context, tx Tx, c resource.Caller, r *DescribeRequest, p *describePlan, imgs []*Image) ([]Described, error) {
	now := s.now()
	var cands []*Image
	for i, img := range imgs {
		if err := resource.Poll(ctx, i); err != nil {
			return nil, err
		}
		img = s.settled(img)
		if s.gone(img) || !img.VisibleTo(c.Viewer) || p.allowed.hides(img) {
			continue
		}
		if p.ids != nil {
			if _, asked := p.ids[img.ID]; !asked {
				continue
			}
			p.ids[img.ID] = true
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
	ids := make([]string, len(cands))
	for i, img := range cands {
		ids[i] = img.ID
	}
	tags, err := tx.Tags(ctx, c.Region, c.Account, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Described, 0, len(cands))
	for i, img := range cands {
		if err := resource.Poll(ctx, i); err != nil {
			return nil, err
		}
		t := tags[img.ID]
		verdict := p.allowed.verdict(img)
		if resource.MatchAll(p.filters, img, t) && matchAllowed(p.allowedFilters, verdict) {
			out = append(out, Described{Image: img, Tags: t, Allowed: verdict})
		}
	}
	return out, nil
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
