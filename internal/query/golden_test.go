package query

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/amigo-ec2/amigo/internal/ec2api"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

const testRequestID = "4e759009-7884-46eb-bcf9-0a238087d593"

// twoImages is the DescribeImages sample of spec §2.4.8, plus the optional
// members that sample mentions (product codes, platform, state reason) and
// text that needs escaping.
func twoImages() *ec2api.DescribeImagesResult {
	return &ec2api.DescribeImagesResult{
		Images: []ec2api.Image{
			{
				ImageId:         new("ami-0abcdef1234567890"),
				ImageLocation:   new("123456789012/web-2024-02"),
				State:           new("available"),
				OwnerId:         new("123456789012"),
				CreationDate:    new("2024-02-15T10:21:07.000Z"),
				Public:          new(false),
				Architecture:    new("x86_64"),
				ImageType:       new("machine"),
				SriovNetSupport: new("simple"),
				Name:            new("web-2024-02"),
				Description:     new(`Web tier <base> image & "friends" – it’s ours`),
				RootDeviceType:  new("ebs"),
				RootDeviceName:  new("/dev/xvda"),
				BlockDeviceMappings: []ec2api.BlockDeviceMapping{
					{
						DeviceName: new("/dev/xvda"),
						Ebs: &ec2api.EbsBlockDevice{
							DeleteOnTermination: new(true),
							SnapshotId:          new("snap-0123456789abcdef0"),
							VolumeSize:          new(int32(8)),
							VolumeType:          new("gp3"),
							Iops:                new(int32(3000)),
							Throughput:          new(int32(125)),
							Encrypted:           new(false),
						},
					},
					{DeviceName: new("/dev/sdb"), VirtualName: new("ephemeral0")},
				},
				VirtualizationType:       new("hvm"),
				Tags:                     []ec2api.Tag{{Key: new("Team"), Value: new("blue")}},
				Hypervisor:               new("xen"),
				EnaSupport:               new(true),
				PlatformDetails:          new("Linux/UNIX"),
				UsageOperation:           new("RunInstances"),
				BootMode:                 new("uefi-preferred"),
				ImdsSupport:              new("v2.0"),
				DeprecationTime:          new("2026-02-15T10:21:00.000Z"),
				SourceInstanceId:         new("i-0123456789abcdef0"),
				DeregistrationProtection: new("disabled"),
				LastLaunchedTime:         new("2024-03-01T08:00:00Z"),
				FreeTierEligible:         new(false),
			},
			{
				ImageId:         new("ami-0fedcba9876543210"),
				ImageLocation:   new("aws-marketplace/win-2022"),
				State:           new("failed"),
				StateReason:     &ec2api.StateReason{Code: new("Client.InvalidSnapshot.NotFound"), Message: new("The snapshot does not exist")},
				OwnerId:         new("679593333241"),
				CreationDate:    new("2024-04-01T18:05:59.000Z"),
				Public:          new(true),
				ProductCodes:    []ec2api.ProductCode{{ProductCodeId: new("a1b2c3d4e5f6g7h8i9j10k11"), ProductCodeType: new("marketplace")}},
				Architecture:    new("x86_64"),
				ImageType:       new("machine"),
				ImageOwnerAlias: new("aws-marketplace"),
				Platform:        new("windows"),
				Name:            new("win-2022"),
				RootDeviceType:  new("ebs"),
				RootDeviceName:  new("/dev/sda1"),
				BlockDeviceMappings: []ec2api.BlockDeviceMapping{
					{DeviceName: new("/dev/sda1"), Ebs: &ec2api.EbsBlockDevice{SnapshotId: new("snap-0aaaabbbbccccdddd"), VolumeSize: new(int32(30))}},
					{DeviceName: new("/dev/sdf"), NoDevice: new("")},
				},
				VirtualizationType: new("hvm"),
				Hypervisor:         new("xen"),
				EnaSupport:         new(true),
				PlatformDetails:    new("Windows"),
				UsageOperation:     new("RunInstances:0002"),
				TpmSupport:         new("v2.0"),
				ImageAllowed:       new(true),
				SourceImageId:      new("ami-0123456789abcdef0"),
				SourceImageRegion:  new("eu-west-1"),
			},
		},
		NextToken: new("eyJ2IjoxLCJrIjoiYW1pLTBmZWRjYmE5ODc2NTQzMjEwIn0"),
	}
}

func TestGolden(t *testing.T) {
	const (
		org = "arn:aws:organizations::123456789012:organization/o-123example"
		ou  = "arn:aws:organizations::123456789012:ou/o-123example/ou-1234-5example"
	)
	tests := []struct {
		file   string
		encode func(*bytes.Buffer)
	}{
		{"describe_images.golden", func(b *bytes.Buffer) {
			EncodeXML(b, "DescribeImages", testRequestID, twoImages())
		}},
		{"describe_images_empty.golden", func(b *bytes.Buffer) {
			EncodeXML(b, "DescribeImages", testRequestID, &ec2api.DescribeImagesResult{Images: []ec2api.Image{}})
		}},
		{"image_attribute_launch_permission.golden", func(b *bytes.Buffer) {
			EncodeXML(b, "DescribeImageAttribute", testRequestID, &ec2api.ImageAttribute{
				ImageId: new("ami-0abcdef1234567890"),
				LaunchPermissions: []ec2api.LaunchPermission{
					{Group: new("all")},
					{UserId: new("111122223333")},
					{OrganizationArn: new(org)},
					{OrganizationalUnitArn: new(ou)},
				},
			})
		}},
		{"image_attribute_empty_description.golden", func(b *bytes.Buffer) {
			EncodeXML(b, "DescribeImageAttribute", testRequestID, &ec2api.ImageAttribute{
				ImageId:     new("ami-0abcdef1234567890"),
				Description: &ec2api.AttributeValue{},
			})
		}},
		{"return_result.golden", func(b *bytes.Buffer) {
			EncodeXML(b, "ModifyImageAttribute", testRequestID, &ec2api.ReturnResult{Return: new(true)})
		}},
		{"deregister_image.golden", func(b *bytes.Buffer) {
			EncodeXML(b, "DeregisterImage", testRequestID, &ec2api.DeregisterImageResult{
				Return: new(true),
				DeleteSnapshotResults: []ec2api.DeleteSnapshotReturnCode{
					{SnapshotId: new("snap-0123456789abcdef0"), ReturnCode: new("success")},
				},
			})
		}},
		{"error.golden", func(b *bytes.Buffer) {
			EncodeErrorXML(b, "InvalidAMIID.NotFound", "The image id '[ami-fake123]' does not exist", testRequestID)
		}},
		{"error_escaped.golden", func(b *bytes.Buffer) {
			EncodeErrorXML(b, "OperationNotPermitted", "You can’t publicly share this image <now> & \"here\"", testRequestID)
		}},
		{"describe_images_json.golden", func(b *bytes.Buffer) {
			EncodeJSON(b, twoImages())
		}},
		{"error_json.golden", func(b *bytes.Buffer) {
			EncodeErrorJSON(b, "InvalidAMIID.NotFound", "The image id '[ami-fake123]' does not exist")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			tt.encode(&buf)
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (go test -update rewrites it)\ngot:  %s\nwant: %s", path, buf.Bytes(), want)
			}
		})
	}
}
