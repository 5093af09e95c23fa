package volume

import (
	"context"
	"slices"
	"strconv"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// DescribeRequest is DescribeVolumes' input.
type DescribeRequest struct {
	VolumeIDs []string
	Filters   []resource.Filter
	resource.Page
	DryRun bool
}

// Described is a volume as DescribeVolumes shows it: state settled at the
// time of the read, with the caller's tags.
type Described struct {
	*Volume
	State string
	Tags  []resource.Tag
}

// TimeFormat is how EC2 prints times, in answers and in filters.
const TimeFormat = "2006-01-02T15:04:05.000Z"

type row = Described

func boolString(b bool) []string { return []string{strconv.FormatBool(b)} }

// fields are the DescribeVolumes filters (spec §2.3). The attachment
// filters match nothing on a volume that is not attached.
var fields = map[string]resource.Field[row]{
	"availability-zone":    func(v row, _ []resource.Tag) []string { return resource.One(v.AvailabilityZone) },
	"availability-zone-id": func(v row, _ []resource.Tag) []string { return resource.One(v.ZoneID) },
	"create-time":          func(v row, _ []resource.Tag) []string { return []string{v.CreateTime.Format(TimeFormat)} },
	"encrypted":            func(v row, _ []resource.Tag) []string { return boolString(v.Encrypted) },
	"fast-restored":        func(v row, _ []resource.Tag) []string { return boolString(false) },
	"multi-attach-enabled": func(v row, _ []resource.Tag) []string { return boolString(v.MultiAttach) },
	"operator.managed":     func(v row, _ []resource.Tag) []string { return boolString(false) },
	"operator.principal":   func(v row, _ []resource.Tag) []string { return nil },
	"size":                 func(v row, _ []resource.Tag) []string { return []string{strconv.Itoa(int(v.Size))} },
	"snapshot-id":          func(v row, _ []resource.Tag) []string { return resource.One(v.SnapshotID) },
	"status":               func(v row, _ []resource.Tag) []string { return resource.One(v.State) },
	"volume-id":            func(v row, _ []resource.Tag) []string { return resource.One(v.ID) },
	"volume-type":          func(v row, _ []resource.Tag) []string { return resource.One(v.VolumeType) },
	"tag-key":              resource.TagKeys[row],

	"attachment.attach-time": attachment(func(a *Attachment) string { return a.AttachTime.Format(TimeFormat) }),
	"attachment.delete-on-termination": attachment(func(a *Attachment) string {
		return strconv.FormatBool(a.DeleteOnTermination)
	}),
	"attachment.device":      attachment(func(a *Attachment) string { return a.Device }),
	"attachment.instance-id": attachment(func(a *Attachment) string { return a.InstanceID }),
	"attachment.status":      attachment(func(*Attachment) string { return AttachmentAttached }),
}

// DescribeVolumes lists the caller's volumes in its region, by volume id.
//
// Returns InvalidVolumeID.Malformed, InvalidVolume.NotFound (the first
// missing id in request order), InvalidParameterValue (filters,
// MaxResults, NextToken), InvalidParameterCombination,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeVolumes(ctx context.Context, c resource.Caller, r *DescribeRequest) ([]Described, string, error) {
	for _, id := range r.VolumeIDs {
		if !ValidID(id) {
			return nil, "", ErrMalformed(id)
		}
	}
	if err := resource.CheckPage("volumeSet", len(r.VolumeIDs), r.MaxResults); err != nil {
		return nil, "", err
	}
	fs, err := resource.CompileFilters(r.Filters, fields)
	if err != nil {
		return nil, "", err
	}
	if err := resource.Authorize(c, "DescribeVolumes", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	now := s.now()
	q := Query{Region: c.Region, OwnerID: c.Account, IDs: slices.Compact(slices.Sorted(slices.Values(r.VolumeIDs)))}
	found := map[string]bool{}
	var out []Described
	var next string
	err = s.store.ViewVolumes(ctx, func(tx Tx) error {
		clear(found)
		var err error
		out, next, err = resource.List(ctx, s.pages, c, r.Page, resource.Listing[*Volume, Described]{
			Kind: "volumes",
			Criteria: func(f *resource.Fingerprint) {
				f.Add(q.IDs...)
				f.AddFilters(r.Filters)
			},
			Fetch: func(after string, limit int) ([]*Volume, error) {
				q.AfterID, q.Limit = after, limit
				return tx.FindVolumes(ctx, q)
			},
			Key: func(v *Volume) string { return v.ID },
			Keep: func(vs []*Volume) ([]Described, error) {
				ids := make([]string, len(vs))
				for i, v := range vs {
					ids[i] = v.ID
					found[v.ID] = true
				}
				tags, err := tx.Tags(ctx, c.Region, c.Account, ids)
				if err != nil {
					return nil, err
				}
				var kept []Described
				for i, v := range vs {
					if err := resource.Poll(ctx, i); err != nil {
						return nil, err
					}
					d := Described{Volume: v, State: v.StateAt(now), Tags: tags[v.ID]}
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
		for _, id := range r.VolumeIDs {
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

// attachment is an attachment filter: one value of the volume's
// attachment, none without one.
func attachment(value func(*Attachment) string) resource.Field[row] {
	return func(v row, _ []resource.Tag) []string {
		if v.Attachment == nil {
			return nil
		}
		return []string{value(v.Attachment)}
	}
}
