package instance

import (
	"context"
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
	for _, id := range r.InstanceIDs {
		if !validID(id) {
			return nil, "", errMalformed(id)
		}
	}
	if err := resource.CheckPage("instancesSet", len(r.InstanceIDs), r.MaxResults); err != nil {
		return nil, "", err
	}
	fs, err := resource.CompileFilters(r.Filters, fields)
	if err != nil {
		return nil, "", err
	}
	if err := resource.Authorize(c, "DescribeInstances", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	q := Query{Region: c.Region, OwnerID: c.Account, IDs: slices.Compact(slices.Sorted(slices.Values(r.InstanceIDs)))}
	found := map[string]bool{}
	var kept []Described
	next := ""
	err = s.store.ViewInstances(ctx, func(tx Tx) error {
		clear(found)
		var err error
		kept, next, err = resource.List(ctx, s.images.Pages(), c, resource.Page{MaxResults: r.MaxResults, NextToken: r.NextToken}, resource.Listing[*Instance, Described]{
			Kind: "instances",
			Criteria: func(f *resource.Fingerprint) {
				f.Add(q.IDs...)
				f.AddFilters(r.Filters)
			},
			Fetch: func(after string, limit int) ([]*Instance, error) {
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
					found[inst.ID] = true
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
					if resource.MatchAll(fs, inst, tags[inst.ID]) {
						out = append(out, Described{Instance: inst, Tags: tags[inst.ID]})
					}
				}
				return out, nil
			},
			ResultKey: func(d Described) string { return d.ID },
		})
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
