package resource

import "sort"

// Region is one commercial AWS Region as amigo serves it (spec
// around-images §1.1): its name, long name, whether AWS makes accounts opt
// in to it, and its Availability Zones in name order.
type Region struct {
	Name     string // us-east-1
	LongName string // US East (N. Virginia)
	// OptIn marks the Regions launched after 20 March 2019, which AWS
	// leaves disabled until an account enables them.
	OptIn bool
	Zones []Zone
}

// Zone is one Availability Zone: the name an account sees and the AZ ID
// that names the physical zone in every account.
type Zone struct {
	Name string // us-east-1a
	ID   string // use1-az6
}

// Endpoint is the EC2 host name DescribeRegions reports: AWS's own, even
// when amigo answers, since clients compare only RegionName.
func (r Region) Endpoint() string { return "ec2." + r.Name + ".amazonaws.com" }

// GroupName is the zone group of the Region's Availability Zones.
func (r Region) GroupName() string { return r.Name + "-zg-1" }

// GroupLongName is GroupName for people: "US East (Ohio) 1".
func (r Region) GroupLongName() string { return r.LongName + " 1" }

// zones builds a Region's zones from letter→AZ-number pairs; the ID prefix
// follows AWS's rule (area, initials of the direction words, number).
func zones(region, prefix string, pairs ...string) []Zone {
	out := make([]Zone, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, Zone{Name: region + p[:1], ID: prefix + "-az" + p[1:]})
	}
	return out
}

// uniform is the mapping the spec recommends for the opt-in Regions, whose
// pairing is not published: a→az1, b→az2, c→az3.
func uniform(region, prefix string) []Zone { return zones(region, prefix, "a1", "b2", "c3") }

// Regions is every commercial Region, sorted by name. The zone-name → AZ-ID
// mapping is the fixed table of spec §1.4: AWS maps names per account in
// its oldest Regions; amigo gives every account the same, real, mapping.
var Regions = sortedRegions([]Region{
	// Enabled by default.
	{Name: "us-east-1", LongName: "US East (N. Virginia)", Zones: zones("us-east-1", "use1", "a6", "b1", "c2", "d4", "e3", "f5")},
	{Name: "us-east-2", LongName: "US East (Ohio)", Zones: zones("us-east-2", "use2", "a1", "b2", "c3")},
	{Name: "us-west-1", LongName: "US West (N. California)", Zones: zones("us-west-1", "usw1", "b3", "c1")},
	{Name: "us-west-2", LongName: "US West (Oregon)", Zones: zones("us-west-2", "usw2", "a2", "b1", "c3", "d4")},
	{Name: "ca-central-1", LongName: "Canada (Central)", Zones: zones("ca-central-1", "cac1", "a1", "b2", "d4")},
	{Name: "sa-east-1", LongName: "South America (Sao Paulo)", Zones: zones("sa-east-1", "sae1", "a1", "b2", "c3")},
	{Name: "eu-west-1", LongName: "Europe (Ireland)", Zones: zones("eu-west-1", "euw1", "a3", "b1", "c2")},
	{Name: "eu-west-2", LongName: "Europe (London)", Zones: zones("eu-west-2", "euw2", "a2", "b3", "c1")},
	{Name: "eu-west-3", LongName: "Europe (Paris)", Zones: zones("eu-west-3", "euw3", "a1", "b2", "c3")},
	{Name: "eu-central-1", LongName: "Europe (Frankfurt)", Zones: zones("eu-central-1", "euc1", "a2", "b3", "c1")},
	{Name: "eu-north-1", LongName: "Europe (Stockholm)", Zones: zones("eu-north-1", "eun1", "a1", "b2", "c3")},
	{Name: "ap-south-1", LongName: "Asia Pacific (Mumbai)", Zones: zones("ap-south-1", "aps1", "a1", "b3", "c2")},
	{Name: "ap-northeast-1", LongName: "Asia Pacific (Tokyo)", Zones: zones("ap-northeast-1", "apne1", "a4", "c1", "d2")},
	{Name: "ap-northeast-2", LongName: "Asia Pacific (Seoul)", Zones: zones("ap-northeast-2", "apne2", "a1", "b2", "c3", "d4")},
	{Name: "ap-northeast-3", LongName: "Asia Pacific (Osaka)", Zones: zones("ap-northeast-3", "apne3", "a1", "b2", "c3")},
	{Name: "ap-southeast-1", LongName: "Asia Pacific (Singapore)", Zones: zones("ap-southeast-1", "apse1", "a1", "b2", "c3")},
	{Name: "ap-southeast-2", LongName: "Asia Pacific (Sydney)", Zones: zones("ap-southeast-2", "apse2", "a1", "b3", "c2")},

	// Opt-in.
	{Name: "af-south-1", LongName: "Africa (Cape Town)", OptIn: true, Zones: uniform("af-south-1", "afs1")},
	{Name: "ap-east-1", LongName: "Asia Pacific (Hong Kong)", OptIn: true, Zones: uniform("ap-east-1", "ape1")},
	{Name: "ap-east-2", LongName: "Asia Pacific (Taipei)", OptIn: true, Zones: uniform("ap-east-2", "ape2")},
	{Name: "ap-south-2", LongName: "Asia Pacific (Hyderabad)", OptIn: true, Zones: uniform("ap-south-2", "aps2")},
	{Name: "ap-southeast-3", LongName: "Asia Pacific (Jakarta)", OptIn: true, Zones: uniform("ap-southeast-3", "apse3")},
	{Name: "ap-southeast-4", LongName: "Asia Pacific (Melbourne)", OptIn: true, Zones: uniform("ap-southeast-4", "apse4")},
	{Name: "ap-southeast-5", LongName: "Asia Pacific (Malaysia)", OptIn: true, Zones: uniform("ap-southeast-5", "apse5")},
	{Name: "ap-southeast-6", LongName: "Asia Pacific (New Zealand)", OptIn: true, Zones: uniform("ap-southeast-6", "apse6")},
	{Name: "ap-southeast-7", LongName: "Asia Pacific (Thailand)", OptIn: true, Zones: uniform("ap-southeast-7", "apse7")},
	{Name: "ca-west-1", LongName: "Canada West (Calgary)", OptIn: true, Zones: uniform("ca-west-1", "caw1")},
	{Name: "eu-central-2", LongName: "Europe (Zurich)", OptIn: true, Zones: uniform("eu-central-2", "euc2")},
	{Name: "eu-south-1", LongName: "Europe (Milan)", OptIn: true, Zones: uniform("eu-south-1", "eus1")},
	{Name: "eu-south-2", LongName: "Europe (Spain)", OptIn: true, Zones: uniform("eu-south-2", "eus2")},
	{Name: "il-central-1", LongName: "Israel (Tel Aviv)", OptIn: true, Zones: uniform("il-central-1", "ilc1")},
	{Name: "me-central-1", LongName: "Middle East (UAE)", OptIn: true, Zones: uniform("me-central-1", "mec1")},
	{Name: "me-south-1", LongName: "Middle East (Bahrain)", OptIn: true, Zones: uniform("me-south-1", "mes1")},
	{Name: "mx-central-1", LongName: "Mexico (Central)", OptIn: true, Zones: uniform("mx-central-1", "mxc1")},
})

var regionIndex = func() map[string]int {
	m := make(map[string]int, len(Regions))
	for i, r := range Regions {
		m[r.Name] = i
	}
	return m
}()

func sortedRegions(rs []Region) []Region {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	return rs
}

// LookupRegion returns the commercial Region with this name.
func LookupRegion(name string) (Region, bool) {
	i, ok := regionIndex[name]
	if !ok {
		return Region{}, false
	}
	return Regions[i], true
}

// RegionNames returns every Region's name, sorted.
func RegionNames() []string {
	out := make([]string, len(Regions))
	for i, r := range Regions {
		out[i] = r.Name
	}
	return out
}
