package image

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// CreateImage is served by the instance package, which finds the instance;
// the image it makes is built here, so image needs to know no instances:
// only the Machine an image is taken from.

// Machine is what CreateImage copies from the instance it images.
type Machine struct {
	// InstanceID becomes sourceInstanceId; ImageID is the image the
	// instance was launched from, whose billing codes the new image keeps.
	InstanceID, ImageID string

	Architecture, Platform, KernelID, RamdiskID string
	RootDeviceName, VirtualizationType          string
	Hypervisor, SriovNetSupport, BootMode       string
	EnaSupport                                  *bool
	// BlockDeviceMappings are the instance's volumes.
	BlockDeviceMappings []BlockDeviceMapping
	// VolumeIDs names the volume at each device (device name → vol- id),
	// which the image's new snapshots record; devices without an entry
	// make snapshots without a volume id.
	VolumeIDs map[string]string
}

// CreateRequest is CreateImage's input besides the instance.
type CreateRequest struct {
	Name        string
	Description string
	NoReboot    bool
	// BlockDeviceMappings may only change DeleteOnTermination of the
	// instance's volumes or leave one out (NoDevice).
	BlockDeviceMappings []BlockDeviceMapping
	TagSpecifications   []resource.TagSpecification
	DryRun              bool
}

// Check validates the request before anything is looked up (spec §2.8)
// and returns the tags meant for the image.
//
// Returns MissingParameter, InvalidAMIName.Malformed,
// InvalidParameterValue and InvalidBlockDeviceMapping.
func (r *CreateRequest) Check() ([]resource.Tag, error) {
	if err := CheckName(r.Name); err != nil {
		return nil, err
	}
	if err := CheckDescription(r.Description); err != nil {
		return nil, err
	}
	for _, m := range r.BlockDeviceMappings {
		if m.DeviceName == "" {
			return nil, awserr.MissingParameter("BlockDeviceMapping.DeviceName")
		}
		e := m.Ebs
		if m.VirtualName != "" || e != nil && (e.SnapshotID != "" || e.VolumeSize != nil || e.VolumeType != "" ||
			e.Iops != nil || e.Throughput != nil || e.Encrypted != nil || e.KmsKeyID != "" || e.OutpostArn != "" || e.AvailabilityZone != "") {
			return nil, awserr.Newf(awserr.CodeInvalidBlockDeviceMapping, "Only DeleteOnTermination and NoDevice can be specified for device %s: the volumes of the instance cannot be changed. Use CopyImage to change encryption.", m.DeviceName)
		}
	}
	return ImageTags(r.TagSpecifications, "image", "snapshot")
}

// CheckMachine applies the request to the machine it images: every device
// the request names must be one of the machine's.
//
// Returns InvalidBlockDeviceMapping.
func (r *CreateRequest) CheckMachine(m *Machine) error {
	for _, o := range r.BlockDeviceMappings {
		if !slices.ContainsFunc(m.BlockDeviceMappings, func(im BlockDeviceMapping) bool { return im.DeviceName == o.DeviceName }) {
			return awserr.Newf(awserr.CodeInvalidBlockDeviceMapping, "The device %s is not mapped on instance %s", o.DeviceName, m.InstanceID)
		}
	}
	return nil
}

// CreateFrom makes the caller's EBS image of a machine in tx, once the
// request has passed Check and CheckMachine: its volumes become the
// mappings, with new snapshots; it takes the machine's architecture,
// kernel, platform, networking flags and boot mode, and the billing codes
// of the image the machine came from. It returns the new image's id.
//
// Returns InvalidAMIName.Duplicate and ResourceLimitExceeded (the image
// quota).
func (s *Service) CreateFrom(ctx context.Context, tx Tx, c resource.Caller, m *Machine, r *CreateRequest, tags []resource.Tag) (string, error) {
	if err := checkNameFree(ctx, tx, c.Region, c.Account, r.Name); err != nil {
		return "", err
	}
	if err := s.checkImageQuota(ctx, tx, c); err != nil {
		return "", err
	}
	img := s.imageOf(c, m, r)
	planOutcome(ctx, img)
	// Billing and licensing follow the image the instance came from.
	if src, err := tx.Image(ctx, c.Region, m.ImageID); err == nil {
		img.PlatformDetails = orDefault(src.PlatformDetails, img.PlatformDetails)
		img.UsageOperation = orDefault(src.UsageOperation, img.UsageOperation)
		img.ProductCodes = append([]ProductCode(nil), src.ProductCodes...)
		img.TpmSupport = src.TpmSupport
	} else if !errors.Is(err, resource.ErrNotFound) {
		return "", err
	}
	// Validated by Check, with the image's tags.
	snapTags, err := resource.TagsFor(r.TagSpecifications, "snapshot", "image", "snapshot")
	if err != nil {
		return "", err
	}
	if err := s.createSnapshots(ctx, tx, c, m, img, snapTags); err != nil {
		return "", err
	}
	if err := tx.InsertImage(ctx, img); err != nil {
		return "", err
	}
	if err := s.emitCreated(ctx, tx, img); err != nil {
		return "", err
	}
	if len(tags) > 0 {
		if err := tx.SetTags(ctx, c.Region, c.Account, img.ID, tags); err != nil {
			return "", err
		}
	}
	return img.ID, nil
}

// imageOf builds the image of a machine.
func (s *Service) imageOf(c resource.Caller, m *Machine, r *CreateRequest) *Image {
	var ms []BlockDeviceMapping
	for _, d := range CloneMappings(m.BlockDeviceMappings) {
		i := slices.IndexFunc(r.BlockDeviceMappings, func(o BlockDeviceMapping) bool { return o.DeviceName == d.DeviceName })
		if i >= 0 {
			o := r.BlockDeviceMappings[i]
			if o.NoDevice != "" {
				continue
			}
			if o.Ebs != nil && o.Ebs.DeleteOnTermination != nil && d.Ebs != nil {
				d.Ebs.DeleteOnTermination = clonePtr(o.Ebs.DeleteOnTermination)
			}
		}
		ms = append(ms, d) // EBS devices get their snapshots in createSnapshots
	}
	platformDetails, usage := "Linux/UNIX", "RunInstances"
	if m.Platform == "windows" {
		platformDetails, usage = "Windows", "RunInstances:0002"
	}
	img := &Image{
		Region:                   c.Region,
		ID:                       s.newID("ami"),
		OwnerID:                  c.Account,
		Name:                     r.Name,
		Description:              r.Description,
		Location:                 c.Account + "/" + r.Name,
		CreationDate:             s.now().Truncate(time.Millisecond),
		Architecture:             m.Architecture,
		ImageType:                "machine",
		KernelID:                 m.KernelID,
		RamdiskID:                m.RamdiskID,
		Platform:                 m.Platform,
		PlatformDetails:          platformDetails,
		UsageOperation:           usage,
		RootDeviceName:           m.RootDeviceName,
		RootDeviceType:           "ebs",
		VirtualizationType:       m.VirtualizationType,
		Hypervisor:               orDefault(m.Hypervisor, "xen"),
		SriovNetSupport:          m.SriovNetSupport,
		EnaSupport:               clonePtr(m.EnaSupport),
		BootMode:                 m.BootMode,
		BlockDeviceMappings:      ms,
		DeregistrationProtection: ProtectionDisabled,
		SourceInstanceID:         m.InstanceID,
	}
	s.startPending(img)
	return img
}
