package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/region"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// regionHandlers answer DescribeRegions and DescribeAvailabilityZones from
// the regions set serves.
type regionHandlers struct {
	set *region.Set
}

func (h *regionHandlers) describeRegions(_ context.Context, c resource.Caller, in *ec2api.DescribeRegionsRequest) (any, error) {
	rs, err := h.set.DescribeRegions(c.Authorize, region.RegionsQuery{
		Names: in.RegionNames, All: flag(in.AllRegions), Filters: filters(in.Filters), DryRun: flag(in.DryRun)})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeRegionsResult{Regions: make([]ec2api.Region, len(rs))}
	for i := range rs {
		r := &rs[i]
		out.Regions[i] = ec2api.Region{RegionName: &r.Name, Endpoint: &r.Endpoint, OptInStatus: &r.OptInStatus}
	}
	return out, nil
}

func (h *regionHandlers) describeAvailabilityZones(_ context.Context, c resource.Caller, in *ec2api.DescribeAvailabilityZonesRequest) (any, error) {
	zs, err := h.set.DescribeZones(c.Authorize, c.Region, region.ZonesQuery{
		Names: in.ZoneNames, IDs: in.ZoneIds, All: flag(in.AllAvailabilityZones), Filters: filters(in.Filters), DryRun: flag(in.DryRun)})
	if err != nil {
		return nil, err
	}
	state, typ, optIn := region.ZoneState, region.ZoneType, region.OptInNotRequired
	out := &ec2api.DescribeAvailabilityZonesResult{AvailabilityZones: make([]ec2api.AvailabilityZone, len(zs))}
	for i := range zs {
		z := &zs[i]
		out.AvailabilityZones[i] = ec2api.AvailabilityZone{
			OptInStatus: &optIn, Messages: []ec2api.AvailabilityZoneMessage{}, RegionName: &z.Region,
			ZoneName: &z.Name, ZoneId: &z.ID, GroupName: &z.GroupName, NetworkBorderGroup: &z.Region,
			ZoneType: &typ, GroupLongName: &z.GroupLongName, State: &state,
		}
	}
	return out, nil
}
