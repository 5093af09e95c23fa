package resource

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRegionTable(t *testing.T) {
	if len(Regions) != 34 {
		t.Fatalf("%d regions, want the 34 commercial ones", len(Regions))
	}
	optIn := 0
	seenIDs := map[string]string{}
	zoneID := regexp.MustCompile(`^[a-z]{3,5}[0-9]-az[0-9]$`)
	for i, r := range Regions {
		if i > 0 && Regions[i-1].Name >= r.Name {
			t.Errorf("not sorted at %s", r.Name)
		}
		if r.OptIn {
			optIn++
		}
		if len(r.Zones) < 2 || r.LongName == "" {
			t.Errorf("%s: %d zones, long name %q", r.Name, len(r.Zones), r.LongName)
		}
		prefix := ""
		for j, z := range r.Zones {
			if !strings.HasPrefix(z.Name, r.Name) || len(z.Name) != len(r.Name)+1 {
				t.Errorf("%s: zone name %s", r.Name, z.Name)
			}
			if j > 0 && r.Zones[j-1].Name >= z.Name {
				t.Errorf("%s: zones not in name order", r.Name)
			}
			if !zoneID.MatchString(z.ID) {
				t.Errorf("%s: zone id %s", r.Name, z.ID)
			}
			p, _, _ := strings.Cut(z.ID, "-")
			if prefix != "" && p != prefix {
				t.Errorf("%s: zone id prefixes %s and %s", r.Name, prefix, p)
			}
			prefix = p
			if other, dup := seenIDs[z.ID]; dup {
				t.Errorf("zone id %s in %s and %s", z.ID, other, r.Name)
			}
			seenIDs[z.ID] = r.Name
		}
	}
	if optIn != 17 {
		t.Errorf("%d opt-in regions, want 17", optIn)
	}
}

func TestLookupRegion(t *testing.T) {
	r, ok := LookupRegion("us-east-2")
	if !ok || r.LongName != "US East (Ohio)" || r.Endpoint() != "ec2.us-east-2.amazonaws.com" ||
		r.GroupName() != "us-east-2-zg-1" || r.GroupLongName() != "US East (Ohio) 1" {
		t.Fatalf("us-east-2: %+v", r)
	}
	for _, bad := range []string{"", "us-est-1", "US-EAST-1", "cn-north-1", "us-gov-west-1"} {
		if _, ok := LookupRegion(bad); ok {
			t.Errorf("%q found", bad)
		}
	}
	if names := RegionNames(); !slices.IsSorted(names) || len(names) != len(Regions) {
		t.Errorf("RegionNames %v", names)
	}
}
