package instance

import (
	"context"
	"slices"
	"strconv"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// DescribeInstanceTypes and DescribeInstanceCreditSpecifications: the
// reads Terraform's aws_instance makes besides DescribeInstances, answered
// from the type table and the instances' launch settings.

// TypesRequest is DescribeInstanceTypes' input.
type TypesRequest struct {
	InstanceTypes []string
	Filters       []resource.Filter
	MaxResults    *int32
	NextToken     *string
	DryRun        bool
}

// defaultTypesPage is the page DescribeInstanceTypes answers without
// MaxResults, EC2's maximum.
const defaultTypesPage = 100

// typeFields are the DescribeInstanceTypes filters amigo can answer.
var typeFields = map[string]resource.Field[*TypeInfo]{
	"instance-type": func(t *TypeInfo, _ []resource.Tag) []string { return resource.One(t.Name) },
	"processor-info.supported-architecture": func(t *TypeInfo, _ []resource.Tag) []string {
		return t.Architectures
	},
	"burstable-performance-supported": func(t *TypeInfo, _ []resource.Tag) []string { return resource.One(boolText(t.Burstable)) },
	"current-generation":              func(t *TypeInfo, _ []resource.Tag) []string { return resource.One(boolText(t.CurrentGeneration)) },
	"bare-metal":                      func(t *TypeInfo, _ []resource.Tag) []string { return resource.One(boolText(t.BareMetal)) },
	"hypervisor":                      func(t *TypeInfo, _ []resource.Tag) []string { return resource.One(t.Hypervisor) },
	"vcpu-info.default-vcpus": func(t *TypeInfo, _ []resource.Tag) []string {
		return knownNumber(int64(t.VCPUs))
	},
	"memory-info.size-in-mib": func(t *TypeInfo, _ []resource.Tag) []string { return knownNumber(t.MemoryMiB) },
	"free-tier-eligible": func(t *TypeInfo, _ []resource.Tag) []string {
		return resource.One(boolText(FreeTierEligible(t.Name)))
	},
}

func knownNumber(n int64) []string {
	if n == 0 {
		return nil
	}
	return []string{strconv.FormatInt(n, 10)}
}

// FreeTierEligible reports the types of the AWS Free Tier.
func FreeTierEligible(name string) bool { return name == "t2.micro" || name == "t3.micro" }

// DescribeInstanceTypes lists instance types from the built-in table, by
// name or all of them, in name order.
//
// Returns InvalidInstanceType (unknown names), InvalidParameterValue
// (filters, MaxResults, NextToken), UnauthorizedOperation and
// DryRunOperation.
func (s *Service) DescribeInstanceTypes(ctx context.Context, c resource.Caller, r *TypesRequest) ([]TypeInfo, string, error) {
	var unknown []string
	for _, n := range r.InstanceTypes {
		if _, ok := LookupType(n); !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, "", awserr.Newf(awserr.CodeInvalidInstanceType, "The following supplied instance types do not exist: %v", unknown)
	}
	if m := r.MaxResults; m != nil && (*m < 5 || *m > defaultTypesPage) {
		return nil, "", awserr.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between 5 and %d.", *m, defaultTypesPage)
	}
	fs, err := resource.CompileFilters(r.Filters, typeFields)
	if err != nil {
		return nil, "", err
	}
	if err := resource.Authorize(c, "DescribeInstanceTypes", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	names := TypeNames()
	if len(r.InstanceTypes) > 0 {
		names = slices.Compact(slices.Sorted(slices.Values(r.InstanceTypes)))
	}
	page := r.MaxResults
	if page == nil {
		n := int32(defaultTypesPage)
		page = &n
	}
	return resource.List(ctx, s.images.Pages(), c, resource.Page{MaxResults: page, NextToken: r.NextToken}, resource.Listing[string, TypeInfo]{
		Kind: "instance-types",
		Criteria: func(f *resource.Fingerprint) {
			f.Add(r.InstanceTypes...)
			f.AddFilters(r.Filters)
		},
		Fetch: func(after string, limit int) ([]string, error) {
			i, _ := slices.BinarySearch(names, after)
			if i < len(names) && names[i] == after {
				i++
			}
			rest := names[i:]
			if limit > 0 && len(rest) > limit {
				rest = rest[:limit]
			}
			return rest, nil
		},
		Key: func(n string) string { return n },
		Keep: func(batch []string) ([]TypeInfo, error) {
			var out []TypeInfo
			for i, n := range batch {
				if err := resource.Poll(ctx, i); err != nil {
					return nil, err
				}
				t, _ := LookupType(n)
				if resource.MatchAll(fs, &t, nil) {
					out = append(out, t)
				}
			}
			return out, nil
		},
		ResultKey: func(t TypeInfo) string { return t.Name },
	})
}

// CreditsRequest is DescribeInstanceCreditSpecifications' input.
type CreditsRequest struct {
	InstanceIDs []string
	Filters     []resource.Filter
	MaxResults  *int32
	NextToken   *string
	DryRun      bool
}

// CreditSpecification is one instance's CPU credit option.
type CreditSpecification struct {
	InstanceID string
	CPUCredits string
}

var creditFields = map[string]resource.Field[*Instance]{
	"instance-id": func(i *Instance, _ []resource.Tag) []string { return resource.One(i.ID) },
}

// DescribeInstanceCreditSpecifications lists the CPU credit option of the
// caller's burstable instances (T2, T3, T3a, T4g): those named, or all that
// are not terminated.
//
// Returns InvalidInstanceID.Malformed / .NotFound, UnsupportedOperation (a
// named instance that is not burstable), InvalidParameterValue,
// InvalidParameterCombination, UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeInstanceCreditSpecifications(ctx context.Context, c resource.Caller, r *CreditsRequest) ([]CreditSpecification, string, error) {
	for _, id := range r.InstanceIDs {
		if !validID(id) {
			return nil, "", errMalformed(id)
		}
	}
	if err := resource.CheckPage("instancesSet", len(r.InstanceIDs), r.MaxResults); err != nil {
		return nil, "", err
	}
	fs, err := resource.CompileFilters(r.Filters, creditFields)
	if err != nil {
		return nil, "", err
	}
	if err := resource.Authorize(c, "DescribeInstanceCreditSpecifications", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	q := Query{Region: c.Region, OwnerID: c.Account, IDs: slices.Compact(slices.Sorted(slices.Values(r.InstanceIDs)))}
	found := map[string]bool{}
	var kept []CreditSpecification
	next := ""
	err = s.store.ViewInstances(ctx, func(tx Tx) error {
		clear(found)
		var err error
		kept, next, err = resource.List(ctx, s.images.Pages(), c, resource.Page{MaxResults: r.MaxResults, NextToken: r.NextToken}, resource.Listing[*Instance, CreditSpecification]{
			Kind: "instance-credit-specifications",
			Criteria: func(f *resource.Fingerprint) {
				f.Add(q.IDs...)
				f.AddFilters(r.Filters)
			},
			Fetch: func(after string, limit int) ([]*Instance, error) {
				q.AfterID, q.Limit = after, limit
				return tx.FindInstances(ctx, q)
			},
			Key: func(inst *Instance) string { return inst.ID },
			Keep: func(insts []*Instance) ([]CreditSpecification, error) {
				var out []CreditSpecification
				for i, inst := range insts {
					if err := resource.Poll(ctx, i); err != nil {
						return nil, err
					}
					if inst.OwnerID != c.Account || s.gone(inst) {
						continue
					}
					found[inst.ID] = true
					credits := inst.CPUCredits
					if t, ok := LookupType(inst.InstanceType); ok && t.Burstable && credits == "" {
						credits = defaultCPUCredits(t)
					}
					switch {
					case credits == "" && len(r.InstanceIDs) > 0:
						return nil, awserr.Newf(awserr.CodeUnsupportedOperation, "The instance ID '%s' is not a burstable performance instance.", inst.ID)
					case credits == "" || inst.State == StateTerminated && len(r.InstanceIDs) == 0:
						continue
					}
					if resource.MatchAll(fs, inst, nil) {
						out = append(out, CreditSpecification{InstanceID: inst.ID, CPUCredits: credits})
					}
				}
				return out, nil
			},
			ResultKey: func(cs CreditSpecification) string { return cs.InstanceID },
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
