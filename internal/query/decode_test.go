package query

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/google/go-cmp/cmp"
)

// form parses a query string written one parameter per line (or joined
// with &), the way the spec prints requests.
func form(t testing.TB, s string) url.Values {
	t.Helper()
	s = strings.Join(strings.Fields(s), "&")
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatalf("bad test form %q: %v", s, err)
	}
	return v
}

func TestDecode(t *testing.T) {
	const (
		org = "arn:aws:organizations::123456789012:organization/o-123example"
		ou  = "arn:aws:organizations::123456789012:ou/o-123example/ou-1234-5example"
	)
	tests := []struct {
		name string
		in   string
		dst  any // pointer to a zero struct
		want any
	}{
		{
			name: "ModifyImageAttribute structured launch permission (spec 2.1.1 form 1)",
			in: `ImageId=ami-0abcdef1234567890
				LaunchPermission.Add.1.Group=all
				LaunchPermission.Add.2.UserId=111122223333
				LaunchPermission.Add.3.OrganizationArn=` + org + `
				LaunchPermission.Remove.1.OrganizationalUnitArn=` + ou,
			dst: &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{
				ImageId: new("ami-0abcdef1234567890"),
				LaunchPermission: &ec2api.LaunchPermissionModifications{
					Add: []ec2api.LaunchPermission{
						{Group: new("all")},
						{UserId: new("111122223333")},
						{OrganizationArn: new(org)},
					},
					Remove: []ec2api.LaunchPermission{{OrganizationalUnitArn: new(ou)}},
				},
			},
		},
		{
			name: "ModifyImageAttribute flat lists (spec 2.1.1 form 2)",
			in: `ImageId=ami-0abcdef1234567890
				Attribute=launchPermission
				OperationType=add
				UserId.1=111122223333
				UserId.2=444455556666
				UserGroup.1=all
				OrganizationArn.1=` + org + `
				OrganizationalUnitArn.1=` + ou + `
				DryRun=true`,
			dst: &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{
				ImageId:                new("ami-0abcdef1234567890"),
				Attribute:              new("launchPermission"),
				OperationType:          new("add"),
				UserIds:                []string{"111122223333", "444455556666"},
				UserGroups:             []string{"all"},
				OrganizationArns:       []string{org},
				OrganizationalUnitArns: []string{ou},
				DryRun:                 new(true),
			},
		},
		{
			name: "ModifyImageAttribute Description.Value (spec 2.1.1 form 3)",
			in:   `ImageId=ami-0abcdef1234567890&Description.Value=New%20description`,
			dst:  &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{
				ImageId:     new("ami-0abcdef1234567890"),
				Description: &ec2api.AttributeValue{Value: new("New description")},
			},
		},
		{
			name: "ModifyImageAttribute Attribute=description with Value (form 3)",
			in:   `ImageId=ami-0abcdef1234567890&Attribute=description&Value=New+description`,
			dst:  &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{
				ImageId:   new("ami-0abcdef1234567890"),
				Attribute: new("description"),
				Value:     new("New description"),
			},
		},
		{
			name: "ModifyImageAttribute ImdsSupport.Value (form 3)",
			in:   `ImageId=ami-0abcdef1234567890&ImdsSupport.Value=v2.0`,
			dst:  &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{
				ImageId:     new("ami-0abcdef1234567890"),
				ImdsSupport: &ec2api.AttributeValue{Value: new("v2.0")},
			},
		},
		{
			name: "empty value is present",
			in:   `ImageId=ami-0abcdef1234567890&Description.Value=`,
			dst:  &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{
				ImageId:     new("ami-0abcdef1234567890"),
				Description: &ec2api.AttributeValue{Value: new("")},
			},
		},
		{
			name: "UTF-8 and reserved characters survive",
			in:   `ImageId=ami-1&Description.Value=caf%C3%A9%20%E2%80%99%26%3D%2B`,
			dst:  &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{
				ImageId:     new("ami-1"),
				Description: &ec2api.AttributeValue{Value: new("café ’&=+")},
			},
		},
		{
			name: "DescribeImages with filters and lists",
			in: `ImageId.1=ami-0abcdef1234567890
				ImageId.2=ami-0fedcba9876543210
				Owner.1=self
				Owner.2=amazon
				ExecutableBy.1=all
				Filter.1.Name=architecture
				Filter.1.Value.1=x86_64
				Filter.1.Value.2=arm64
				Filter.2.Name=tag:Team
				Filter.2.Value.1=blue
				IncludeDeprecated=TRUE
				IncludeDisabled=false
				MaxResults=50
				NextToken=abc
				DryRun=False`,
			dst: &ec2api.DescribeImagesRequest{},
			want: &ec2api.DescribeImagesRequest{
				ImageIds:        []string{"ami-0abcdef1234567890", "ami-0fedcba9876543210"},
				Owners:          []string{"self", "amazon"},
				ExecutableUsers: []string{"all"},
				Filters: []ec2api.Filter{
					{Name: new("architecture"), Values: []string{"x86_64", "arm64"}},
					{Name: new("tag:Team"), Values: []string{"blue"}},
				},
				IncludeDeprecated: new(true),
				IncludeDisabled:   new(false),
				MaxResults:        new(int32(50)),
				NextToken:         new("abc"),
				DryRun:            new(false),
			},
		},
		{
			name: "DescribeImages with nothing",
			in:   ``,
			dst:  &ec2api.DescribeImagesRequest{},
			want: &ec2api.DescribeImagesRequest{},
		},
		{
			name: "RegisterImage with block device mappings and tag specifications",
			in: `Name=web-2024-02
				Description=Web%20tier
				Architecture=x86_64
				RootDeviceName=/dev/xvda
				VirtualizationType=hvm
				EnaSupport=true
				BootMode=uefi-preferred
				ImdsSupport=v2.0
				BillingProduct.1=bp-6ba54002
				BlockDeviceMapping.1.DeviceName=/dev/xvda
				BlockDeviceMapping.1.Ebs.SnapshotId=snap-0123456789abcdef0
				BlockDeviceMapping.1.Ebs.VolumeSize=8
				BlockDeviceMapping.1.Ebs.VolumeType=gp3
				BlockDeviceMapping.1.Ebs.Iops=3000
				BlockDeviceMapping.1.Ebs.Throughput=125
				BlockDeviceMapping.1.Ebs.DeleteOnTermination=true
				BlockDeviceMapping.1.Ebs.Encrypted=false
				BlockDeviceMapping.1.Ebs.EbsCardIndex=0
				BlockDeviceMapping.2.DeviceName=/dev/sdb
				BlockDeviceMapping.2.VirtualName=ephemeral0
				BlockDeviceMapping.3.DeviceName=/dev/sdc
				BlockDeviceMapping.3.NoDevice=
				TagSpecification.1.ResourceType=image
				TagSpecification.1.Tag.1.Key=Team
				TagSpecification.1.Tag.1.Value=blue
				TagSpecification.1.Tag.2.Key=Env
				TagSpecification.1.Tag.2.Value=
				TagSpecification.2.ResourceType=snapshot
				TagSpecification.2.Tag.1.Key=Backup
				TagSpecification.2.Tag.1.Value=daily`,
			dst: &ec2api.RegisterImageRequest{},
			want: &ec2api.RegisterImageRequest{
				Name:               new("web-2024-02"),
				Description:        new("Web tier"),
				Architecture:       new("x86_64"),
				RootDeviceName:     new("/dev/xvda"),
				VirtualizationType: new("hvm"),
				EnaSupport:         new(true),
				BootMode:           new("uefi-preferred"),
				ImdsSupport:        new("v2.0"),
				BillingProducts:    []string{"bp-6ba54002"},
				BlockDeviceMappings: []ec2api.BlockDeviceMapping{
					{
						DeviceName: new("/dev/xvda"),
						Ebs: &ec2api.EbsBlockDevice{
							SnapshotId:          new("snap-0123456789abcdef0"),
							VolumeSize:          new(int32(8)),
							VolumeType:          new("gp3"),
							Iops:                new(int32(3000)),
							Throughput:          new(int32(125)),
							DeleteOnTermination: new(true),
							Encrypted:           new(false),
							EbsCardIndex:        new(int32(0)),
						},
					},
					{DeviceName: new("/dev/sdb"), VirtualName: new("ephemeral0")},
					{DeviceName: new("/dev/sdc"), NoDevice: new("")},
				},
				TagSpecifications: []ec2api.TagSpecification{
					{ResourceType: new("image"), Tags: []ec2api.Tag{
						{Key: new("Team"), Value: new("blue")},
						{Key: new("Env"), Value: new("")},
					}},
					{ResourceType: new("snapshot"), Tags: []ec2api.Tag{
						{Key: new("Backup"), Value: new("daily")},
					}},
				},
			},
		},
		{
			name: "sparse indexes are ordered numerically, not as text",
			in: `ImageId=ami-1
				UserId.10=c
				UserId.2=a
				UserId.7=b
				UserId.100000000=d
				LaunchPermission.Add.12.UserId=y
				LaunchPermission.Add.3.UserId=x
				LaunchPermission.Add.999999999.Group=all`,
			dst: &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{
				ImageId: new("ami-1"),
				UserIds: []string{"a", "b", "c", "d"},
				LaunchPermission: &ec2api.LaunchPermissionModifications{
					Add: []ec2api.LaunchPermission{{UserId: new("x")}, {UserId: new("y")}, {Group: new("all")}},
				},
			},
		},
		{
			name: "eleven filters keep their order",
			in:   elevenFilters(),
			dst:  &ec2api.DescribeImagesRequest{},
			want: &ec2api.DescribeImagesRequest{Filters: func() []ec2api.Filter {
				var fs []ec2api.Filter
				for i := 1; i <= 11; i++ {
					fs = append(fs, ec2api.Filter{Name: new("f" + strconv.Itoa(i)), Values: []string{strconv.Itoa(i)}})
				}
				return fs
			}()},
		},
		{
			name: "timestamp in botocore form",
			in:   `ImageId=ami-1&DeprecateAt=2026-02-15T10:21:00Z`,
			dst:  &ec2api.EnableImageDeprecationRequest{},
			want: &ec2api.EnableImageDeprecationRequest{
				ImageId:     new("ami-1"),
				DeprecateAt: new(time.Date(2026, 2, 15, 10, 21, 0, 0, time.UTC)),
			},
		},
		{
			name: "timestamp with microseconds",
			in:   `ImageId=ami-1&DeprecateAt=2026-02-15T10:21:00.123456Z`,
			dst:  &ec2api.EnableImageDeprecationRequest{},
			want: &ec2api.EnableImageDeprecationRequest{
				ImageId:     new("ami-1"),
				DeprecateAt: new(time.Date(2026, 2, 15, 10, 21, 0, 123456000, time.UTC)),
			},
		},
		{
			name: "timestamp with an offset is stored as UTC",
			in:   `ImageId=ami-1&DeprecateAt=2026-02-15T12:21:00.5%2B02:00`,
			dst:  &ec2api.EnableImageDeprecationRequest{},
			want: &ec2api.EnableImageDeprecationRequest{
				ImageId:     new("ami-1"),
				DeprecateAt: new(time.Date(2026, 2, 15, 10, 21, 0, 500000000, time.UTC)),
			},
		},
		{
			name: "int64 and required lists",
			in: `SourceImageId=ami-1&SourceRegion=us-west-2&Name=copy
				SnapshotCopyCompletionDurationMinutes=9223372036854775807`,
			dst: &ec2api.CopyImageRequest{},
			want: &ec2api.CopyImageRequest{
				SourceImageId:                         new("ami-1"),
				SourceRegion:                          new("us-west-2"),
				Name:                                  new("copy"),
				SnapshotCopyCompletionDurationMinutes: new(int64(9223372036854775807)),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Decode(form(t, tt.in), tt.dst); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, tt.dst); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func elevenFilters() string {
	var b strings.Builder
	for i := 11; i >= 1; i-- {
		n := strconv.Itoa(i)
		b.WriteString("Filter." + n + ".Name=f" + n + "&Filter." + n + ".Value.1=" + n + "&")
	}
	return b.String()
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		values  url.Values // used when in is empty
		in      string
		dst     any
		code    string
		message string
	}{
		{
			name:    "unknown parameter",
			in:      `ImageId=ami-1&ImageType=machine`,
			dst:     &ec2api.DescribeImageAttributeRequest{},
			code:    "UnknownParameter",
			message: "The parameter ImageType is not recognized",
		},
		{
			name:    "names are case-sensitive",
			in:      `imageId=ami-1`,
			dst:     &ec2api.DeregisterImageRequest{},
			code:    "UnknownParameter",
			message: "The parameter imageId is not recognized",
		},
		{
			name:    "SDK member name is not the wire name",
			in:      `ImageIds.1=ami-1`,
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "UnknownParameter",
			message: "The parameter ImageIds.1 is not recognized",
		},
		{
			name:    "list without index",
			in:      `ImageId=ami-1&UserId=111122223333`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "UnknownParameter",
			message: "The parameter UserId is not recognized",
		},
		{
			name:    "list of structures item without member",
			in:      `Filter.1=x`,
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "UnknownParameter",
			message: "The parameter Filter.1 is not recognized",
		},
		{
			name:    "index on a non-list",
			in:      `ImageId.1=ami-1`,
			dst:     &ec2api.DeregisterImageRequest{},
			code:    "UnknownParameter",
			message: "The parameter ImageId.1 is not recognized",
		},
		{
			name:    "structure without member",
			in:      `ImageId=ami-1&Description=x`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "UnknownParameter",
			message: "The parameter Description is not recognized",
		},
		{
			name:    "extra segment after a scalar",
			in:      `ImageId=ami-1&LaunchPermission.Add.1.UserId.Extra=1`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "UnknownParameter",
			message: "The parameter LaunchPermission.Add.1.UserId.Extra is not recognized",
		},
		{
			name:    "extra segment after a scalar list item",
			in:      `ImageId=ami-1&UserId.1.Id=1`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "UnknownParameter",
			message: "The parameter UserId.1.Id is not recognized",
		},
		{
			name:    "unknown nested member",
			in:      `ImageId=ami-1&LaunchPermission.Add.1.Account=1`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "UnknownParameter",
			message: "The parameter LaunchPermission.Add.1.Account is not recognized",
		},
		{
			name:    "generic query protocol form is not EC2",
			in:      `ImageId=ami-1&LaunchPermission.Add.member.1.UserId=1`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter LaunchPermission.Add.member.1.UserId has an invalid list index (member). An index is a positive decimal number of at most 9 digits.",
		},
		{
			name:    "empty name",
			in:      `ImageId=ami-1&=x`,
			dst:     &ec2api.DeregisterImageRequest{},
			code:    "UnknownParameter",
			message: "The parameter  is not recognized",
		},
		{
			name:    "index zero",
			in:      `ImageId=ami-1&LaunchPermission.Add.0.UserId=1`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter LaunchPermission.Add.0.UserId has an invalid list index (0). An index is a positive decimal number of at most 9 digits.",
		},
		{
			name:    "index not decimal",
			in:      `ImageId=ami-1&UserId.x=1`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter UserId.x has an invalid list index (x). An index is a positive decimal number of at most 9 digits.",
		},
		{
			name:    "index with plus",
			in:      `ImageId=ami-1&UserId.%2B1=1`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter UserId.+1 has an invalid list index (+1). An index is a positive decimal number of at most 9 digits.",
		},
		{
			name:    "negative index",
			in:      `Filter.-1.Name=x`,
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter Filter.-1.Name has an invalid list index (-1). An index is a positive decimal number of at most 9 digits.",
		},
		{
			name:    "empty index",
			in:      `Filter..Name=x`,
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter Filter..Name has an invalid list index (). An index is a positive decimal number of at most 9 digits.",
		},
		{
			name:    "index too long",
			in:      `ImageId=ami-1&LaunchPermission.Add.99999999999999999999.UserId=1`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter LaunchPermission.Add.99999999999999999999.UserId has an invalid list index (99999999999999999999). An index is a positive decimal number of at most 9 digits.",
		},
		{
			name:    "ten digit index",
			in:      `Filter.1.Name=a&Filter.1.Value.1000000000=x`,
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter Filter.1.Value.1000000000 has an invalid list index (1000000000). An index is a positive decimal number of at most 9 digits.",
		},
		{
			name:    "same name twice",
			in:      `ImageId=ami-1&ImageId=ami-2`,
			dst:     &ec2api.DeregisterImageRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter ImageId is given more than once.",
		},
		{
			name:    "same index written twice",
			in:      `ImageId=ami-1&UserId.1=a&UserId.01=b`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter UserId.1 is given more than once.",
		},
		{
			name:    "missing required top-level member",
			in:      `LaunchPermission.Add.1.Group=all`,
			dst:     &ec2api.ModifyImageAttributeRequest{},
			code:    "MissingParameter",
			message: "The request must contain the parameter ImageId",
		},
		{
			name:    "missing required list",
			in:      `Tag.1.Key=Team`,
			dst:     &ec2api.CreateTagsRequest{},
			code:    "MissingParameter",
			message: "The request must contain the parameter ResourceId",
		},
		{
			name:    "missing required member of a present structure",
			in:      `ImageId=ami-1&MinCount=1&MaxCount=1&CreditSpecification.CpuCredits=standard&Monitoring.Enabled=true&ElasticInferenceAccelerator.3.Count=1`,
			dst:     &ec2api.RunInstancesRequest{},
			code:    "MissingParameter",
			message: "The request must contain the parameter ElasticInferenceAccelerator.3.Type",
		},
		{
			name:    "bad boolean",
			in:      `ImageId=ami-1&DryRun=yes`,
			dst:     &ec2api.DeregisterImageRequest{},
			code:    "InvalidParameterValue",
			message: "Value ( yes ) for parameter DryRun is invalid. Expecting a boolean (true or false).",
		},
		{
			name:    "empty boolean",
			in:      `ImageId=ami-1&DryRun=`,
			dst:     &ec2api.DeregisterImageRequest{},
			code:    "InvalidParameterValue",
			message: "Value (  ) for parameter DryRun is invalid. Expecting a boolean (true or false).",
		},
		{
			name:    "bad nested boolean names the full parameter",
			in:      `Name=x&BlockDeviceMapping.2.Ebs.Encrypted=1`,
			dst:     &ec2api.RegisterImageRequest{},
			code:    "InvalidParameterValue",
			message: "Value ( 1 ) for parameter BlockDeviceMapping.2.Ebs.Encrypted is invalid. Expecting a boolean (true or false).",
		},
		{
			name:    "bad integer",
			in:      `MaxResults=ten`,
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "InvalidParameterValue",
			message: "Value ( ten ) for parameter MaxResults is invalid. Expecting an integer between -2147483648 and 2147483647.",
		},
		{
			name:    "integer out of range",
			in:      `MaxResults=2147483648`,
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "InvalidParameterValue",
			message: "Value ( 2147483648 ) for parameter MaxResults is invalid. Expecting an integer between -2147483648 and 2147483647.",
		},
		{
			name:    "fractional integer",
			in:      `MaxResults=5.0`,
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "InvalidParameterValue",
			message: "Value ( 5.0 ) for parameter MaxResults is invalid. Expecting an integer between -2147483648 and 2147483647.",
		},
		{
			name:    "long out of range",
			in:      `SourceImageId=ami-1&SourceRegion=r&Name=n&SnapshotCopyCompletionDurationMinutes=9223372036854775808`,
			dst:     &ec2api.CopyImageRequest{},
			code:    "InvalidParameterValue",
			message: "Value ( 9223372036854775808 ) for parameter SnapshotCopyCompletionDurationMinutes is invalid. Expecting an integer between -9223372036854775808 and 9223372036854775807.",
		},
		{
			name:    "bad timestamp",
			in:      `ImageId=ami-1&DeprecateAt=2026-02-15`,
			dst:     &ec2api.EnableImageDeprecationRequest{},
			code:    "InvalidParameterValue",
			message: "Value ( 2026-02-15 ) for parameter DeprecateAt is invalid. Expecting a timestamp such as 2006-01-02T15:04:05Z.",
		},
		{
			name:    "unknown wins over missing and bad values",
			in:      `DryRun=maybe&Bogus=1`,
			dst:     &ec2api.DeregisterImageRequest{},
			code:    "UnknownParameter",
			message: "The parameter Bogus is not recognized",
		},
		{
			name:    "missing wins over a bad value",
			in:      `DryRun=maybe`,
			dst:     &ec2api.DeregisterImageRequest{},
			code:    "MissingParameter",
			message: "The request must contain the parameter ImageId",
		},
		{
			name:    "a required member with a bad value is not also missing",
			in:      `ImageId=ami-1&DeprecateAt=soon`,
			dst:     &ec2api.EnableImageDeprecationRequest{},
			code:    "InvalidParameterValue",
			message: "Value ( soon ) for parameter DeprecateAt is invalid. Expecting a timestamp such as 2006-01-02T15:04:05Z.",
		},
		{
			name:    "first bad value in name order",
			in:      `MaxResults=x&IncludeDeprecated=y`,
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "InvalidParameterValue",
			message: "Value ( y ) for parameter IncludeDeprecated is invalid. Expecting a boolean (true or false).",
		},
		{
			name:    "too many parameters",
			values:  manyValues("ImageId.", maxParameters+1),
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "InvalidParameterValue",
			message: "The request has 20001 parameters, more than the limit of 20000.",
		},
		{
			name:    "too many list items",
			values:  manyValues("ImageId.", maxListItems+1),
			dst:     &ec2api.DescribeImagesRequest{},
			code:    "InvalidParameterValue",
			message: "The parameter ImageId has more than 10000 items.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := tt.values
			if values == nil {
				values = form(t, tt.in)
			}
			err := Decode(values, tt.dst)
			checkErr(t, err, tt.code, tt.message)
		})
	}
}

func manyValues(prefix string, n int) url.Values {
	v := make(url.Values, n)
	for i := 1; i <= n; i++ {
		v[prefix+strconv.Itoa(i)] = []string{"ami-1"}
	}
	return v
}

func checkErr(t *testing.T, err error, code, message string) {
	t.Helper()
	var ae *awserr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *awserr.Error %s", err, err, code)
	}
	if ae.Code != code || ae.Message != message || ae.Status != 400 {
		t.Errorf("error = %d %s %q\nwant    400 %s %q", ae.Status, ae.Code, ae.Message, code, message)
	}
}

func TestDecodeKeepsExistingStructures(t *testing.T) {
	desc := &ec2api.AttributeValue{}
	dst := &ec2api.ModifyImageAttributeRequest{Description: desc}
	if err := Decode(form(t, "ImageId=ami-1&Description.Value=x"), dst); err != nil {
		t.Fatal(err)
	}
	if dst.Description != desc || desc.Value == nil || *desc.Value != "x" {
		t.Errorf("Description = %+v, want the existing struct filled", dst.Description)
	}
}

func TestDecodeBadDestination(t *testing.T) {
	for _, dst := range []any{nil, ec2api.DeregisterImageRequest{}, (*ec2api.DeregisterImageRequest)(nil), new(int), &struct{ X int }{}} {
		err := Decode(url.Values{}, dst)
		var ae *awserr.Error
		if !errors.As(err, &ae) || ae.Code != "InternalError" {
			t.Errorf("Decode(%T) = %v, want InternalError", dst, err)
		}
	}
}

// Local types exercise what the model does not use today.
type scalarsInput struct {
	F     *float64    `query:"F"`
	Blob  []byte      `query:"Blob"`
	Times []time.Time `query:"Time"`
	Ints  []int64     `query:"Int"`
	Skip  *string     `query:"-"`
	Inner *struct {
		Deep *struct {
			ID *string `query:"Id,required"`
		} `query:"Deep"`
	} `query:"Inner"`
}

func TestDecodeOtherTypes(t *testing.T) {
	var got scalarsInput
	err := Decode(form(t, `F=1.5&Blob=aGk%3D&Time.2=2024-01-01T00:00:00Z&Time.1=2023-01-01T00:00:00Z&Int.1=-7&Inner.Deep.Id=x`), &got)
	if err != nil {
		t.Fatal(err)
	}
	want := scalarsInput{
		F:     new(1.5),
		Blob:  []byte("hi"),
		Times: []time.Time{time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		Ints:  []int64{-7},
	}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Inner" }, cmp.Ignore())); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if got.Inner == nil || got.Inner.Deep == nil || *got.Inner.Deep.ID != "x" {
		t.Errorf("Inner = %+v", got.Inner)
	}

	checkErr(t, Decode(form(t, `Inner.Deep.Other=x`), &scalarsInput{}), "UnknownParameter", "The parameter Inner.Deep.Other is not recognized")
	checkErr(t, Decode(form(t, `Skip=x`), &scalarsInput{}), "UnknownParameter", "The parameter Skip is not recognized")
	checkErr(t, Decode(form(t, `F=NaN`), &scalarsInput{}), "InvalidParameterValue", "Value ( NaN ) for parameter F is invalid. Expecting a number.")
	checkErr(t, Decode(form(t, `Blob=%25%25%25`), &scalarsInput{}), "InvalidParameterValue", "Value ( %%% ) for parameter Blob is invalid. Expecting base64-encoded data.")
	checkErr(t, Decode(form(t, `Int.1=1&Int.2=x`), &scalarsInput{}), "InvalidParameterValue", "Value ( x ) for parameter Int.2 is invalid. Expecting an integer between -9223372036854775808 and 9223372036854775807.")
}

func TestDecodeNestedRequiredInLocalType(t *testing.T) {
	type item struct {
		Key   *string `query:"Key,required"`
		Value *string `query:"Value"`
	}
	type input struct {
		Items []item `query:"Item"`
	}
	checkErr(t, Decode(form(t, `Item.1.Key=a&Item.7.Value=b`), &input{}), "MissingParameter", "The request must contain the parameter Item.7.Key")
}

func TestCompileErrors(t *testing.T) {
	type badScalar struct {
		N int `query:"N"`
	}
	type dupName struct {
		A *string `query:"X"`
		B *string `query:"X"`
	}
	type badXML struct {
		A *string `xml:"a b"`
	}
	type Base struct{ A *string }
	type embedded struct{ Base }
	type listOfLists struct {
		L [][]string
	}
	for _, dst := range []any{&badScalar{}, &dupName{}, &badXML{}, &embedded{}, &listOfLists{}} {
		var ae *awserr.Error
		if err := Decode(url.Values{}, dst); !errors.As(err, &ae) || ae.Code != "InternalError" {
			t.Errorf("Decode(%T) = %v, want InternalError", dst, err)
		}
	}
}
