package region

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func code(err error) string {
	if err == nil {
		return ""
	}
	return awserr.From(err).Code + ": " + awserr.From(err).Message
}

func TestNewSet(t *testing.T) {
	s, err := NewSet([]string{"eu-west-1", "us-east-1", "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"eu-west-1", "us-east-1"}, s.Names()); d != "" {
		t.Error(d)
	}
	if !s.Serves("us-east-1") || s.Serves("us-west-2") || s.Serves("us-est-1") {
		t.Error("Serves")
	}
	if _, err := NewSet([]string{"us-east-1", "us-est-1"}); err == nil {
		t.Error("unknown region accepted")
	}
	if n := len(All().Names()); n != 34 {
		t.Errorf("All serves %d", n)
	}
}

func TestDescribeRegions(t *testing.T) {
	s, _ := NewSet([]string{"us-east-1", "eu-west-1", "af-south-1"})
	f := func(name string, vs ...string) resource.Filter { return resource.Filter{Name: &name, Values: vs} }
	cases := []struct {
		name string
		q    RegionsQuery
		want []string // name/status
		err  string
	}{
		{"served", RegionsQuery{}, []string{"af-south-1/opted-in", "eu-west-1/opt-in-not-required", "us-east-1/opt-in-not-required"}, ""},
		{"named, served or not", RegionsQuery{Names: []string{"us-west-2", "us-east-1", "us-west-2"}}, []string{"us-east-1/opt-in-not-required", "us-west-2/not-opted-in"}, ""},
		{"all then filter", RegionsQuery{All: true, Filters: []resource.Filter{f("region-name", "me-*", "il-central-?"), f("opt-in-status", "not-opted-in")}},
			[]string{"il-central-1/not-opted-in", "me-central-1/not-opted-in", "me-south-1/not-opted-in"}, ""},
		{"not opted in without All", RegionsQuery{Filters: []resource.Filter{f("opt-in-status", "not-opted-in")}}, []string{}, ""},
		{"endpoint", RegionsQuery{Filters: []resource.Filter{f("endpoint", "ec2.eu-*")}}, []string{"eu-west-1/opt-in-not-required"}, ""},
		{"escaped star matches nothing", RegionsQuery{Filters: []resource.Filter{f("region-name", `us-\*`)}}, []string{}, ""},
		{"bad name", RegionsQuery{Names: []string{"us-east-1", "moon-1", "mars-1"}}, nil, "InvalidParameterValue: Invalid region: [moon-1]"},
		{"bad filter", RegionsQuery{Filters: []resource.Filter{f("zone-name", "x")}}, nil, "InvalidParameterValue: The filter 'zone-name' is invalid"},
		{"dry run", RegionsQuery{DryRun: true}, nil, "DryRunOperation: Request would have succeeded, but DryRun flag is set."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := s.DescribeRegions(nil, tc.q)
			if code(err) != tc.err {
				t.Fatalf("error %q, want %q", code(err), tc.err)
			}
			if err != nil {
				return
			}
			got := []string{}
			for _, r := range rs {
				got = append(got, r.Name+"/"+r.OptInStatus)
				if r.Endpoint != "ec2."+r.Name+".amazonaws.com" {
					t.Errorf("endpoint %s", r.Endpoint)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestDescribeRegionsAuthorizer(t *testing.T) {
	deny := awserr.New("UnauthorizedOperation", "no")
	var asked []string
	auth := func(action, resource string) error {
		asked = append(asked, action+" "+resource)
		return deny
	}
	if _, err := All().DescribeRegions(auth, RegionsQuery{DryRun: true}); err != deny {
		t.Fatalf("got %v", err)
	}
	if _, err := All().DescribeZones(auth, "us-east-1", ZonesQuery{}); err != deny {
		t.Fatalf("got %v", err)
	}
	if d := cmp.Diff([]string{"ec2:DescribeRegions *", "ec2:DescribeAvailabilityZones *"}, asked); d != "" {
		t.Error(d)
	}
}

func TestDescribeZones(t *testing.T) {
	s := All()
	f := func(name string, vs ...string) resource.Filter { return resource.Filter{Name: &name, Values: vs} }
	cases := []struct {
		name, region string
		q            ZonesQuery
		want         []string // name/id
		err          string
	}{
		{"all of us-west-1", "us-west-1", ZonesQuery{}, []string{"us-west-1b/usw1-az3", "us-west-1c/usw1-az1"}, ""},
		{"union of names and ids", "us-east-1", ZonesQuery{Names: []string{"us-east-1f"}, IDs: []string{"use1-az6", "use1-az5"}}, []string{"us-east-1a/use1-az6", "us-east-1f/use1-az5"}, ""},
		{"opt-in region", "mx-central-1", ZonesQuery{All: true}, []string{"mx-central-1a/mxc1-az1", "mx-central-1b/mxc1-az2", "mx-central-1c/mxc1-az3"}, ""},
		{"filters", "ap-northeast-1", ZonesQuery{Filters: []resource.Filter{f("state", "available"), f("zone-type", "availability-zone"), f("group-long-name", "Asia Pacific (Tokyo) 1"), f("zone-id", "apne1-az1", "apne1-az2")}},
			[]string{"ap-northeast-1c/apne1-az1", "ap-northeast-1d/apne1-az2"}, ""},
		{"message matches nothing", "us-east-1", ZonesQuery{Filters: []resource.Filter{f("message", "*")}}, []string{}, ""},
		{"parent zone matches nothing", "us-east-1", ZonesQuery{Filters: []resource.Filter{f("parent-zone-name", "*")}}, []string{}, ""},
		{"other region", "us-east-1", ZonesQuery{Filters: []resource.Filter{f("region-name", "us-east-2")}}, []string{}, ""},
		{"zone of another region", "us-east-1", ZonesQuery{Names: []string{"us-east-2a"}}, nil, "InvalidParameterValue: Invalid availability zone: [us-east-2a]"},
		{"unknown id", "us-east-1", ZonesQuery{IDs: []string{"use2-az1"}}, nil, "InvalidParameterValue: Invalid availability zone-id: [use2-az1]"},
		{"unknown filter", "us-east-1", ZonesQuery{Filters: []resource.Filter{f("endpoint", "x")}}, nil, "InvalidParameterValue: The filter 'endpoint' is invalid"},
		{"empty filter name", "us-east-1", ZonesQuery{Filters: []resource.Filter{f("", "x")}}, nil, "InvalidParameterValue: The filter 'null' is invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			zs, err := s.DescribeZones(nil, tc.region, tc.q)
			if code(err) != tc.err {
				t.Fatalf("error %q, want %q", code(err), tc.err)
			}
			if err != nil {
				return
			}
			got := []string{}
			for _, z := range zs {
				got = append(got, z.Name+"/"+z.ID)
				if z.Region != tc.region || z.GroupName != tc.region+"-zg-1" {
					t.Errorf("zone %+v", z)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestFilterLimits(t *testing.T) {
	name := "region-name"
	many := make([]resource.Filter, resource.MaxFilters+1)
	for i := range many {
		many[i] = resource.Filter{Name: &name, Values: []string{"*"}}
	}
	if _, err := All().DescribeRegions(nil, RegionsQuery{Filters: many}); code(err) == "" || awserr.From(err).Code != awserr.CodeFilterLimitExceeded {
		t.Errorf("filters: %v", err)
	}
	vals := make([]string, resource.MaxValuesPerFilter+1)
	if _, err := All().DescribeRegions(nil, RegionsQuery{Filters: []resource.Filter{{Name: &name, Values: vals}}}); code(err) == "" || awserr.From(err).Code != awserr.CodeFilterLimitExceeded {
		t.Errorf("values: %v", err)
	}
}
