// Package region answers DescribeRegions and DescribeAvailabilityZones from
// the built-in table of commercial Regions (internal/resource), narrowed to
// the Regions this amigo serves. It also decides which credential-scope
// Regions a request may be signed for.
package region

import (
	"fmt"
	"slices"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// Opt-in statuses (spec around-images §1.2).
const (
	OptInNotRequired = "opt-in-not-required"
	OptedIn          = "opted-in"
	NotOptedIn       = "not-opted-in"
)

// Set is the Regions an amigo serves. Every served Region is enabled for
// every account; a table Region that is not served reads as not-opted-in,
// which is how AWS shows a Region a request cannot be signed for. Immutable.
type Set struct {
	served map[string]bool
	names  []string // sorted
}

// NewSet returns the Set serving names, or every Region of the table when
// names is empty. A name that is not a commercial Region is an error.
func NewSet(names []string) (*Set, error) {
	if len(names) == 0 {
		names = resource.RegionNames()
	}
	s := &Set{served: make(map[string]bool, len(names))}
	var bad []string
	for _, n := range names {
		if _, ok := resource.LookupRegion(n); !ok {
			bad = append(bad, n)
			continue
		}
		if !s.served[n] {
			s.served[n] = true
			s.names = append(s.names, n)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("region: not commercial AWS Regions: %v (known: %v)", bad, resource.RegionNames())
	}
	slices.Sort(s.names)
	return s, nil
}

// All serves every Region of the table.
func All() *Set {
	s, err := NewSet(nil)
	if err != nil {
		panic(err) // the table's own names are valid
	}
	return s
}

// Serves reports whether requests may be signed for region.
func (s *Set) Serves(region string) bool { return s.served[region] }

// Names returns the served Regions, sorted.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// optInStatus is what DescribeRegions reports for r.
func (s *Set) optInStatus(r resource.Region) string {
	switch {
	case !s.served[r.Name]:
		return NotOptedIn
	case r.OptIn:
		return OptedIn
	}
	return OptInNotRequired
}

// RegionInfo is one DescribeRegions item.
type RegionInfo struct {
	Name, Endpoint, OptInStatus string
}

// Authorizer applies the caller's IAM policy to an action
// ("ec2:DescribeRegions") on a resource: nil when allowed, the
// UnauthorizedOperation to return otherwise. A nil Authorizer allows all.
type Authorizer func(action, resource string) error

// authorize runs the policy check, then answers a DryRun that got this far.
// Neither action supports resource-level permissions, so the resource is "*".
func authorize(a Authorizer, action string, dryRun bool) error {
	if a != nil {
		if err := a("ec2:"+action, "*"); err != nil {
			return err
		}
	}
	if dryRun {
		return awserr.DryRunOK()
	}
	return nil
}

// RegionsQuery is a DescribeRegions request.
type RegionsQuery struct {
	Names   []string
	All     bool
	Filters []resource.Filter
	DryRun  bool
}

var regionFields = map[string]resource.Field[RegionInfo]{
	"endpoint":      func(r RegionInfo, _ []resource.Tag) []string { return []string{r.Endpoint} },
	"opt-in-status": func(r RegionInfo, _ []resource.Tag) []string { return []string{r.OptInStatus} },
	"region-name":   func(r RegionInfo, _ []resource.Tag) []string { return []string{r.Name} },
}

// DescribeRegions lists Regions in name order: those named (served or not),
// else every Region of the table with All, else the served ones; then the
// filters narrow the list.
//
// Returns InvalidParameterValue for a name that is not a Region ("Invalid
// region: [name]", the first such) and for an unknown filter,
// FilterLimitExceeded, UnauthorizedOperation and DryRunOperation.
func (s *Set) DescribeRegions(auth Authorizer, q RegionsQuery) ([]RegionInfo, error) {
	fs, err := resource.CompileFilters(q.Filters, regionFields)
	if err != nil {
		return nil, err
	}
	if err := authorize(auth, "DescribeRegions", q.DryRun); err != nil {
		return nil, err
	}
	var cands []resource.Region
	switch {
	case len(q.Names) > 0:
		for _, n := range q.Names {
			r, ok := resource.LookupRegion(n)
			if !ok {
				return nil, awserr.InvalidParameterValue("Invalid region: [%s]", n)
			}
			if !slices.ContainsFunc(cands, func(c resource.Region) bool { return c.Name == n }) {
				cands = append(cands, r)
			}
		}
		slices.SortFunc(cands, func(a, b resource.Region) int { return strings.Compare(a.Name, b.Name) })
	case q.All:
		cands = resource.Regions
	default:
		for _, n := range s.names {
			r, _ := resource.LookupRegion(n)
			cands = append(cands, r)
		}
	}
	out := make([]RegionInfo, 0, len(cands))
	for _, r := range cands {
		info := RegionInfo{Name: r.Name, Endpoint: r.Endpoint(), OptInStatus: s.optInStatus(r)}
		if resource.MatchAll(fs, info, nil) {
			out = append(out, info)
		}
	}
	return out, nil
}

// ZoneInfo is one DescribeAvailabilityZones item: a standard Availability
// Zone, always available and opt-in-not-required.
type ZoneInfo struct {
	Name, ID, Region, GroupName, GroupLongName string
}

// Fixed attributes of every standard Availability Zone.
const (
	ZoneState = "available"
	ZoneType  = "availability-zone"
)

// ZonesQuery is a DescribeAvailabilityZones request.
type ZonesQuery struct {
	Names, IDs []string
	// All would add Local and Wavelength Zones not opted into; amigo
	// models only standard zones, so it changes nothing.
	All     bool
	Filters []resource.Filter
	DryRun  bool
}

var zoneFields = map[string]resource.Field[ZoneInfo]{
	"group-long-name":  func(z ZoneInfo, _ []resource.Tag) []string { return []string{z.GroupLongName} },
	"group-name":       func(z ZoneInfo, _ []resource.Tag) []string { return []string{z.GroupName} },
	"message":          func(ZoneInfo, []resource.Tag) []string { return nil },
	"opt-in-status":    func(ZoneInfo, []resource.Tag) []string { return []string{OptInNotRequired} },
	"parent-zone-id":   func(ZoneInfo, []resource.Tag) []string { return nil },
	"parent-zone-name": func(ZoneInfo, []resource.Tag) []string { return nil },
	"region-name":      func(z ZoneInfo, _ []resource.Tag) []string { return []string{z.Region} },
	"state":            func(ZoneInfo, []resource.Tag) []string { return []string{ZoneState} },
	"zone-id":          func(z ZoneInfo, _ []resource.Tag) []string { return []string{z.ID} },
	"zone-name":        func(z ZoneInfo, _ []resource.Tag) []string { return []string{z.Name} },
	"zone-type":        func(ZoneInfo, []resource.Tag) []string { return []string{ZoneType} },
}

// DescribeZones lists the Availability Zones of region (the request's own)
// in name order: the named ones (by name or AZ ID, the union), or all; then
// the filters narrow the list.
//
// Returns InvalidParameterValue for a zone name or AZ ID that is not one of
// the Region's ("Invalid availability zone: [name]", "Invalid availability
// zone-id: [id]") and for an unknown filter, FilterLimitExceeded,
// UnauthorizedOperation and DryRunOperation.
func (s *Set) DescribeZones(auth Authorizer, region string, q ZonesQuery) ([]ZoneInfo, error) {
	fs, err := resource.CompileFilters(q.Filters, zoneFields)
	if err != nil {
		return nil, err
	}
	if err := authorize(auth, "DescribeAvailabilityZones", q.DryRun); err != nil {
		return nil, err
	}
	r, ok := resource.LookupRegion(region)
	if !ok { // the edge only lets served Regions through
		return nil, awserr.Internal(fmt.Errorf("region: zones of unknown region %q", region))
	}
	want := make(map[string]bool)
	for _, n := range q.Names {
		if !slices.ContainsFunc(r.Zones, func(z resource.Zone) bool { return z.Name == n }) {
			return nil, awserr.InvalidParameterValue("Invalid availability zone: [%s]", n)
		}
		want[n] = true
	}
	for _, id := range q.IDs {
		i := slices.IndexFunc(r.Zones, func(z resource.Zone) bool { return z.ID == id })
		if i < 0 {
			return nil, awserr.InvalidParameterValue("Invalid availability zone-id: [%s]", id)
		}
		want[r.Zones[i].Name] = true
	}
	out := make([]ZoneInfo, 0, len(r.Zones))
	for _, z := range r.Zones {
		if len(want) > 0 && !want[z.Name] {
			continue
		}
		info := ZoneInfo{Name: z.Name, ID: z.ID, Region: r.Name, GroupName: r.GroupName(), GroupLongName: r.GroupLongName()}
		if resource.MatchAll(fs, info, nil) {
			out = append(out, info)
		}
	}
	return out, nil
}
