package storetest

import (
	"fmt"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
)

const (
	region  = "us-east-1"
	region2 = "eu-west-1"
)

// amiID returns a well-formed image id whose order follows n.
func amiID(n int) string { return fmt.Sprintf("ami-%017x", n) }

func ptr[T any](v T) *T { return &v }

// at returns a time with millisecond precision in a non-UTC zone: stores
// must keep the instant, not the location.
func at(year int, month time.Month, day, hour, minute, sec, ms int) time.Time {
	return time.Date(year, month, day, hour, minute, sec, ms*int(time.Millisecond), time.FixedZone("UTC+2", 2*60*60))
}

// newImage returns a minimal available image.
func newImage(region, id, owner, name string, perms ...image.LaunchPermission) *image.Image {
	return &image.Image{
		Region:            region,
		ID:                id,
		OwnerID:           owner,
		Name:              name,
		State:             image.StateAvailable,
		CreationDate:      at(2024, 1, 2, 3, 4, 5, 6),
		LaunchPermissions: perms,
	}
}

// fullImage returns an image with every field set, false booleans and zero
// numbers behind pointers included, so a lost field shows in a diff.
func fullImage(region, id string) *image.Image {
	return &image.Image{
		Region:       region,
		ID:           id,
		OwnerID:      "123456789012",
		OwnerAlias:   "amazon",
		Name:         "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
		Description:  "Amazon Linux 2023 AMI — \"quoted\" <xml> & ünïcode",
		Location:     "amazon/al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
		State:        image.StateFailed,
		StateReason:  &image.StateReason{Code: "Client.InvalidSnapshot", Message: "snapshot is gone"},
		CreationDate: at(2024, 12, 12, 18, 30, 1, 999),

		Architecture:       "x86_64",
		ImageType:          "machine",
		KernelID:           "aki-0123456789abcdef0",
		RamdiskID:          "ari-0123456789abcdef0",
		Platform:           "windows",
		PlatformDetails:    "Windows",
		UsageOperation:     "RunInstances:0002",
		RootDeviceName:     "/dev/xvda",
		RootDeviceType:     "ebs",
		VirtualizationType: "hvm",
		Hypervisor:         "xen",
		SriovNetSupport:    "simple",
		EnaSupport:         ptr(false),
		BootMode:           "uefi-preferred",
		TpmSupport:         "v2.0",
		UefiData:           "QU1aTlVFRkk=",
		ImdsSupport:        "v2.0",
		FreeTierEligible:   ptr(true),

		BlockDeviceMappings: []image.BlockDeviceMapping{
			{
				DeviceName: "/dev/xvda",
				Ebs: &image.EbsBlockDevice{
					SnapshotID:          "snap-0123456789abcdef0",
					VolumeSize:          ptr(int32(8)),
					VolumeType:          "gp3",
					DeleteOnTermination: ptr(true),
					Iops:                ptr(int32(3000)),
					Throughput:          ptr(int32(0)),
					Encrypted:           ptr(false),
					KmsKeyID:            "arn:aws:kms:us-east-1:123456789012:key/abcd",
					OutpostArn:          "arn:aws:outposts:us-east-1:123456789012:outpost/op-1",
					AvailabilityZone:    "us-east-1a",
				},
			},
			{DeviceName: "/dev/sdb", VirtualName: "ephemeral0"},
			{DeviceName: "/dev/sdc", NoDevice: "true"},
			{DeviceName: "/dev/sdd", Ebs: &image.EbsBlockDevice{}},
		},
		ProductCodes: []image.ProductCode{
			{Code: "aw0evgkw8e5c1q413zgy5pjce", Type: "marketplace"},
			{Code: "devpay1", Type: "devpay"},
		},
		// Deliberately not in sorted order: the order is kept.
		LaunchPermissions: []image.LaunchPermission{
			{Kind: image.PermUser, Value: "222222222222"},
			image.Public,
			{Kind: image.PermOU, Value: "arn:aws:organizations::123456789012:ou/o-abc/ou-1"},
			{Kind: image.PermOrg, Value: "arn:aws:organizations::123456789012:organization/o-abc"},
			{Kind: image.PermUser, Value: "111111111111"},
		},

		DeprecationTime:          ptr(at(2026, 12, 12, 0, 0, 0, 1)),
		DeregistrationProtection: "enabled-with-cooldown",
		ProtectedUntil:           ptr(at(2025, 1, 1, 0, 0, 0, 500)),
		LastLaunchedTime:         ptr(at(2025, 2, 3, 4, 5, 6, 7)),

		SourceImageID:     "ami-0abcdef1234567890",
		SourceImageRegion: "us-west-2",
		SourceInstanceID:  "i-0123456789abcdef0",

		DeregisteredAt: ptr(at(2025, 3, 4, 5, 6, 7, 8)),
		AvailableAt:    ptr(at(2025, 3, 4, 5, 6, 7, 9)),
		FailsWith:      &image.StateReason{Code: "Server.InternalError", Message: "planned failure"},
	}
}

// instanceID returns a well-formed instance id whose order follows n.
func instanceID(n int) string { return fmt.Sprintf("i-%017x", n) }

// newInstance returns a minimal running instance.
func newInstance(region, id, owner, imageID string) *instance.Instance {
	return &instance.Instance{
		Region:     region,
		ID:         id,
		OwnerID:    owner,
		ImageID:    imageID,
		State:      instance.StateRunning,
		LaunchTime: at(2024, 5, 6, 7, 8, 9, 10),
	}
}

// fullInstance returns an instance with every field set, false booleans and
// zero numbers behind pointers included, so a lost field shows in a diff.
func fullInstance(region, id string) *instance.Instance {
	return &instance.Instance{
		Region:        region,
		ID:            id,
		OwnerID:       "123456789012",
		ReservationID: "r-0123456789abcdef0",
		ImageID:       "ami-0abcdef1234567890",
		State:         instance.StateTerminated,
		InstanceType:  "t3.micro",
		LaunchTime:    at(2024, 12, 12, 18, 30, 1, 999),

		Architecture:       "arm64",
		Platform:           "windows",
		KernelID:           "aki-0123456789abcdef0",
		RamdiskID:          "ari-0123456789abcdef0",
		RootDeviceName:     "/dev/xvda",
		RootDeviceType:     "ebs",
		VirtualizationType: "hvm",
		Hypervisor:         "nitro",
		SriovNetSupport:    "simple",
		EnaSupport:         ptr(false),
		BootMode:           "uefi",

		BlockDeviceMappings: []image.BlockDeviceMapping{
			{
				DeviceName: "/dev/xvda",
				Ebs: &image.EbsBlockDevice{
					SnapshotID:          "snap-0123456789abcdef0",
					VolumeSize:          ptr(int32(8)),
					VolumeType:          "gp3",
					DeleteOnTermination: ptr(false),
					Iops:                ptr(int32(3000)),
					Throughput:          ptr(int32(0)),
					Encrypted:           ptr(true),
					KmsKeyID:            "arn:aws:kms:us-east-1:123456789012:key/abcd",
					OutpostArn:          "arn:aws:outposts:us-east-1:123456789012:outpost/op-1",
					AvailabilityZone:    "us-east-1a",
				},
			},
			{DeviceName: "/dev/sdb", VirtualName: "ephemeral0"},
			{DeviceName: "/dev/sdc", NoDevice: "true"},
		},

		HttpTokens:              "required",
		HttpPutResponseHopLimit: 2,
		HttpEndpoint:            "enabled",

		TerminatedAt: ptr(at(2025, 1, 2, 3, 4, 5, 6)),

		StateSince:       at(2025, 1, 2, 3, 4, 5, 6),
		Booted:           true,
		TransitionReason: "User initiated (2025-01-02 03:04:05 GMT)",
		StateReason:      &instance.StateReason{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"},

		Zone:                  region + "c",
		UserData:              "IyEvYmluL3NoCg==",
		ShutdownBehavior:      "terminate",
		DisableAPITermination: true,
		DisableAPIStop:        true,
		EbsOptimized:          true,
		SourceDestCheckOff:    true,
		CPUCredits:            "unlimited",
		Hibernation:           true,
		EnclaveEnabled:        true,
	}
}
