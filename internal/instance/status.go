package instance

import (
	"context"
	"slices"
	"strconv"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// StatusRequest is DescribeInstanceStatus' input.
type StatusRequest struct {
	InstanceIDs         []string
	IncludeAllInstances bool
	Filters             []resource.Filter
	MaxResults          *int32
	NextToken           *string
	DryRun              bool
}

// Status is one InstanceStatus: the instance, its state, and the instance
// and system checks (both the same in amigo; Reachability "" means no
// detail).
type Status struct {
	*Instance
	Summary      string
	Reachability string
}

// maxStatusIDs is the model's limit of InstanceId.N per call.
const maxStatusIDs = 100

// statusFields are the DescribeInstanceStatus filters amigo can answer;
// the event and operator ones match nothing (amigo schedules no events and
// no instance is managed).
var statusFields = map[string]resource.Field[*Status]{
	"availability-zone":    func(s *Status, _ []resource.Tag) []string { return resource.One(s.AvailabilityZone()) },
	"availability-zone-id": func(s *Status, _ []resource.Tag) []string { return resource.One(s.AvailabilityZoneID()) },
	"instance-state-name":  func(s *Status, _ []resource.Tag) []string { return resource.One(s.State) },
	"instance-state-code": func(s *Status, _ []resource.Tag) []string {
		return []string{strconv.Itoa(int(StateCode(s.State)))}
	},
	"instance-status.status":       func(s *Status, _ []resource.Tag) []string { return resource.One(s.Summary) },
	"system-status.status":         func(s *Status, _ []resource.Tag) []string { return resource.One(s.Summary) },
	"instance-status.reachability": func(s *Status, _ []resource.Tag) []string { return resource.One(s.Reachability) },
	"system-status.reachability":   func(s *Status, _ []resource.Tag) []string { return resource.One(s.Reachability) },
	"attached-ebs-status.status":   func(*Status, []resource.Tag) []string { return nil },
	"event.code":                   func(*Status, []resource.Tag) []string { return nil },
	"event.description":            func(*Status, []resource.Tag) []string { return nil },
	"event.instance-event-id":      func(*Status, []resource.Tag) []string { return nil },
	"event.not-after":              func(*Status, []resource.Tag) []string { return nil },
	"event.not-before":             func(*Status, []resource.Tag) []string { return nil },
	"event.not-before-deadline":    func(*Status, []resource.Tag) []string { return nil },
	"operator.managed":             func(*Status, []resource.Tag) []string { return resource.One("false") },
	"operator.principal":           func(*Status, []resource.Tag) []string { return nil },
}

// DescribeInstanceStatus lists the status of the caller's running
// instances, or of all of them with IncludeAllInstances (spec §3.8). An
// instance listed by id that is not running is left out unless
// IncludeAllInstances; status checks are initializing for the pending delay
// after an instance reaches running, then ok.
//
// Returns InvalidInstanceID.Malformed / .NotFound, InvalidParameterValue
// (filters, MaxResults, NextToken, more than 100 ids),
// InvalidParameterCombination, UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeInstanceStatus(ctx context.Context, c resource.Caller, r *StatusRequest) ([]Status, string, error) {
	for _, id := range r.InstanceIDs {
		if !validID(id) {
			return nil, "", errMalformed(id)
		}
	}
	if len(r.InstanceIDs) > maxStatusIDs {
		return nil, "", awserr.InvalidParameterValue("The maximum number of instance IDs per request (%d) has been exceeded.", maxStatusIDs)
	}
	if err := resource.CheckPage("instancesSet", len(r.InstanceIDs), r.MaxResults); err != nil {
		return nil, "", err
	}
	fs, err := resource.CompileFilters(r.Filters, statusFields)
	if err != nil {
		return nil, "", err
	}
	if err := resource.Authorize(c, "DescribeInstanceStatus", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	q := Query{Region: c.Region, OwnerID: c.Account, IDs: slices.Compact(slices.Sorted(slices.Values(r.InstanceIDs)))}
	found := map[string]bool{}
	var kept []Status
	next := ""
	err = s.store.ViewInstances(ctx, func(tx Tx) error {
		clear(found)
		var err error
		kept, next, err = resource.List(ctx, s.images.Pages(), c, resource.Page{MaxResults: r.MaxResults, NextToken: r.NextToken}, resource.Listing[*Instance, Status]{
			Kind: "instance-status",
			Criteria: func(f *resource.Fingerprint) {
				f.Add(strconv.FormatBool(r.IncludeAllInstances))
				f.Add(q.IDs...)
				f.AddFilters(r.Filters)
			},
			Fetch: func(after string, limit int) ([]*Instance, error) {
				q.AfterID, q.Limit = after, limit
				return tx.FindInstances(ctx, q)
			},
			Key: func(inst *Instance) string { return inst.ID },
			Keep: func(insts []*Instance) ([]Status, error) {
				var out []Status
				for i, inst := range insts {
					if err := resource.Poll(ctx, i); err != nil {
						return nil, err
					}
					if inst.OwnerID != c.Account || s.gone(inst) {
						continue
					}
					found[inst.ID] = true
					inst = s.settled(inst)
					if inst.State != StateRunning && !r.IncludeAllInstances {
						continue
					}
					st := Status{Instance: inst}
					st.Summary, st.Reachability = inst.life().Checks(s.now(), s.opts.Delays.Pending)
					if resource.MatchAll(fs, &st, nil) {
						out = append(out, st)
					}
				}
				return out, nil
			},
			ResultKey: func(st Status) string { return st.ID },
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
	return kept, next, nil
}
