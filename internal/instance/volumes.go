package instance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// An instance's EBS volumes (spec ec2-snapshots §2.5): RunInstances makes
// one per EBS device of the instance's final mappings, in the launch's
// transaction; TerminateInstances deletes those marked deleteOnTermination
// and detaches the others. The volume's attachment is the truth about
// deleteOnTermination for termination; the instance's mapping holds the
// same value for DescribeInstances, and ModifyInstanceAttribute changes
// both.

// VolumeID is the id of the EBS volume an instance has at a device:
// derived from both, so the instance needs no list of its volumes and the
// id never changes. RunInstances creates the volume under this id.
func VolumeID(instanceID, device string) string {
	sum := sha256.Sum256([]byte(instanceID + "\x00" + device))
	return "vol-" + hex.EncodeToString(sum[:])[:17]
}

// AttachedVolume is one EBS device of an instance, as DescribeInstances
// and DescribeInstanceAttribute show it (InstanceBlockDeviceMapping).
type AttachedVolume struct {
	Device              string
	VolumeID            string
	AttachTime          time.Time
	DeleteOnTermination bool
}

// Volumes are the instance's attached EBS volumes, in mapping order; none
// once it is terminated (its volumes are then deleted or detached).
// Instance-store devices are not listed, as on EC2.
func (inst *Instance) Volumes() []AttachedVolume {
	if inst.State == StateTerminated {
		return nil
	}
	var out []AttachedVolume
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs == nil {
			continue
		}
		out = append(out, AttachedVolume{Device: m.DeviceName, VolumeID: VolumeID(inst.ID, m.DeviceName),
			AttachTime: inst.LaunchTime, DeleteOnTermination: deleteOnTermination(m.Ebs)})
	}
	return out
}

// deleteOnTermination is a launch mapping's flag: true unless it says
// otherwise, for the root device and every other mapping given at launch
// (spec §2.5, decision 40).
func deleteOnTermination(e *image.EbsBlockDevice) bool {
	return e.DeleteOnTermination == nil || *e.DeleteOnTermination
}

// launchVolumes creates and tags inst's EBS volumes. imageDevices are the
// image's device names: the image's snapshots need no permission (the
// launch permission is enough, spec §6.8), a snapshot only the request
// names must be one the caller may use.
//
// Returns InvalidSnapshot.NotFound, InvalidBlockDeviceMapping and
// InvalidParameterDependency.
func launchVolumes(ctx context.Context, tx Tx, c resource.Caller, inst *Instance, imageDevices []string, tags []resource.Tag) error {
	zone := resource.Zone{Name: inst.AvailabilityZone(), ID: inst.AvailabilityZoneID()}
	for _, m := range inst.BlockDeviceMappings {
		e := m.Ebs
		if e == nil {
			continue
		}
		src, err := launchSource(ctx, tx, c, e, !slices.Contains(imageDevices, m.DeviceName))
		if err != nil {
			return err
		}
		d := volume.Device{Name: m.DeviceName, SnapshotID: e.SnapshotID, Size: e.VolumeSize, VolumeType: e.VolumeType,
			Iops: e.Iops, Throughput: e.Throughput, Encrypted: e.Encrypted != nil && *e.Encrypted, KmsKeyID: e.KmsKeyID,
			DeleteOnTermination: deleteOnTermination(e)}
		v, err := volume.Launched(c, VolumeID(inst.ID, m.DeviceName), zone, inst.ID, inst.LaunchTime, d, src)
		if err != nil {
			return err
		}
		if err := tx.InsertVolume(ctx, v); err != nil {
			return err
		}
		if len(tags) > 0 {
			if err := tx.SetTags(ctx, c.Region, c.Account, v.ID, tags); err != nil {
				return err
			}
		}
	}
	return nil
}

// launchSource is the snapshot a launched volume is restored from, nil for
// a blank one. A snapshot amigo holds no record of is an external
// reference (spec §6.2) when the image names it, restored at the mapping's
// size (8 GiB when it has none); when only the request names it, it is
// InvalidSnapshot.NotFound, as is a snapshot the caller may not use.
func launchSource(ctx context.Context, tx Tx, c resource.Caller, e *image.EbsBlockDevice, requestOnly bool) (*volume.Source, error) {
	if e.SnapshotID == "" {
		return nil, nil
	}
	snap, err := tx.Snapshot(ctx, c.Region, e.SnapshotID)
	if errors.Is(err, resource.ErrNotFound) {
		if requestOnly {
			return nil, snapshot.ErrNotFound(e.SnapshotID)
		}
		size := int32(8)
		if e.VolumeSize != nil {
			size = *e.VolumeSize
		}
		return &volume.Source{ID: e.SnapshotID, Size: size}, nil
	}
	if err != nil {
		return nil, err
	}
	if requestOnly {
		perms, err := tx.SnapshotPermissions(ctx, c.Region, []string{snap.ID})
		if err != nil {
			return nil, err
		}
		ok, err := snapshot.Usable(ctx, tx, c, snap, perms[snap.ID])
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, snapshot.ErrNotFound(e.SnapshotID)
		}
	}
	return &volume.Source{ID: snap.ID, Size: snap.VolumeSize, Encrypted: snap.Encrypted, KmsKeyID: snap.KmsKeyID}, nil
}

// releaseVolumes is termination's side of inst's volumes: those marked
// deleteOnTermination are deleted with their tags, the others detached
// (available, still the owner's). A device without a volume (an instance
// launched before amigo made volumes) is skipped.
func releaseVolumes(ctx context.Context, tx Tx, inst *Instance) error {
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs == nil {
			continue
		}
		v, err := tx.Volume(ctx, inst.Region, VolumeID(inst.ID, m.DeviceName))
		if errors.Is(err, resource.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if v.Attachment == nil || v.Attachment.InstanceID != inst.ID {
			continue
		}
		if v.Attachment.DeleteOnTermination {
			if err := tx.DeleteVolume(ctx, v.Region, v.ID); err != nil {
				return err
			}
			if err := tx.SetTags(ctx, v.Region, v.OwnerID, v.ID, nil); err != nil {
				return err
			}
			continue
		}
		v.Attachment = nil
		if err := tx.UpdateVolume(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

// setVolumeDeleteOnTermination changes the flag on the volume attached at
// device, as ModifyInstanceAttribute changes it on the instance.
func setVolumeDeleteOnTermination(ctx context.Context, tx Tx, inst *Instance, device string, dot bool) error {
	v, err := tx.Volume(ctx, inst.Region, VolumeID(inst.ID, device))
	if errors.Is(err, resource.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if v.Attachment == nil || v.Attachment.InstanceID != inst.ID || v.Attachment.DeleteOnTermination == dot {
		return nil
	}
	v.Attachment.DeleteOnTermination = dot
	return tx.UpdateVolume(ctx, v)
}
