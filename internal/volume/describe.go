package volume

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

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
	p, err := s.plan(c, r)
	if err != nil {
		return nil, "", err
	}
	return resource.ListByIDs(ctx, s.pages, c, r.Page, s.store.ViewVolumes, func(tx Tx, found map[string]bool) resource.Listing[*Volume, Described] {
		return p.listing(ctx, tx, c, found)
	}, r.VolumeIDs, ErrNotFound)
}

// Streams reports whether DescribeVolumes answers r as a stream
// (StreamVolumes): without MaxResults and volume ids it lists every volume
// the caller owns in the region, however many.
func (r *DescribeRequest) Streams() bool {
	return r.MaxResults == nil && len(r.VolumeIDs) == 0
}

// StreamVolumes is DescribeVolumes for a request that Streams: the same
// checks and the same volumes in the same order, read a batch at a time,
// each batch in its own short read transaction (resource.StreamList).
// Returns the request's errors; the stream's Next returns the store's.
func (s *Service) StreamVolumes(c resource.Caller, r *DescribeRequest) (*resource.Stream[Described], error) {
	if !r.Streams() {
		return nil, awserr.Internal(errNotStreamed)
	}
	p, err := s.plan(c, r)
	if err != nil {
		return nil, err
	}
	return resource.StreamList(s.pages, c, r.Page, kind, p.criteria, s.store.ViewVolumes, func(ctx context.Context, tx Tx) resource.Listing[*Volume, Described] {
		return p.listing(ctx, tx, c, nil)
	})
}

// errNotStreamed is a programming error: the caller did not ask Streams.
var errNotStreamed = errors.New("volume: StreamVolumes called for a request that does not stream")

// kind names DescribeVolumes' listing in its tokens.
const kind = "volumes"

// describePlan is a checked DescribeVolumes request.
type describePlan struct {
	r   *DescribeRequest
	fs  []resource.CompiledFilter[row]
	q   Query
	now time.Time
}

// plan checks r and the caller's permission.
func (s *Service) plan(c resource.Caller, r *DescribeRequest) (*describePlan, error) {
	for _, id := range r.VolumeIDs {
		if !ValidID(id) {
			return nil, ErrMalformed(id)
		}
	}
	if err := resource.CheckPage("volumeSet", len(r.VolumeIDs), r.MaxResults); err != nil {
		return nil, err
	}
	fs, err := resource.CompileFilters(r.Filters, fields)
	if err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "DescribeVolumes", "*"); err != nil {
		return nil, err
	}
	if r.DryRun {
		return nil, awserr.DryRunOK()
	}
	return &describePlan{r: r, fs: fs, now: s.now(),
		q: Query{Region: c.Region, OwnerID: c.Account, IDs: slices.Compact(slices.Sorted(slices.Values(r.VolumeIDs)))}}, nil
}

// criteria are what a page token binds.
func (p *describePlan) criteria(f *resource.Fingerprint) {
	f.Add(p.q.IDs...)
	f.AddFilters(p.r.Filters)
}

// listing is the request's listing over one transaction; found, when not
// nil, collects the ids of the volumes read.
func (p *describePlan) listing(ctx context.Context, tx Tx, c resource.Caller, found map[string]bool) resource.Listing[*Volume, Described] {
	return resource.Listing[*Volume, Described]{
		Kind:     kind,
		Criteria: p.criteria,
		Fetch: func(after string, limit int) ([]*Volume, error) {
			q := p.q
			q.AfterID, q.Limit = after, limit
			return tx.FindVolumes(ctx, q)
		},
		Key: func(v *Volume) string { return v.ID },
		Keep: func(vs []*Volume) ([]Described, error) {
			ids := make([]string, len(vs))
			for i, v := range vs {
				ids[i] = v.ID
				if found != nil {
					found[v.ID] = true
				}
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
				d := Described{Volume: v, State: v.StateAt(p.now), Tags: tags[v.ID]}
				if resource.MatchAll(p.fs, d, d.Tags) {
					kept = append(kept, d)
				}
			}
			return kept, nil
		},
		ResultKey: func(d Described) string { return d.ID },
	}
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
