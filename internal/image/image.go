// Package image is amigo's domain: the Image record, launch permissions,
// visibility and every rule the EC2 image actions obey. It knows nothing of
// HTTP or SQL; the store engines implement the Store interface declared here.
package image

import (
	"time"

	"github.com/amigo-ec2/amigo/internal/resource"
)

// Image states (spec §1.2).
const (
	StatePending      = "pending"
	StateAvailable    = "available"
	StateInvalid      = "invalid"
	StateDeregistered = "deregistered"
	StateTransient    = "transient"
	StateFailed       = "failed"
	StateError        = "error"
	StateDisabled     = "disabled"
)

// Image is one AMI in one region. Fields mirror the EC2 Image shape; optional
// values are empty strings or nil pointers when absent.
type Image struct {
	Region       string
	ID           string
	OwnerID      string
	OwnerAlias   string // amazon, aws-marketplace, aws-backup-vault, or ""
	Name         string
	Description  string
	Location     string // imageLocation
	State        string
	StateReason  *StateReason
	CreationDate time.Time

	Architecture       string
	ImageType          string
	KernelID           string
	RamdiskID          string
	Platform           string // "windows" or ""
	PlatformDetails    string
	UsageOperation     string
	RootDeviceName     string
	RootDeviceType     string
	VirtualizationType string
	Hypervisor         string
	SriovNetSupport    string
	EnaSupport         *bool
	BootMode           string
	TpmSupport         string
	UefiData           string
	ImdsSupport        string
	FreeTierEligible   *bool

	BlockDeviceMappings []BlockDeviceMapping
	ProductCodes        []ProductCode
	// LaunchPermissions never contains the owner's implicit permission,
	// nor an entry twice (the domain keeps it so; the stores need not).
	LaunchPermissions []LaunchPermission

	DeprecationTime *time.Time
	// DeregistrationProtection is disabled, enabled-without-cooldown or
	// enabled-with-cooldown; ProtectedUntil is the end of a running cooldown.
	DeregistrationProtection string
	ProtectedUntil           *time.Time
	LastLaunchedTime         *time.Time

	SourceImageID     string
	SourceImageRegion string
	SourceInstanceID  string

	// DeregisteredAt is set once the image is deregistered; such images stay
	// describable by id for a while, then disappear.
	DeregisteredAt *time.Time

	// AvailableAt is when a pending image becomes available (RegisterImage,
	// CopyImage and CreateImage with Options.PendingDelay); nil otherwise.
	// Settle applies it when the image is read.
	AvailableAt *time.Time
	// FailsWith, set on a pending image by fault injection (Outcome), is
	// the reason it fails with at AvailableAt instead of becoming
	// available.
	FailsWith *StateReason
}

// Settle is the one rule of timed states: a pending image whose
// AvailableAt has come reads as available, or as failed with its
// FailsWith reason when it has one. It reports whether it changed the
// image, so a writer can persist the change on its next write.
func (img *Image) Settle(now time.Time) bool {
	if img.State != StatePending || img.AvailableAt == nil || now.Before(*img.AvailableAt) {
		return false
	}
	img.State = StateAvailable
	if img.FailsWith != nil {
		img.State = StateFailed
		img.StateReason = img.FailsWith
		img.FailsWith = nil
	}
	img.AvailableAt = nil
	return true
}

// StateReason explains a failed or otherwise unusual state.
type StateReason struct {
	Code    string
	Message string
}

// BlockDeviceMapping is one device of an image.
type BlockDeviceMapping struct {
	DeviceName  string
	VirtualName string
	NoDevice    string
	Ebs         *EbsBlockDevice
}

// EbsBlockDevice is the EBS part of a mapping.
type EbsBlockDevice struct {
	SnapshotID          string
	VolumeSize          *int32
	VolumeType          string
	DeleteOnTermination *bool
	Iops                *int32
	Throughput          *int32
	Encrypted           *bool
	KmsKeyID            string
	OutpostArn          string
	AvailabilityZone    string
}

// ProductCode is a devpay or marketplace product code.
type ProductCode struct {
	Code string
	Type string // devpay | marketplace
}

// PermissionKind says what a launch permission entry names.
type PermissionKind string

const (
	PermUser  PermissionKind = "userId"
	PermGroup PermissionKind = "group" // Value is always "all"
	PermOrg   PermissionKind = "organizationArn"
	PermOU    PermissionKind = "organizationalUnitArn"
)

// LaunchPermission is one entry of an image's launch permission set.
type LaunchPermission struct {
	Kind  PermissionKind
	Value string
}

// Public is the launch permission that makes an image public.
var Public = LaunchPermission{Kind: PermGroup, Value: "all"}

// IsPublic reports whether the launch permissions contain group all.
func (img *Image) IsPublic() bool {
	for _, p := range img.LaunchPermissions {
		if p == Public {
			return true
		}
	}
	return false
}

// HasMarketplaceCode reports whether the image carries a marketplace product
// code, which forbids making it public.
func (img *Image) HasMarketplaceCode() bool {
	for _, pc := range img.ProductCodes {
		if pc.Type == "marketplace" {
			return true
		}
	}
	return false
}

// GrantedTo reports whether the launch permissions name v explicitly or
// through its organization or one of its OUs (owners and public aside).
func (img *Image) GrantedTo(v resource.Viewer) bool {
	for _, p := range img.LaunchPermissions {
		switch p.Kind {
		case PermUser:
			if p.Value == v.Account {
				return true
			}
		case PermOrg:
			if v.OrgARN != "" && p.Value == v.OrgARN {
				return true
			}
		case PermOU:
			for _, ou := range v.OUARNs {
				if p.Value == ou {
					return true
				}
			}
		}
	}
	return false
}

// VisibleTo is the one visibility rule (spec §1.3): the owner, anyone when
// public, and whoever a grant names. Disabled images are the owner's alone
// (they have no launch permissions left anyway).
func (img *Image) VisibleTo(v resource.Viewer) bool {
	if img.OwnerID == v.Account {
		return true
	}
	if img.State == StateDisabled {
		return false
	}
	return img.IsPublic() || img.GrantedTo(v)
}

// PublicDeprecationLimit is EC2's rule that a public image is deprecated
// at most two years after its creation, to the second (spec §2.10).
func (img *Image) PublicDeprecationLimit() time.Time { return img.CreationDate.AddDate(2, 0, 0) }

// CapDeprecation applies PublicDeprecationLimit to an image made public.
func (img *Image) CapDeprecation() {
	limit := img.PublicDeprecationLimit()
	if img.DeprecationTime == nil || img.DeprecationTime.After(limit) {
		img.DeprecationTime = &limit
	}
}

// ProtectionState is deregistrationProtection as EC2 reports it: the
// state, or "disabled after <time>" while a cooldown runs (spec §2.11).
func (img *Image) ProtectionState() string {
	if img.DeregistrationProtection == "" || img.DeregistrationProtection == ProtectionDisabled {
		if img.ProtectedUntil != nil {
			return "disabled after " + img.ProtectedUntil.UTC().Format(TimeFormat)
		}
		return ProtectionDisabled
	}
	return img.DeregistrationProtection
}

// Protected reports whether DeregisterImage must refuse the image:
// protection is on, or its cooldown still runs.
func (img *Image) Protected(now time.Time) bool {
	return img.DeregistrationProtection == ProtectionWithoutCooldown || img.DeregistrationProtection == ProtectionWithCooldown ||
		img.ProtectedUntil != nil && now.Before(*img.ProtectedUntil)
}

// Clone returns a deep copy, so a store can hand out images that callers may
// change without touching shared state.
func (img *Image) Clone() *Image {
	c := *img
	c.StateReason = clonePtr(img.StateReason)
	c.FailsWith = clonePtr(img.FailsWith)
	c.EnaSupport = clonePtr(img.EnaSupport)
	c.FreeTierEligible = clonePtr(img.FreeTierEligible)
	c.DeprecationTime = clonePtr(img.DeprecationTime)
	c.ProtectedUntil = clonePtr(img.ProtectedUntil)
	c.LastLaunchedTime = clonePtr(img.LastLaunchedTime)
	c.DeregisteredAt = clonePtr(img.DeregisteredAt)
	c.AvailableAt = clonePtr(img.AvailableAt)
	c.ProductCodes = append([]ProductCode(nil), img.ProductCodes...)
	c.LaunchPermissions = append([]LaunchPermission(nil), img.LaunchPermissions...)
	c.BlockDeviceMappings = nil
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil {
			e := *m.Ebs
			e.VolumeSize = clonePtr(e.VolumeSize)
			e.DeleteOnTermination = clonePtr(e.DeleteOnTermination)
			e.Iops = clonePtr(e.Iops)
			e.Throughput = clonePtr(e.Throughput)
			e.Encrypted = clonePtr(e.Encrypted)
			m.Ebs = &e
		}
		c.BlockDeviceMappings = append(c.BlockDeviceMappings, m)
	}
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
