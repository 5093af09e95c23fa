package snapshot

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// DescribeRequest is DescribeSnapshots' input.
type DescribeRequest struct {
	SnapshotIDs  []string
	OwnerIDs     []string
	RestorableBy []string
	Filters      []resource.Filter
	resource.Page
	DryRun bool
}

// Described is a snapshot as DescribeSnapshots shows it: state settled at
// the time of the read, with the caller's tags.
type Described struct {
	*Snapshot
	State    string
	Progress string
	Tags     []resource.Tag
}

type row = Described

// fields are the DescribeSnapshots filters (spec §3.3.6).
var fields = map[string]resource.Field[row]{
	"description":   func(s row, _ []resource.Tag) []string { return []string{s.Description} },
	"encrypted":     func(s row, _ []resource.Tag) []string { return []string{strconv.FormatBool(s.Encrypted)} },
	"owner-alias":   func(s row, _ []resource.Tag) []string { return resource.One(s.OwnerAlias) },
	"owner-id":      func(s row, _ []resource.Tag) []string { return resource.One(s.OwnerID) },
	"progress":      func(s row, _ []resource.Tag) []string { return resource.One(s.Progress) },
	"snapshot-id":   func(s row, _ []resource.Tag) []string { return resource.One(s.ID) },
	"start-time":    func(s row, _ []resource.Tag) []string { return []string{s.StartTime.Format(volume.TimeFormat)} },
	"status":        func(s row, _ []resource.Tag) []string { return resource.One(s.State) },
	"storage-tier":  func(s row, _ []resource.Tag) []string { return []string{"standard"} },
	"transfer-type": func(s row, _ []resource.Tag) []string { return resource.One(s.TransferType) },
	"volume-id":     func(s row, _ []resource.Tag) []string { return resource.One(s.VolumeID) },
	"volume-size":   func(s row, _ []resource.Tag) []string { return []string{strconv.Itoa(int(s.VolumeSize))} },
	"tag-key":       resource.TagKeys[row],
}

// DescribeSnapshots lists the snapshots the caller may use in its region
// (spec §3.3), narrowed by ids, owners, restorable-by and filters, in id
// order.
//
// Returns InvalidSnapshotID.Malformed, InvalidSnapshot.NotFound (the first
// id in request order the caller cannot see), InvalidUserID.Malformed,
// InvalidParameterValue (filters, MaxResults, NextToken),
// InvalidParameterCombination, UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeSnapshots(ctx context.Context, c resource.Caller, r *DescribeRequest) ([]Described, string, error) {
	p, err := s.plan(c, r)
	if err != nil {
		return nil, "", err
	}
	return resource.ListByIDs(ctx, s.pages, c, r.Page, s.store.ViewSnapshots, func(tx Tx, found map[string]bool) resource.Listing[*Snapshot, Described] {
		return p.listing(ctx, tx, c, found)
	}, r.SnapshotIDs, ErrNotFound)
}

// Streams reports whether DescribeSnapshots answers r as a stream
// (StreamSnapshots): without MaxResults and without snapshot ids it can
// list every snapshot the caller may use, however many (every public one
// of every account); the others are small by construction.
func (r *DescribeRequest) Streams() bool {
	return r.MaxResults == nil && len(r.SnapshotIDs) == 0
}

// StreamSnapshots is DescribeSnapshots for a request that Streams: the
// same checks and the same snapshots in the same order, read a batch at a
// time, each batch in its own short read transaction (resource.StreamList).
// Returns the request's errors; the stream's Next returns the store's.
func (s *Service) StreamSnapshots(c resource.Caller, r *DescribeRequest) (*resource.Stream[Described], error) {
	if !r.Streams() {
		return nil, awserr.Internal(errNotStreamed)
	}
	p, err := s.plan(c, r)
	if err != nil {
		return nil, err
	}
	return resource.StreamList(s.pages, c, r.Page, kind, p.criteria, s.store.ViewSnapshots, func(ctx context.Context, tx Tx) resource.Listing[*Snapshot, Described] {
		return p.listing(ctx, tx, c, nil)
	})
}

// errNotStreamed is a programming error: the caller did not ask Streams.
var errNotStreamed = errors.New("snapshot: StreamSnapshots called for a request that does not stream")

// kind names DescribeSnapshots' listing in its tokens.
const kind = "snapshots"

// describePlan is a checked DescribeSnapshots request.
type describePlan struct {
	s          *Service
	r          *DescribeRequest
	owners     []string
	amazon     bool
	restorable map[string]bool
	fs         []resource.CompiledFilter[row]
	q          Query
	now        time.Time
}

// plan checks r and the caller's permission.
func (s *Service) plan(c resource.Caller, r *DescribeRequest) (*describePlan, error) {
	for _, id := range r.SnapshotIDs {
		if !ValidID(id) {
			return nil, ErrMalformed(id)
		}
	}
	if len(r.SnapshotIDs) > 0 && r.MaxResults != nil {
		return nil, awserr.New(awserr.CodeInvalidParameterCombination, "The parameter snapshotSet cannot be used with the parameter maxResults")
	}
	p := &describePlan{s: s, r: r, restorable: map[string]bool{}}
	for _, o := range r.OwnerIDs {
		switch {
		case o == "self":
			p.owners = append(p.owners, c.Account)
		case o == "amazon":
			p.amazon = true
		case resource.ValidAccountID(o):
			p.owners = append(p.owners, o)
		default:
			return nil, awserr.Newf(awserr.CodeInvalidUserIDMalformed, "User ID '%s' is invalid", o)
		}
	}
	for _, u := range r.RestorableBy {
		switch {
		case u == "self":
			p.restorable[c.Account] = true
		case u == GroupAll || resource.ValidAccountID(u):
			p.restorable[u] = true
		default:
			return nil, awserr.Newf(awserr.CodeInvalidUserIDMalformed, "User ID '%s' is invalid", u)
		}
	}
	if err := resource.CheckMaxResults(r.MaxResults); err != nil {
		return nil, err
	}
	var err error
	if p.fs, err = resource.CompileFilters(r.Filters, fields); err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "DescribeSnapshots", "*"); err != nil {
		return nil, err
	}
	if r.DryRun {
		return nil, awserr.DryRunOK()
	}
	p.q = Query{Region: c.Region, VisibleTo: c.Account, IDs: slices.Compact(slices.Sorted(slices.Values(r.SnapshotIDs)))}
	if !p.amazon {
		// "amazon" matches by alias, so owners narrow the store's query
		// only without it.
		p.q.OwnerIDs = slices.Compact(slices.Sorted(slices.Values(p.owners)))
	}
	p.now = s.now()
	return p, nil
}

// criteria are what a page token binds.
func (p *describePlan) criteria(f *resource.Fingerprint) {
	f.Add(p.q.IDs...)
	f.Add("owners")
	f.Add(p.r.OwnerIDs...)
	f.Add("restorable")
	f.Add(p.r.RestorableBy...)
	f.AddFilters(p.r.Filters)
}

// listing is the request's listing over one transaction; found, when not
// nil, collects the ids of the snapshots the caller may see.
func (p *describePlan) listing(ctx context.Context, tx Tx, c resource.Caller, found map[string]bool) resource.Listing[*Snapshot, Described] {
	s, r := p.s, p.r
	bpa := map[string]string{} // owner → block public access, per read
	return resource.Listing[*Snapshot, Described]{
		Kind:     kind,
		Criteria: p.criteria,
		Fetch: func(after string, limit int) ([]*Snapshot, error) {
			q := p.q
			q.AfterID, q.Limit = after, limit
			return tx.FindSnapshots(ctx, q)
		},
		Key: func(s *Snapshot) string { return s.ID },
		Keep: func(snaps []*Snapshot) ([]Described, error) {
			ids := make([]string, len(snaps))
			for i, sn := range snaps {
				ids[i] = sn.ID
			}
			perms, err := tx.SnapshotPermissions(ctx, c.Region, ids)
			if err != nil {
				return nil, err
			}
			var seen []*Snapshot
			for i, sn := range snaps {
				if err := resource.Poll(ctx, i); err != nil {
					return nil, err
				}
				ok, err := s.visible(ctx, tx, c, sn, perms[sn.ID], bpa)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				if found != nil {
					found[sn.ID] = true
				}
				if len(r.OwnerIDs) > 0 && !slices.Contains(p.owners, sn.OwnerID) && !(p.amazon && sn.OwnerAlias == "amazon") {
					continue
				}
				if len(p.restorable) > 0 && !restorableBy(sn, perms[sn.ID], p.restorable) {
					continue
				}
				seen = append(seen, sn)
			}
			ids = ids[:0]
			for _, sn := range seen {
				ids = append(ids, sn.ID)
			}
			tags, err := tx.Tags(ctx, c.Region, c.Account, ids)
			if err != nil {
				return nil, err
			}
			var kept []Described
			for _, sn := range seen {
				d := Described{Snapshot: sn, Tags: tags[sn.ID]}
				d.State, d.Progress = sn.StateAt(p.now)
				if resource.MatchAll(p.fs, d, d.Tags) {
					kept = append(kept, d)
				}
			}
			return kept, nil
		},
		ResultKey: func(d Described) string { return d.ID },
	}
}

// visible is Usable with the owners' block public access looked up once
// per read.
func (s *Service) visible(ctx context.Context, tx Tx, c resource.Caller, sn *Snapshot, perms []Permission, bpa map[string]string) (bool, error) {
	if sn.OwnerID == c.Account || slices.Contains(perms, Permission{UserID: c.Account}) {
		return true, nil
	}
	if !slices.Contains(perms, Permission{Group: GroupAll}) {
		return false, nil
	}
	state, ok := bpa[sn.OwnerID]
	if !ok {
		var err error
		if state, err = BlockPublicAccess(ctx, tx, c.Region, sn.OwnerID); err != nil {
			return false, err
		}
		bpa[sn.OwnerID] = state
	}
	return state != BlockAllSharing, nil
}

// restorableBy is RestorableByUserIds (spec §3.3.4): all means public; an
// account means it owns the snapshot or holds an explicit grant.
func restorableBy(sn *Snapshot, perms []Permission, who map[string]bool) bool {
	if who[sn.OwnerID] {
		return true
	}
	for _, p := range perms {
		if p.Group == GroupAll && who[GroupAll] || p.UserID != "" && who[p.UserID] {
			return true
		}
	}
	return false
}
