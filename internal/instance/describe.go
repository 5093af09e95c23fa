package instance

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// DescribeRequest is DescribeInstances' input.
type DescribeRequest struct {
	InstanceIDs []string
	Filters     []resource.Filter
	MaxResults  *int32
	NextToken   *string
	DryRun      bool
}

// fields are the DescribeInstances filters amigo knows.
var fields = map[string]resource.Field[*Instance]{
	"instance-id":         func(i *Instance, _ []resource.Tag) []string { return resource.One(i.ID) },
	"image-id":            func(i *Instance, _ []resource.Tag) []string { return resource.One(i.ImageID) },
	"instance-state-name": func(i *Instance, _ []resource.Tag) []string { return resource.One(i.State) },
	"instance-state-code": func(i *Instance, _ []resource.Tag) []string {
		return []string{strconv.Itoa(int(StateCode(i.State)))}
	},
	"instance-type":       func(i *Instance, _ []resource.Tag) []string { return resource.One(i.InstanceType) },
	"reservation-id":      func(i *Instance, _ []resource.Tag) []string { return resource.One(i.ReservationID) },
	"owner-id":            func(i *Instance, _ []resource.Tag) []string { return resource.One(i.OwnerID) },
	"architecture":        func(i *Instance, _ []resource.Tag) []string { return resource.One(i.Architecture) },
	"availability-zone":   func(i *Instance, _ []resource.Tag) []string { return resource.One(i.AvailabilityZone()) },
	"platform":            func(i *Instance, _ []resource.Tag) []string { return resource.One(i.Platform) },
	"root-device-name":    func(i *Instance, _ []resource.Tag) []string { return resource.One(i.RootDeviceName) },
	"root-device-type":    func(i *Instance, _ []resource.Tag) []string { return resource.One(i.RootDeviceType) },
	"virtualization-type": func(i *Instance, _ []resource.Tag) []string { return resource.One(i.VirtualizationType) },
	"hypervisor":          func(i *Instance, _ []resource.Tag) []string { return resource.One(i.Hypervisor) },
	"boot-mode":           func(i *Instance, _ []resource.Tag) []string { return resource.One(i.BootMode) },
	"kernel-id":           func(i *Instance, _ []resource.Tag) []string { return resource.One(i.KernelID) },
	"ramdisk-id":          func(i *Instance, _ []resource.Tag) []string { return resource.One(i.RamdiskID) },
	"metadata-options.http-tokens": func(i *Instance, _ []resource.Tag) []string {
		return resource.One(i.HttpTokens)
	},
	"metadata-options.http-put-response-hop-limit": func(i *Instance, _ []resource.Tag) []string {
		return []string{strconv.Itoa(int(i.HttpPutResponseHopLimit))}
	},
	"metadata-options.http-endpoint": func(i *Instance, _ []resource.Tag) []string { return resource.One(i.HttpEndpoint) },
	"block-device-mapping.device-name": func(i *Instance, _ []resource.Tag) []string {
		var out []string
		for _, m := range i.BlockDeviceMappings {
			out = append(out, m.DeviceName)
		}
		return out
	},
	"block-device-mapping.volume-id": attachedVolumes(func(v AttachedVolume) string { return v.VolumeID }),
	"block-device-mapping.status":    attachedVolumes(func(AttachedVolume) string { return "attached" }),
	"block-device-mapping.delete-on-termination": attachedVolumes(func(v AttachedVolume) string {
		return strconv.FormatBool(v.DeleteOnTermination)
	}),
	"block-device-mapping.attach-time": attachedVolumes(func(v AttachedVolume) string {
		return v.AttachTime.UTC().Format("2006-01-02T15:04:05.000Z")
	}),
	"tag-key": resource.TagKeys[*Instance],
}

// attachedVolumes is a block-device-mapping filter over the instance's
// attached EBS volumes: one value per volume.
func attachedVolumes(value func(AttachedVolume) string) resource.Field[*Instance] {
	return func(i *Instance, _ []resource.Tag) []string {
		var out []string
		for _, v := range i.Volumes() {
			out = append(out, value(v))
		}
		return out
	}
}

// DescribeInstances lists the caller's instances, grouped by reservation,
// in instance id order. Terminated instances show for an hour.
//
// Returns InvalidInstanceID.Malformed / .NotFound, InvalidParameterValue
// (filters, MaxResults, NextToken), InvalidParameterCombination,
// FilterLimitExceeded, UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeInstances(ctx context.Context, c resource.Caller, r *DescribeRequest) ([]Reservation, string, error) {
	p, err := s.plan(c, r)
	if err != nil {
		return nil, "", err
	}
	found := map[string]bool{}
	var kept []Described
	next := ""
	err = s.store.ViewInstances(ctx, func(tx Tx) error {
		clear(found)
		var err error
		kept, next, err = resource.List(ctx, s.images.Pages(), c, resource.Page{MaxResults: r.MaxResults, NextToken: r.NextToken}, p.listing(ctx, tx, c, found))
		if err != nil {
			return err
		}
		var missing []string
		for _, id := range r.InstanceIDs {
			if !found[id] && !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return errNotFound(missing...)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return groupReservations(kept), next, nil
}

// Streams reports whether DescribeInstances answers r as a stream
// (StreamInstances): without MaxResults and instance ids it lists every
// instance the caller owns in the region, however many.
func (r *DescribeRequest) Streams() bool {
	return r.MaxResults == nil && len(r.InstanceIDs) == 0
}

// errNotStreamed is a programming error: the caller did not ask Streams.
var errNotStreamed = errors.New("instance: StreamInstances called for a request that does not stream")

// StreamInstances is DescribeInstances for a request that Streams: the
// same checks and the same reservations in the same order, read a batch
// of instances at a time, each batch in its own short read transaction
// (resource.Stream).
//
// The one-piece answer lists each reservation where its first matching
// instance (in id order) falls, with all its matching instances, whose ids
// may be far apart. So a batch gathers, in its transaction, every
// matching instance of each reservation it meets, and lists the
// reservation only at the batch that holds that first instance: a
// reservation met again later starts before the batch and was listed. A
// batch thus holds one batch of instances and their reservations' others
// (RunInstances launches at most a few thousand at once).
//
// Returns the request's errors; the stream's Next returns the store's.
func (s *Service) StreamInstances(c resource.Caller, r *DescribeRequest) (*resource.Stream[Reservation], error) {
	if !r.Streams() {
		return nil, awserr.Internal(errNotStreamed)
	}
	p, err := s.plan(c, r)
	if err != nil {
		return nil, err
	}
	pg := resource.Page{NextToken: r.NextToken}
	return resource.NewStream(s.images.Pages(), c, pg, kind, p.criteria, func(ctx context.Context, after string, _, limit int) (rs []Reservation, found int, next string, err error) {
		err = s.store.ViewInstances(ctx, func(tx Tx) error {
			l := p.listing(ctx, tx, c, nil)
			cands, err := l.Fetch(after, limit)
			if err != nil {
				return err
			}
			found = len(cands)
			if found >= limit {
				next = cands[found-1].ID
			}
			kept, err := l.Keep(cands)
			if err != nil || len(kept) == 0 {
				return err
			}
			var ids []string
			for _, d := range kept {
				ids = append(ids, d.ReservationID)
			}
			q := p.q
			q.ReservationIDs = slices.Compact(slices.Sorted(slices.Values(ids)))
			members, err := tx.FindInstances(ctx, q)
			if err != nil {
				return err
			}
			all, err := l.Keep(members)
			if err != nil {
				return err
			}
			// first is each reservation's first matching instance.
			first := map[string]string{}
			for _, d := range all {
				if _, ok := first[d.ReservationID]; !ok {
					first[d.ReservationID] = d.ID
				}
			}
			lead := map[string]bool{} // reservations listed from this batch
			for _, d := range kept {
				if first[d.ReservationID] == d.ID {
					lead[d.ReservationID] = true
				}
			}
			var mine []Described
			for _, d := range all {
				if lead[d.ReservationID] {
					mine = append(mine, d)
				}
			}
			// Grouped in the order of the leads, which are in id order.
			rs = groupReservations(mine)
			return nil
		})
		return rs, found, next, err
	})
}

// kind names DescribeInstances' listing in its tokens.
const kind = "instances"

// describePlan is a checked DescribeInstances request.
type describePlan struct {
	s  *Service
	r  *DescribeRequest
	fs []resource.CompiledFilter[*Instance]
	q  Query
}

// plan checks r and the caller's permission.
func (s *Service) plan(c resource.Caller, r *DescribeRequest) (*describePlan, error) {
	for _, id := range r.InstanceIDs {
		if !validID(id) {
			return nil, errMalformed(id)
		}
	}
	if err := resource.CheckPage("instancesSet", len(r.InstanceIDs), r.MaxResults); err != nil {
		return nil, err
	}
	fs, err := resource.CompileFilters(r.Filters, fields)
	if err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "DescribeInstances", "*"); err != nil {
		return nil, err
	}
	if r.DryRun {
		return nil, awserr.DryRunOK()
	}
	return &describePlan{s: s, r: r, fs: fs,
		q: Query{Region: c.Region, OwnerID: c.Account, IDs: slices.Compact(slices.Sorted(slices.Values(r.InstanceIDs)))}}, nil
}

// criteria are what a page token binds.
func (p *describePlan) criteria(f *resource.Fingerprint) {
	f.Add(p.q.IDs...)
	f.AddFilters(p.r.Filters)
}

// listing is the request's listing over one transaction; found, when not
// nil, collects the ids of the instances the caller may see.
func (p *describePlan) listing(ctx context.Context, tx Tx, c resource.Caller, found map[string]bool) resource.Listing[*Instance, Described] {
	s := p.s
	return resource.Listing[*Instance, Described]{
		Kind:     kind,
		Criteria: p.criteria,
		Fetch: func(after string, limit int) ([]*Instance, error) {
			q := p.q
			q.AfterID, q.Limit = after, limit
			return tx.FindInstances(ctx, q)
		},
		Key: func(inst *Instance) string { return inst.ID },
		Keep: func(insts []*Instance) ([]Described, error) {
			var live []*Instance
			var ids []string
			for _, inst := range insts {
				if inst.OwnerID != c.Account || s.gone(inst) {
					continue
				}
				if found != nil {
					found[inst.ID] = true
				}
				live = append(live, s.settled(inst))
				ids = append(ids, inst.ID)
			}
			tags, err := tx.Tags(ctx, c.Region, c.Account, ids)
			if err != nil {
				return nil, err
			}
			var out []Described
			for i, inst := range live {
				if err := resource.Poll(ctx, i); err != nil {
					return nil, err
				}
				if resource.MatchAll(p.fs, inst, tags[inst.ID]) {
					out = append(out, Described{Instance: inst, Tags: tags[inst.ID]})
				}
			}
			return out, nil
		},
		ResultKey: func(d Described) string { return d.ID },
	}
}

// groupReservations puts instances under their reservations, in the order
// each reservation first appears.
func groupReservations(insts []Described) []Reservation {
	var out []Reservation
	at := map[string]int{}
	for _, d := range insts {
		i, ok := at[d.ReservationID]
		if !ok {
			i = len(out)
			at[d.ReservationID] = i
			out = append(out, Reservation{ID: d.ReservationID, OwnerID: d.OwnerID})
		}
		out[i].Instances = append(out[i].Instances, d)
	}
	return out
}
