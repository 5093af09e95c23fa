package image

import (
	"context"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// RegisterRequest is RegisterImage's input.
type RegisterRequest struct {
	Name, Description, ImageLocation      string
	Architecture, KernelID, RamdiskID     string
	RootDeviceName, VirtualizationType    string
	SriovNetSupport, BootMode, TpmSupport string
	UefiData, ImdsSupport                 string
	EnaSupport                            *bool
	BlockDeviceMappings                   []BlockDeviceMapping
	BillingProducts                       []string
	TagSpecifications                     []resource.TagSpecification
	DryRun                                bool
}

var (
	architectures = []string{"i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"}
	bootModes     = []string{"legacy-bios", "uefi", "uefi-preferred"}
	volumeTypes   = []string{"standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"}
	virtTypes     = []string{"hvm", "paravirtual"}
)

// CheckName applies the AMI name rule shared by RegisterImage, CopyImage and
// CreateImage.
func CheckName(name string) error {
	if name == "" {
		return awserr.MissingParameter("Name")
	}
	if !ValidName(name) {
		return awserr.New(awserr.CodeInvalidAMINameMalformed, "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '[', ']', ' ', '.', '/', '-', ''', '@' and '_'")
	}
	return nil
}

// CheckDescription applies the 255-character description limit.
func CheckDescription(d string) error {
	if utf8.RuneCountInString(d) > 255 {
		return awserr.InvalidParameterValue("Value for parameter description is invalid. The description must be at most 255 characters long.")
	}
	return nil
}

// ImageTags validates TagSpecifications and returns the tags meant for the
// image; only the allowed resource types may appear.
func ImageTags(specs []resource.TagSpecification, allowed ...string) ([]resource.Tag, error) {
	return resource.TagsFor(specs, "image", allowed...)
}

// checkMappings validates block device mappings as RegisterImage and
// RunInstances take them: each names a device once; an EBS device has a
// well-formed snapshot, a known type and a size in range. newDevice says
// whether an EBS device must also name a snapshot or a size (always for
// RegisterImage; at launch only for devices the image does not have, which
// LaunchMappings checks).
func checkMappings(ms []BlockDeviceMapping, newDevice bool) error {
	seen := map[string]bool{}
	for _, m := range ms {
		if m.DeviceName == "" {
			return awserr.MissingParameter("BlockDeviceMapping.DeviceName")
		}
		if seen[m.DeviceName] {
			return awserr.Newf(awserr.CodeInvalidBlockDeviceMapping, "The device '%s' is used in more than one block-device mapping", m.DeviceName)
		}
		seen[m.DeviceName] = true
		if m.Ebs == nil {
			continue
		}
		e := m.Ebs
		if e.SnapshotID != "" && !resource.ValidResourceID(e.SnapshotID, "snap") {
			return awserr.Newf(awserr.CodeInvalidSnapshotIDMalformed, "Invalid id: %q (expecting \"snap-...\")", e.SnapshotID)
		}
		if err := resource.CheckEnum("volumeType", e.VolumeType, volumeTypes); err != nil {
			return err
		}
		if e.VolumeSize != nil && (*e.VolumeSize < 1 || *e.VolumeSize > 65536) {
			return awserr.InvalidParameterValue("Value (%d) for parameter volumeSize is invalid. Expecting a value between 1 and 65536.", *e.VolumeSize)
		}
		if newDevice {
			if err := checkNewEbs(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRegisterEbs refuses what RegisterImage's EBS mappings may not carry
// (spec ec2-snapshots §6.2): the encryption of a snapshot's volume is the
// snapshot's, so Encrypted (either value) may not come with a SnapshotId;
// and a KMS key is only for the mappings of launches. An empty KmsKeyId is
// absent, as the SDKs send it.
//
// Returns InvalidParameter and UnknownParameter.
func checkRegisterEbs(ms []BlockDeviceMapping) error {
	for _, m := range ms {
		e := m.Ebs
		if e == nil {
			continue
		}
		if e.SnapshotID != "" && e.Encrypted != nil {
			return awserr.New(awserr.CodeInvalidParameter, "Parameter encrypted is invalid. You cannot specify the encrypted flag if specifying a snapshot id in a block device mapping.")
		}
		if e.KmsKeyID != "" {
			// EC2's answer to a key in an image's mapping (observed for
			// CreateImage, hashicorp/packer#6212); the spec's
			// InvalidParameterCombination is a guess.
			return awserr.New(awserr.CodeUnknownParameter, "The parameter KmsKeyId is not recognized")
		}
	}
	return nil
}

// checkNewEbs is the rule that a new EBS device needs a snapshot or a size.
func checkNewEbs(m BlockDeviceMapping) error {
	if m.Ebs != nil && m.Ebs.SnapshotID == "" && m.Ebs.VolumeSize == nil {
		return awserr.Newf(awserr.CodeInvalidBlockDeviceMapping, "Either snapshot ID or volume size must be provided for: %s", m.DeviceName)
	}
	return nil
}

// RegisterImage creates an image owned by the caller (spec §2.5), from
// snapshots it may use (ec2-snapshots §6.2).
//
// Returns InvalidAMIName.Malformed / .Duplicate, InvalidParameterValue,
// InvalidSnapshotID.Malformed, InvalidSnapshot.NotFound, IncorrectState,
// InvalidBlockDeviceMapping, InvalidParameter and UnknownParameter
// (checkRegisterEbs),
// ResourceLimitExceeded (the image quota), UnauthorizedOperation and
// DryRunOperation.
func (s *Service) RegisterImage(ctx context.Context, c resource.Caller, r *RegisterRequest) (string, error) {
	if err := CheckName(r.Name); err != nil {
		return "", err
	}
	if err := CheckDescription(r.Description); err != nil {
		return "", err
	}
	for _, e := range []struct {
		p, v string
		ok   []string
	}{
		{"architecture", r.Architecture, architectures},
		{"bootMode", r.BootMode, bootModes},
		{"virtualizationType", r.VirtualizationType, virtTypes},
		{"tpmSupport", r.TpmSupport, []string{"v2.0"}},
		{"imdsSupport", r.ImdsSupport, []string{"v2.0"}},
		{"sriovNetSupport", r.SriovNetSupport, []string{"simple"}},
	} {
		if err := resource.CheckEnum(e.p, e.v, e.ok); err != nil {
			return "", err
		}
	}
	if utf8.RuneCountInString(r.UefiData) > 64000 {
		return "", awserr.InvalidParameterValue("Value for parameter uefiData is invalid. It must be at most 64000 characters long.")
	}
	if r.KernelID != "" && !resource.ValidResourceID(r.KernelID, "aki") {
		return "", awserr.Newf(awserr.CodeInvalidKernelIdMalformed, "Invalid id: %q (expecting \"aki-...\")", r.KernelID)
	}
	if r.RamdiskID != "" && !resource.ValidResourceID(r.RamdiskID, "ari") {
		return "", awserr.Newf(awserr.CodeInvalidRamDiskIdMalformed, "Invalid id: %q (expecting \"ari-...\")", r.RamdiskID)
	}
	if err := checkMappings(r.BlockDeviceMappings, true); err != nil {
		return "", err
	}
	if err := checkRegisterEbs(r.BlockDeviceMappings); err != nil {
		return "", err
	}
	fillEbsDefaults(r.BlockDeviceMappings)
	var root *BlockDeviceMapping
	for i := range r.BlockDeviceMappings {
		if r.BlockDeviceMappings[i].DeviceName == r.RootDeviceName {
			root = &r.BlockDeviceMappings[i]
		}
	}
	if r.ImageLocation == "" && (root == nil || root.Ebs == nil || root.Ebs.SnapshotID == "") {
		if r.RootDeviceName == "" {
			return "", awserr.MissingParameter("RootDeviceName")
		}
		return "", awserr.Newf(awserr.CodeInvalidBlockDeviceMapping, "The root device name '%s' must be mapped to an EBS snapshot", r.RootDeviceName)
	}
	tags, err := ImageTags(r.TagSpecifications, "image")
	if err != nil {
		return "", err
	}
	if err := resource.Authorize(c, "RegisterImage", resource.ImageARN(c.Region, "*")); err != nil {
		return "", err
	}
	if r.DryRun {
		// The snapshots are checked before DryRun answers (spec §8.3).
		err := s.store.View(ctx, func(tx Tx) error {
			_, err := s.checkSnapshots(ctx, tx, c, CloneMappings(r.BlockDeviceMappings))
			return err
		})
		if err != nil {
			return "", err
		}
		return "", awserr.DryRunOK()
	}

	img := &Image{
		Region:                   c.Region,
		ID:                       s.newID("ami"),
		OwnerID:                  c.Account,
		Name:                     r.Name,
		Description:              r.Description,
		State:                    StateAvailable,
		CreationDate:             s.now().Truncate(1e6),
		Architecture:             orDefault(r.Architecture, "i386"),
		ImageType:                "machine",
		KernelID:                 r.KernelID,
		RamdiskID:                r.RamdiskID,
		PlatformDetails:          "Linux/UNIX",
		UsageOperation:           "RunInstances",
		RootDeviceName:           r.RootDeviceName,
		VirtualizationType:       orDefault(r.VirtualizationType, "paravirtual"),
		Hypervisor:               "xen",
		SriovNetSupport:          r.SriovNetSupport,
		EnaSupport:               r.EnaSupport,
		BootMode:                 r.BootMode,
		TpmSupport:               r.TpmSupport,
		UefiData:                 r.UefiData,
		ImdsSupport:              r.ImdsSupport,
		BlockDeviceMappings:      r.BlockDeviceMappings,
		DeregistrationProtection: ProtectionDisabled,
	}
	s.startPending(img)
	planOutcome(ctx, img)
	audit.Created(ctx, "imageId", img.ID)
	if root != nil && root.Ebs != nil && root.Ebs.SnapshotID != "" {
		img.RootDeviceType = "ebs"
		img.Location = c.Account + "/" + r.Name
	} else {
		img.RootDeviceType = "instance-store"
		img.Location = r.ImageLocation
	}
	if r.ImageLocation != "" {
		img.Location = r.ImageLocation
	}
	mappings := img.BlockDeviceMappings
	err = s.store.Update(ctx, func(tx Tx) error {
		// checkSnapshots fills in the mappings; a retried function starts
		// again from the request's.
		img.BlockDeviceMappings = CloneMappings(mappings)
		ready, err := s.checkSnapshots(ctx, tx, c, img.BlockDeviceMappings)
		if err != nil {
			return err
		}
		if ready.After(img.CreationDate) && (img.AvailableAt == nil || ready.After(*img.AvailableAt)) {
			// Pending until its last snapshot completes.
			img.State, img.AvailableAt = StatePending, &ready
		}
		if err := checkNameFree(ctx, tx, c.Region, c.Account, r.Name); err != nil {
			return err
		}
		if err := s.checkImageQuota(ctx, tx, c); err != nil {
			return err
		}
		if err := tx.InsertImage(ctx, img); err != nil {
			return err
		}
		if err := s.emitCreated(ctx, tx, img); err != nil {
			return err
		}
		if len(tags) > 0 {
			return tx.SetTags(ctx, c.Region, c.Account, img.ID, tags)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return img.ID, nil
}

// checkNameFree applies the rule that an owner's live images have distinct
// names in a region (RegisterImage, CopyImage, CreateImage).
func checkNameFree(ctx context.Context, tx Tx, region, owner, name string) error {
	other, err := tx.ImageIDByName(ctx, region, owner, name)
	if err != nil {
		return err
	}
	if other != "" {
		return awserr.Newf(awserr.CodeInvalidAMINameDuplicate, "AMI name %s is already in use by AMI %s", name, other)
	}
	return nil
}

// fillEbsDefaults gives EBS mappings the values EC2 reports when the request
// left them out.
func fillEbsDefaults(ms []BlockDeviceMapping) {
	for i := range ms {
		e := ms[i].Ebs
		if e == nil {
			continue
		}
		if e.DeleteOnTermination == nil {
			t := true
			e.DeleteOnTermination = &t
		}
		if e.VolumeType == "" {
			e.VolumeType = "gp2"
		}
		if e.Encrypted == nil {
			f := false
			e.Encrypted = &f
		}
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// SnapshotResult is one entry of DeregisterImage's deleteSnapshotResultSet.
type SnapshotResult struct {
	SnapshotID string
	ReturnCode string
}

// DeregisterImage deregisters an image the caller owns (spec §2.6). The
// image stays describable by id for a while; its name is free at once.
//
// Returns InvalidAMIID.Malformed / .NotFound / .Unavailable (already
// deregistered), AuthFailure (not the owner), OperationNotPermitted
// (protected), UnauthorizedOperation and DryRunOperation.
func (s *Service) DeregisterImage(ctx context.Context, c resource.Caller, id string, deleteSnapshots, dryRun bool) ([]SnapshotResult, error) {
	if err := CheckImageID(id); err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "DeregisterImage", resource.ImageARN(c.Region, id)); err != nil {
		return nil, err
	}
	var results []SnapshotResult
	err := s.store.Update(ctx, func(tx Tx) error {
		results = nil
		img, err := s.owned(ctx, tx, c, id)
		if err != nil {
			return err
		}
		now := s.now()
		if img.Protected(now) {
			return awserr.Newf(awserr.CodeOperationNotPermitted, "Image %s has deregistration protection enabled. Disable deregistration protection and try again.", id)
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		wasPending := img.State == StatePending
		img.State = StateDeregistered
		img.DeregisteredAt = &now
		if err := tx.UpdateImage(ctx, img); err != nil {
			return err
		}
		if deleteSnapshots {
			// After the update, so this image no longer holds them.
			var err error
			if results, err = s.deleteSnapshots(ctx, tx, c, img); err != nil {
				return err
			}
		}
		return s.emitAfter(ctx, tx, img, StateDeregistered, now, wasPending)
	})
	return results, err
}
