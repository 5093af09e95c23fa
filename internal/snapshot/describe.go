package snapshot

import (
	"context"
	"slices"
	"strconv"

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
	for _, id := range r.SnapshotIDs {
		if !ValidID(id) {
			return nil, "", ErrMalformed(id)
		}
	}
	if len(r.SnapshotIDs) > 0 && r.MaxResults != nil {
		return nil, "", awserr.New(awserr.CodeInvalidParameterCombination, "The parameter snapshotSet cannot be used with the parameter maxResults")
	}
	var owners []string
	amazon := false
	for _, o := range r.OwnerIDs {
		switch {
		case o == "self":
			owners = append(owners, c.Account)
		case o == "amazon":
			amazon = true
		case resource.ValidAccountID(o):
			owners = append(owners, o)
		default:
			return nil, "", awserr.Newf(awserr.CodeInvalidUserIDMalformed, "User ID '%s' is invalid", o)
		}
	}
	restorable := map[string]bool{}
	for _, u := range r.RestorableBy {
		switch {
		case u == "self":
			restorable[c.Account] = true
		case u == GroupAll || resource.ValidAccountID(u):
			restorable[u] = true
		default:
			return nil, "", awserr.Newf(awserr.CodeInvalidUserIDMalformed, "User ID '%s' is invalid", u)
		}
	}
	if err := resource.CheckMaxResults(r.MaxResults); err != nil {
		return nil, "", err
	}
	fs, err := resource.CompileFilters(r.Filters, fields)
	if err != nil {
		return nil, "", err
	}
	if err := resource.Authorize(c, "DescribeSnapshots", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	q := Query{Region: c.Region, VisibleTo: c.Account, IDs: slices.Compact(slices.Sorted(slices.Values(r.SnapshotIDs)))}
	if !amazon {
		// "amazon" matches by alias, so owners narrow the store's query
		// only without it.
		q.OwnerIDs = slices.Compact(slices.Sorted(slices.Values(owners)))
	}
	now := s.now()
	found := map[string]bool{}
	var out []Described
	var next string
	err = s.store.ViewSnapshots(ctx, func(tx Tx) error {
		clear(found)
		bpa := map[string]string{} // owner → block public access, per read
		var err error
		out, next, err = resource.List(ctx, s.pages, c, r.Page, resource.Listing[*Snapshot, Described]{
			Kind: "snapshots",
			Criteria: func(f *resource.Fingerprint) {
				f.Add(q.IDs...)
				f.Add("owners")
				f.Add(r.OwnerIDs...)
				f.Add("restorable")
				f.Add(r.RestorableBy...)
				f.AddFilters(r.Filters)
			},
			Fetch: func(after string, limit int) ([]*Snapshot, error) {
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
					found[sn.ID] = true
					if len(r.OwnerIDs) > 0 && !slices.Contains(owners, sn.OwnerID) && !(amazon && sn.OwnerAlias == "amazon") {
						continue
					}
					if len(restorable) > 0 && !restorableBy(sn, perms[sn.ID], restorable) {
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
					d.State, d.Progress = sn.StateAt(now)
					if resource.MatchAll(fs, d, d.Tags) {
						kept = append(kept, d)
					}
				}
				return kept, nil
			},
			ResultKey: func(d Described) string { return d.ID },
		})
		if err != nil {
			return err
		}
		for _, id := range r.SnapshotIDs {
			if !found[id] {
				return ErrNotFound(id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
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
