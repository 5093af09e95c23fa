package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func launchPerms(t *testing.T, e *env, id string) []string {
	t.Helper()
	out, err := e.client(owner).DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
		ImageId: aws.String(id), Attribute: ec2types.ImageAttributeNameLaunchPermission})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range out.LaunchPermissions {
		switch {
		case p.UserId != nil:
			got = append(got, "user:"+*p.UserId)
		case p.Group != "":
			got = append(got, "group:"+string(p.Group))
		case p.OrganizationArn != nil:
			got = append(got, "org:"+*p.OrganizationArn)
		case p.OrganizationalUnitArn != nil:
			got = append(got, "ou:"+*p.OrganizationalUnitArn)
		}
	}
	sort.Strings(got)
	return got
}

func TestModifyLaunchPermissionRoundTrip(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "web")
	c := e.client(owner)
	if got := launchPerms(t, e, id); len(got) != 0 {
		t.Fatalf("new image has permissions %v", got)
	}
	_, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{
			{UserId: aws.String(member)}, {OrganizationArn: aws.String(orgARN)}, {OrganizationalUnitArn: aws.String(ou2ARN)}, {Group: ec2types.PermissionGroupAll},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"group:all", "org:" + orgARN, "ou:" + ou2ARN, "user:" + member}
	if got := launchPerms(t, e, id); !slices.Equal(got, want) {
		t.Fatalf("permissions = %v, want %v", got, want)
	}
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
	if !*img.Public {
		t.Fatal("image with group all is not public")
	}
	if img.DeprecationTime == nil {
		t.Fatal("making an image public must cap its deprecation time at two years")
	}
	// Remove, flat form, as `aws ec2 modify-image-attribute --operation-type remove --user-ids` sends it.
	_, err = c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
		Attribute: aws.String("launchPermission"), OperationType: ec2types.OperationTypeRemove,
		UserIds: []string{member}, UserGroups: []string{"all"}})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"org:" + orgARN, "ou:" + ou2ARN}
	if got := launchPerms(t, e, id); !slices.Equal(got, want) {
		t.Fatalf("after remove: %v, want %v", got, want)
	}
	if _, err := c.ResetImageAttribute(ctx, &ec2.ResetImageAttributeInput{ImageId: aws.String(id), Attribute: ec2types.ResetImageAttributeNameLaunchPermission}); err != nil {
		t.Fatal(err)
	}
	if got := launchPerms(t, e, id); len(got) != 0 {
		t.Fatalf("after reset: %v", got)
	}
}

// Packer sends each grant twice, flat and structured, in one call.
func TestModifyFlatAndStructuredTogetherMakeOneGrant(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "packer")
	_, err := e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
		UserIds: []string{member}, LaunchPermission: &ec2types.LaunchPermissionModifications{
			Add: []ec2types.LaunchPermission{{UserId: aws.String(member)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := launchPerms(t, e, id); !slices.Equal(got, []string{"user:" + member}) {
		t.Fatalf("got %v", got)
	}
}

func TestModifyValueAttributes(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "values")
	c := e.client(owner)
	desc := func() string {
		out := must[*ec2.DescribeImageAttributeOutput](t)(c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: "description"}))
		if out.Description == nil {
			t.Fatal("no description element")
		}
		return aws.ToString(out.Description.Value)
	}
	if d := desc(); d != "" {
		t.Fatalf("description %q", d)
	}
	must[*ec2.ModifyImageAttributeOutput](t)(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Description: &ec2types.AttributeValue{Value: aws.String("structured & <escaped>")}}))
	if d := desc(); d != "structured & <escaped>" {
		t.Fatalf("description %q", d)
	}
	must[*ec2.ModifyImageAttributeOutput](t)(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Attribute: aws.String("description"), Value: aws.String("flat form")}))
	if d := desc(); d != "flat form" {
		t.Fatalf("description %q", d)
	}
	must[*ec2.ModifyImageAttributeOutput](t)(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), ImdsSupport: &ec2types.AttributeValue{Value: aws.String("v2.0")}}))
	out := must[*ec2.DescribeImageAttributeOutput](t)(c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: "imdsSupport"}))
	if aws.ToString(out.ImdsSupport.Value) != "v2.0" {
		t.Fatalf("imdsSupport %v", out.ImdsSupport)
	}
	// v2.0 is final: only v2.0 may be set again.
	_, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), ImdsSupport: &ec2types.AttributeValue{Value: aws.String("v1.0")}})
	apiErr(t, err, "InvalidParameterValue", 400)
	must[*ec2.ModifyImageAttributeOutput](t)(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Attribute: aws.String("imdsSupport"), Value: aws.String("v2.0")}))
}

func TestModifyErrors(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "errs")
	public := e.register(owner, "public-one")
	must[*ec2.ModifyImageAttributeOutput](t)(e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(public),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{Group: ec2types.PermissionGroupAll}}}}))
	add := func(lp ec2types.LaunchPermission) *ec2types.LaunchPermissionModifications {
		return &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{lp}}
	}
	cases := []struct {
		name   string
		who    string
		in     *ec2.ModifyImageAttributeInput
		code   string
		status int
		msg    string
	}{
		{"malformed id", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String("ami-12345"), Description: &ec2types.AttributeValue{Value: aws.String("x")}},
			"InvalidAMIID.Malformed", 400, `Invalid id: "ami-12345" (expecting "ami-...")`},
		{"unknown id", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String("ami-0123456789abcdef0"), Description: &ec2types.AttributeValue{Value: aws.String("x")}},
			"InvalidAMIID.NotFound", 400, "The image id '[ami-0123456789abcdef0]' does not exist"},
		{"someone else's private image", stranger, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Description: &ec2types.AttributeValue{Value: aws.String("x")}},
			"InvalidAMIID.NotFound", 400, "The image id '[" + id + "]' does not exist"},
		{"someone else's public image", stranger, &ec2.ModifyImageAttributeInput{ImageId: aws.String(public), Description: &ec2types.AttributeValue{Value: aws.String("x")}},
			"AuthFailure", 400, "Not authorized for image:" + public},
		{"bad user id", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), LaunchPermission: add(ec2types.LaunchPermission{UserId: aws.String("1234-5678-9012")})},
			"InvalidAMIAttributeItemValue", 400, `Invalid attribute item value "1234-5678-9012" for userId item type.`},
		{"bad flat group", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Attribute: aws.String("launchPermission"), OperationType: "add", UserGroups: []string{"everyone"}},
			"InvalidAMIAttributeItemValue", 400, `Invalid attribute item value "everyone" for UserGroup item type.`},
		{"bad org arn", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), LaunchPermission: add(ec2types.LaunchPermission{OrganizationArn: aws.String("arn:aws:organizations::111122223333:account/o-exampleorg1")})},
			"InvalidAMIAttributeItemValue", 400, `Invalid attribute item value "arn:aws:organizations::111122223333:account/o-exampleorg1" for OrganizationArn item type.`},
		{"bare ou id", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), LaunchPermission: add(ec2types.LaunchPermission{OrganizationalUnitArn: aws.String("ou-ab12-11111111")})},
			"InvalidAMIAttributeItemValue", 400, `Invalid attribute item value "ou-ab12-11111111" for OrganizationalUnitArn item type.`},
		{"two attributes", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Description: &ec2types.AttributeValue{Value: aws.String("x")}, LaunchPermission: add(ec2types.LaunchPermission{UserId: aws.String(member)})},
			"InvalidParameterCombination", 400, "Fields for multiple attribute types specified: description, launchPermission"},
		{"no attribute", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id)},
			"InvalidParameterCombination", 400, "No attributes specified."},
		{"operation type alone", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), OperationType: "add"},
			"InvalidParameterCombination", 400, "No attributes specified."},
		{"flat lists alone", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), UserIds: []string{member}},
			"MissingParameter", 400, "The request must contain the parameter LaunchPermission"},
		{"launchPermission without entries", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Attribute: aws.String("launchPermission")},
			"InvalidParameterCombination", 400, ""},
		{"description without value", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Attribute: aws.String("description")},
			"MissingParameter", 400, "The request must contain the parameter Value"},
		{"description: Value and Description.Value differ", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Attribute: aws.String("description"), Value: aws.String("a"), Description: &ec2types.AttributeValue{Value: aws.String("b")}},
			"InvalidParameterCombination", 400, "The parameters Value and Description.Value specify different values."},
		{"imdsSupport: Value and ImdsSupport.Value differ", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Attribute: aws.String("imdsSupport"), Value: aws.String("v1.0"), ImdsSupport: &ec2types.AttributeValue{Value: aws.String("v2.0")}},
			"InvalidParameterCombination", 400, "The parameters Value and ImdsSupport.Value specify different values."},
		{"non-modifiable attribute", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Attribute: aws.String("blockDeviceMapping")},
			"InvalidParameter", 400, ""},
		{"product codes", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), ProductCodes: []string{"abc"}},
			"UnsupportedOperation", 400, ""},
		{"dry run allowed", owner, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), DryRun: aws.Bool(true), Description: &ec2types.AttributeValue{Value: aws.String("dry")}},
			"DryRunOperation", 412, "Request would have succeeded, but DryRun flag is set."},
		{"dry run denied", "readonly", &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), DryRun: aws.Bool(true), Description: &ec2types.AttributeValue{Value: aws.String("dry")}},
			"UnauthorizedOperation", 403, "You are not authorized to perform this operation. User: arn:aws:iam::111122223333:root is not authorized to perform: ec2:ModifyImageAttribute on resource: arn:aws:ec2:us-east-1::image/" + id + " because no identity-based policy allows the ec2:ModifyImageAttribute action."},
		{"denied by explicit deny", "no-modify", &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Description: &ec2types.AttributeValue{Value: aws.String("x")}},
			"UnauthorizedOperation", 403, "You are not authorized to perform this operation. User: arn:aws:iam::111122223333:root is not authorized to perform: ec2:ModifyImageAttribute on resource: arn:aws:ec2:us-east-1::image/" + id + " with an explicit deny in an identity-based policy."},
		{"wrong secret", "wrong-secret", &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Description: &ec2types.AttributeValue{Value: aws.String("x")}},
			"SignatureDoesNotMatch", 403, ""},
		{"unknown key", "unknown-key", &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), Description: &ec2types.AttributeValue{Value: aws.String("x")}},
			"AuthFailure", 401, "AWS was not able to validate the provided access credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client(tc.who).ModifyImageAttribute(ctx, tc.in)
			msg := apiErr(t, err, tc.code, tc.status)
			// The encoded part differs every time (identity_test.go opens it).
			if i := strings.Index(msg, " Encoded authorization failure message: "); i >= 0 {
				msg = msg[:i]
			}
			if tc.msg != "" && msg != tc.msg {
				t.Fatalf("message %q, want %q", msg, tc.msg)
			}
		})
	}
	// None of the failed calls changed anything.
	if got := launchPerms(t, e, id); len(got) != 0 {
		t.Fatalf("failed calls left permissions %v", got)
	}
	out := must[*ec2.DescribeImageAttributeOutput](t)(e.client(owner).DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: "description"}))
	if v := aws.ToString(out.Description.Value); v != "" {
		t.Fatalf("failed calls changed the description to %q", v)
	}
}

// A failing entry anywhere in the request means nothing changes.
func TestModifyAllOrNothing(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "atomic")
	_, err := e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{
			{UserId: aws.String(member)}, {UserId: aws.String("12")}}}})
	apiErr(t, err, "InvalidAMIAttributeItemValue", 400)
	if got := launchPerms(t, e, id); len(got) != 0 {
		t.Fatalf("partial change: %v", got)
	}
}

func TestConcurrentGrantsAllSurvive(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "busy")
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
				LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(fmt.Sprintf("9000000000%02d", i))}}}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := launchPerms(t, e, id); len(got) != n {
		t.Fatalf("%d grants survived, want %d: %v", len(got), n, got)
	}
}

func TestDescribeImageAttributeRules(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "attrs")
	c := e.client(owner)
	must[*ec2.ModifyImageAttributeOutput](t)(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(member)}}}}))
	_, err := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: "TpmSupport"})
	apiErr(t, err, "InvalidRequest", 400)
	_, err = c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: "blockDeviceMapping"})
	if msg := apiErr(t, err, "AuthFailure", 400); msg != "Unauthorized attempt to access restricted resource" {
		t.Fatal(msg)
	}
	// The member can see the image but may not read its attributes.
	_, err = e.client(member).DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: "launchPermission"})
	if msg := apiErr(t, err, "AuthFailure", 400); msg != "Not authorized for image:"+id {
		t.Fatal(msg)
	}
	_, err = e.client(stranger).DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: "launchPermission"})
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
	for _, attr := range []ec2types.ImageAttributeName{"description", "kernel", "ramdisk", "productCodes", "sriovNetSupport", "bootMode", "tpmSupport", "uefiData", "lastLaunchedTime", "imdsSupport", "deregistrationProtection"} {
		if _, err := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: attr}); err != nil {
			t.Fatalf("%s: %v", attr, err)
		}
	}
	out := must[*ec2.DescribeImageAttributeOutput](t)(c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: "deregistrationProtection"}))
	if aws.ToString(out.DeregistrationProtection.Value) != "disabled" {
		t.Fatalf("deregistrationProtection %v", out.DeregistrationProtection)
	}
}

func TestRegisterAndDeregister(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	id := e.register(owner, "web-1")
	_, err := c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("web-1"), RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture())}}}})
	if msg := apiErr(t, err, "InvalidAMIName.Duplicate", 400); !strings.Contains(msg, id) {
		t.Fatalf("duplicate message %q does not name %s", msg, id)
	}
	// Another account may use the same name.
	e.register(member, "web-1")
	_, err = c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("x!"), RootDeviceName: aws.String("/dev/xvda")})
	apiErr(t, err, "InvalidAMIName.Malformed", 400)

	_, err = e.client(member).DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
	must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}))
	_, err = c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	if msg := apiErr(t, err, "InvalidAMIID.Unavailable", 400); msg != "The image ID '"+id+"' is no longer available" {
		t.Fatal(msg)
	}
	// Described by id it answers empty for a while; listed it is gone; the name is free.
	if ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{ImageIds: []string{id}}); len(ids) != 0 {
		t.Fatalf("deregistered image still listed: %v", ids)
	}
	if ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"self"}}); slices.Contains(ids, id) {
		t.Fatal("deregistered image in owner listing")
	}
	e.register(owner, "web-1")
}

func TestRestartKeepsEverything(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "durable")
	must[*ec2.ModifyImageAttributeOutput](t)(e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{OrganizationalUnitArn: aws.String(ou1ARN)}}}}))
	e.restart()
	if got := launchPerms(t, e, id); !slices.Equal(got, []string{"ou:" + ou1ARN}) {
		t.Fatalf("after restart: %v", got)
	}
	if ids := e.visibleIDs(nested, &ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}}); !slices.Equal(ids, []string{id}) {
		t.Fatalf("nested member sees %v", ids)
	}
}

var _ = http.StatusOK
