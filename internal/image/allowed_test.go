package image

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func i32(v int32) *int32 { return &v }

func TestCriterionMatches(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	day := 24 * time.Hour
	amazon := &Image{ID: "ami-00000000000000001", OwnerID: "137112412989", OwnerAlias: "amazon",
		Name: "al2023-ami-2023.9-x86_64", CreationDate: now.Add(-10 * day)}
	canonical := &Image{ID: "ami-00000000000000002", OwnerID: "099720109477",
		Name: "ubuntu/images/noble-24.04", CreationDate: now.Add(-400 * day), DeprecationTime: ago(30 * day)}
	paid := &Image{ID: "ami-00000000000000003", OwnerID: "679593333241", OwnerAlias: "aws-marketplace",
		Name: "appliance-1.0", CreationDate: now.Add(-5 * day),
		ProductCodes: []ProductCode{{Code: "abc123", Type: "marketplace"}}}
	devpay := &Image{ID: "ami-00000000000000004", OwnerID: "111122223333", Name: "devpay-1.0", CreationDate: now,
		ProductCodes: []ProductCode{{Code: "abc123", Type: "devpay"}}}

	tests := []struct {
		name string
		c    ImageCriterion
		want []*Image // the images that match
	}{
		{"alias", ImageCriterion{ImageProviders: []string{"amazon"}}, []*Image{amazon}},
		{"account id", ImageCriterion{ImageProviders: []string{"099720109477"}}, []*Image{canonical}},
		{"alias or account", ImageCriterion{ImageProviders: []string{"aws-marketplace", "099720109477"}}, []*Image{canonical, paid}},
		{"none matches no one else", ImageCriterion{ImageProviders: []string{"none"}}, nil},
		{"name wildcard", ImageCriterion{ImageNames: []string{"al2023-ami-*"}}, []*Image{amazon}},
		{"name with ?", ImageCriterion{ImageNames: []string{"appliance-1.?"}}, []*Image{paid}},
		{"several names", ImageCriterion{ImageNames: []string{"ubuntu/*", "appliance-*"}}, []*Image{canonical, paid}},
		{"provider AND name", ImageCriterion{ImageProviders: []string{"amazon"}, ImageNames: []string{"ubuntu/*"}}, nil},
		{"marketplace code only", ImageCriterion{MarketplaceProductCodes: []string{"abc123"}}, []*Image{paid}},
		{"created within 30 days", ImageCriterion{MaximumDaysSinceCreated: i32(30)}, []*Image{amazon, paid, devpay}},
		{"created within 10 days, boundary included", ImageCriterion{MaximumDaysSinceCreated: i32(10)}, []*Image{amazon, paid, devpay}},
		{"created within 9 days", ImageCriterion{MaximumDaysSinceCreated: i32(9)}, []*Image{paid, devpay}},
		{"deprecated at most 60 days ago", ImageCriterion{MaximumDaysSinceDeprecated: i32(60)}, []*Image{amazon, canonical, paid, devpay}},
		{"deprecated at most 7 days ago", ImageCriterion{MaximumDaysSinceDeprecated: i32(7)}, []*Image{amazon, paid, devpay}},
		{"every field", ImageCriterion{ImageProviders: []string{"aws-marketplace"}, ImageNames: []string{"appliance-*"},
			MarketplaceProductCodes: []string{"abc123"}, MaximumDaysSinceCreated: i32(7), MaximumDaysSinceDeprecated: i32(0)}, []*Image{paid}},
	}
	all := []*Image{amazon, canonical, paid, devpay}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckCriteria([]ImageCriterion{tc.c}); err != nil {
				t.Fatalf("criterion rejected: %v", err)
			}
			cc := compileCriterion(tc.c)
			var got []*Image
			for _, img := range all {
				if cc.matches(img, now) {
					got = append(got, img)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("matched %v, want %v", names(got), names(tc.want))
			}
		})
	}
}

func names(imgs []*Image) []string {
	var out []string
	for _, img := range imgs {
		out = append(out, img.Name)
	}
	return out
}

func TestAllowedPolicy(t *testing.T) {
	now := time.Now()
	mine := &Image{OwnerID: "222233334444", Name: "mine"}
	amazon := &Image{OwnerID: "137112412989", OwnerAlias: "amazon", Name: "al2023"}
	other := &Image{OwnerID: "111122223333", Name: "other"}
	crit := []ImageCriterion{{ImageProviders: []string{"none"}}, {ImageProviders: []string{"amazon"}}}
	for _, tc := range []struct {
		state        string
		img          *Image
		hides        bool
		verdict      string // "-" for nil
		criteriaNone bool
	}{
		{AllowedDisabled, other, false, "-", false},
		{AllowedEnabled, other, true, "false", false},
		{AllowedEnabled, amazon, false, "true", false},
		{AllowedEnabled, mine, false, "true", false},
		{AllowedEnabled, amazon, true, "false", true}, // no criteria: only one's own
		{AllowedEnabled, mine, false, "true", true},
		{AllowedAuditMode, other, false, "false", false},
		{AllowedAuditMode, amazon, false, "true", false},
	} {
		cs := crit
		if tc.criteriaNone {
			cs = nil
		}
		p := newAllowedPolicy("222233334444", tc.state, cs, now)
		v := "-"
		if b := p.verdict(tc.img); b != nil {
			v = boolStr(*b)
		}
		if p.hides(tc.img) != tc.hides || v != tc.verdict {
			t.Errorf("%s, %s, no criteria=%v: hides=%v verdict=%s, want %v %s", tc.state, tc.img.Name, tc.criteriaNone, p.hides(tc.img), v, tc.hides, tc.verdict)
		}
	}
}

func TestCheckCriteria(t *testing.T) {
	many := func(n int, v string) []string { return slices.Repeat([]string{v}, n) }
	ok := []ImageCriterion{
		{ImageProviders: many(200, "amazon"), ImageNames: many(50, "a*"), MarketplaceProductCodes: many(50, "abc")},
		{ImageNames: []string{"a", "ab?", "My Image (1) [x] ./-'@_"}},
		{ImageProviders: []string{"none"}},
		{MaximumDaysSinceCreated: i32(0)},
	}
	if err := CheckCriteria(ok); err != nil {
		t.Fatalf("valid criteria rejected: %v", err)
	}
	for name, cs := range map[string][]ImageCriterion{
		"eleven criteria":         slices.Repeat([]ImageCriterion{{ImageProviders: []string{"amazon"}}}, 11),
		"empty criterion":         {{}},
		"201 providers":           {{ImageProviders: many(201, "amazon")}},
		"none with another":       {{ImageProviders: []string{"amazon", "none"}}},
		"short account":           {{ImageProviders: []string{"12345678901"}}},
		"unknown alias":           {{ImageProviders: []string{"self"}}},
		"51 names":                {{ImageNames: many(51, "a")}},
		"empty name":              {{ImageNames: []string{""}}},
		"long name":               {{ImageNames: []string{strings.Repeat("a", 129)}}},
		"? name under 3":          {{ImageNames: []string{"a?"}}},
		"name with a bad char":    {{ImageNames: []string{"a,b"}}},
		"51 codes":                {{MarketplaceProductCodes: many(51, "a")}},
		"long code":               {{MarketplaceProductCodes: []string{strings.Repeat("a", 26)}}},
		"code with a dash":        {{MarketplaceProductCodes: []string{"a-b"}}},
		"negative creation days":  {{MaximumDaysSinceCreated: i32(-1)}},
		"negative deprecate days": {{MaximumDaysSinceDeprecated: i32(-1)}},
	} {
		if got := codeOf(CheckCriteria(cs)); got != "InvalidParameterValue" {
			t.Errorf("%s: %q, want InvalidParameterValue", name, got)
		}
	}
}

func TestCriteriaRoundTrip(t *testing.T) {
	cs := []ImageCriterion{{ImageProviders: []string{"amazon"}, ImageNames: []string{"al2023-*"},
		MarketplaceProductCodes: []string{"abc"}, MaximumDaysSinceCreated: i32(3), MaximumDaysSinceDeprecated: i32(0)}}
	raw, err := encodeCriteria(cs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeCriteria(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || !slices.Equal(back[0].ImageNames, cs[0].ImageNames) || *back[0].MaximumDaysSinceCreated != 3 || *back[0].MaximumDaysSinceDeprecated != 0 {
		t.Fatalf("round trip: %+v", back)
	}
}
