package e2e

import (
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/catalog"
)

func TestAllowedImages(t *testing.T) {
	e := startEnv(t, func(c *app.Config) {
		c.Catalog = []catalog.Entry{
			{Name: "al2023-ami-allowed-x86_64", OwnerID: "137112412989", OwnerAlias: "amazon", CreationDate: "2026-10-01T00:00:00Z"},
			{Name: "ubuntu-noble-24.04-amd64", OwnerID: "099720109477", CreationDate: "2026-10-01T00:00:00Z"},
		}
		c.CatalogRegions = []string{region}
	})
	mc := e.client(member)
	catalogID := func(name string) string {
		t.Helper()
		ids := e.visibleIDs(member, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{name}}}})
		if len(ids) != 1 {
			t.Fatalf("%s: %v", name, ids)
		}
		return ids[0]
	}
	amazon, ubuntu := catalogID("al2023-ami-allowed-x86_64"), catalogID("ubuntu-noble-24.04-amd64")
	shared := e.register(owner, "shared-with-member")
	grant(t, e, shared, ec2types.LaunchPermission{UserId: aws.String(member)}, false)
	own := e.register(member, "members-own")

	// allowed maps every image the member lists to its imageAllowed ("-" when absent).
	allowed := func(in *ec2.DescribeImagesInput) map[string]string {
		t.Helper()
		out := must[*ec2.DescribeImagesOutput](t)(mc.DescribeImages(ctx, in))
		got := map[string]string{}
		for _, img := range out.Images {
			v := "-"
			if img.ImageAllowed != nil {
				v = map[bool]string{true: "true", false: "false"}[*img.ImageAllowed]
			}
			got[*img.ImageId] = v
		}
		return got
	}
	settings := must[*ec2.GetAllowedImagesSettingsOutput](t)(mc.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{}))
	if aws.ToString(settings.State) != "disabled" || settings.ManagedBy != "account" || len(settings.ImageCriteria) != 0 {
		t.Fatalf("initial settings %+v", settings)
	}
	if got := allowed(&ec2.DescribeImagesInput{}); got[amazon] != "-" || got[shared] != "-" {
		t.Fatalf("disabled: imageAllowed shown %v", got)
	}

	criteria := []ec2types.ImageCriterionRequest{
		{ImageProviders: []string{"amazon"}},
		{ImageProviders: []string{"099720109477"}, ImageNames: []string{"debian-*"}},
	}
	must[*ec2.ReplaceImageCriteriaInAllowedImagesSettingsOutput](t)(mc.ReplaceImageCriteriaInAllowedImagesSettings(ctx,
		&ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{ImageCriteria: criteria}))
	settings = must[*ec2.GetAllowedImagesSettingsOutput](t)(mc.GetAllowedImagesSettings(ctx, &ec2.GetAllowedImagesSettingsInput{}))
	if len(settings.ImageCriteria) != 2 || !slices.Equal(settings.ImageCriteria[1].ImageNames, []string{"debian-*"}) ||
		!slices.Equal(settings.ImageCriteria[0].ImageProviders, []string{"amazon"}) {
		t.Fatalf("criteria round trip: %+v", settings.ImageCriteria)
	}

	// enabled: own images and matching ones only, each imageAllowed=true.
	st := must[*ec2.EnableAllowedImagesSettingsOutput](t)(mc.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: "enabled"}))
	if st.AllowedImagesSettingsState != "enabled" {
		t.Fatalf("enable answered %q", st.AllowedImagesSettingsState)
	}
	if got := allowed(&ec2.DescribeImagesInput{}); !equalMap(got, map[string]string{amazon: "true", own: "true"}) {
		t.Fatalf("enabled: %v", got)
	}
	_, err := mc.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{shared}})
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
	_, err = e.run(member, shared, 1)
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
	e.launch(member, amazon, 1)
	e.launch(member, own, 1)
	// The setting is the member's: the owner sees and launches as before.
	if got := e.visibleIDs(owner, &ec2.DescribeImagesInput{ImageIds: []string{shared}}); len(got) != 1 {
		t.Fatal("another account's setting hid the owner's image")
	}

	// audit-mode: everything, with the verdict.
	must[*ec2.EnableAllowedImagesSettingsOutput](t)(mc.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: "audit-mode"}))
	want := map[string]string{amazon: "true", own: "true", shared: "false", ubuntu: "false"}
	if got := allowed(&ec2.DescribeImagesInput{}); !equalMap(got, want) {
		t.Fatalf("audit-mode: %v, want %v", got, want)
	}
	notAllowed := e.visibleIDs(member, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("image-allowed"), Values: []string{"false"}}}})
	sort.Strings(notAllowed)
	wantIDs := []string{shared, ubuntu}
	sort.Strings(wantIDs)
	if !slices.Equal(notAllowed, wantIDs) {
		t.Fatalf("image-allowed=false: %v, want %v", notAllowed, wantIDs)
	}
	e.launch(member, shared, 1) // audit mode restricts nothing

	must[*ec2.DisableAllowedImagesSettingsOutput](t)(mc.DisableAllowedImagesSettings(ctx, &ec2.DisableAllowedImagesSettingsInput{}))
	if got := allowed(&ec2.DescribeImagesInput{ImageIds: []string{shared}}); got[shared] != "-" {
		t.Fatalf("disabled again: %v", got)
	}

	// The limits of spec §2.15.
	tooMany := make([]ec2types.ImageCriterionRequest, 11)
	for i := range tooMany {
		tooMany[i] = ec2types.ImageCriterionRequest{ImageProviders: []string{"amazon"}}
	}
	for name, cs := range map[string][]ec2types.ImageCriterionRequest{
		"eleven criteria":      tooMany,
		"none with others":     {{ImageProviders: []string{"none", "amazon"}}},
		"bad provider":         {{ImageProviders: []string{"12345"}}},
		"bad name":             {{ImageNames: []string{"a?"}}},
		"bad product code":     {{MarketplaceProductCodes: []string{"not-a-code!"}}},
		"negative day count":   {{CreationDateCondition: &ec2types.CreationDateConditionRequest{MaximumDaysSinceCreated: aws.Int32(-1)}}},
		"fifty-one names":      {{ImageNames: slices.Repeat([]string{"abc"}, 51)}},
		"201 image providers ": {{ImageProviders: slices.Repeat([]string{"amazon"}, 201)}},
	} {
		_, err := mc.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{ImageCriteria: cs})
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		apiErr(t, err, "InvalidParameterValue", 400)
	}
	_, err = mc.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: "disabled"})
	apiErr(t, err, "InvalidParameterValue", 400)
}

func equalMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
