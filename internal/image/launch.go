package image

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// What the kinds built on images ask of them: whether an image may be
// launched and with which devices, whether ids exist for a caller, and
// whether it may tag one. The rules stay here; instance only asks.

// ImageToLaunch is the launch rule (spec §2.18): the image exists in the
// region and is not deregistered (else InvalidAMIID.NotFound), the caller's
// Allowed AMIs setting does not hide it (else InvalidAMIID.NotFound), the
// caller may launch it — owner, account, organization, OU or public grant
// (else AuthFailure, 400) — and it is available (else
// InvalidAMIID.Unavailable). Deprecated images stay launchable; disabled
// ones have no grants left and are not available to their owner either.
// The image returned is the caller's to change (MarkLaunched).
func (s *Service) ImageToLaunch(ctx context.Context, tx Tx, c resource.Caller, id string) (*Image, error) {
	img, err := tx.Image(ctx, c.Region, id)
	if errors.Is(err, resource.ErrNotFound) {
		return nil, errNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	s.settle(img)
	if s.gone(img) || img.State == StateDeregistered {
		return nil, errNotFound(id)
	}
	policy, err := s.loadAllowedPolicy(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	if policy.hides(img) {
		return nil, errNotFound(id)
	}
	if !img.VisibleTo(c.Viewer) {
		return nil, awserr.AuthFailureResource("Not authorized for images: [" + id + "]")
	}
	if img.State != StateAvailable {
		return nil, awserr.Newf(awserr.CodeInvalidAMIIDUnavailable, "AMI '%s' is %s, and cannot be run", id, img.State)
	}
	return img, nil
}

// MarkLaunched records a launch of img (from ImageToLaunch) at now:
// lastLaunchedTime, to the second.
func (s *Service) MarkLaunched(ctx context.Context, tx Tx, img *Image, now time.Time) error {
	launched := now.Truncate(time.Second)
	img.LastLaunchedTime = &launched
	return tx.UpdateImage(ctx, img)
}

// CheckVisible answers InvalidAMIID.NotFound naming every id the caller
// cannot see (or that no longer exists), nil when it sees them all.
func (s *Service) CheckVisible(ctx context.Context, tx Tx, c resource.Caller, ids []string) error {
	var missing []string
	for _, id := range ids {
		if _, err := s.lookup(ctx, tx, c, id); err != nil {
			if ae := awserr.From(err); ae.Code != awserr.CodeInvalidAMIIDNotFound {
				return err
			}
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return errNotFound(missing...)
	}
	return nil
}

// CheckTaggable is the image side of CreateTags and DeleteTags: a caller
// may tag an image it can see (the tags are its own, spec §1.6) that is not
// deregistered. Returns InvalidAMIID.NotFound otherwise.
func (s *Service) CheckTaggable(ctx context.Context, tx Tx, c resource.Caller, id string) error {
	img, err := s.lookup(ctx, tx, c, id)
	if err != nil {
		return err
	}
	if img.State == StateDeregistered {
		return errNotFound(id)
	}
	return nil
}

// NoDeviceSet is the NoDevice of a RunInstances or CreateImage override
// that leaves its device out. Clients send NoDevice empty, so the
// transport records its presence as this value.
const NoDeviceSet = "set"

// CheckLaunchMappings validates RunInstances' block device overrides
// before anything is looked up: the rules of RegisterImage's mappings,
// except that a device the image has needs no snapshot or size.
func CheckLaunchMappings(ms []BlockDeviceMapping) error { return checkMappings(ms, false) }

// LaunchMappings applies RunInstances' overrides to the image's devices:
// NoDevice drops one, EBS fields that are set replace the image's, new
// devices are added. The image's mappings are not changed.
//
// Returns InvalidBlockDeviceMapping.
func LaunchMappings(image, overrides []BlockDeviceMapping) ([]BlockDeviceMapping, error) {
	out := CloneMappings(image)
	for _, o := range overrides {
		i := slices.IndexFunc(out, func(m BlockDeviceMapping) bool { return m.DeviceName == o.DeviceName })
		switch {
		case o.NoDevice != "":
			if i >= 0 {
				out = slices.Delete(out, i, i+1)
			}
		case i < 0:
			if err := checkNewEbs(o); err != nil {
				return nil, err
			}
			n := CloneMappings([]BlockDeviceMapping{o})
			fillEbsDefaults(n)
			out = append(out, n...)
		case o.Ebs != nil:
			m := &out[i]
			if m.Ebs == nil {
				return nil, awserr.Newf(awserr.CodeInvalidBlockDeviceMapping, "The device %s is not an EBS volume of the image", o.DeviceName)
			}
			e, n := m.Ebs, o.Ebs
			if n.DeleteOnTermination != nil {
				e.DeleteOnTermination = clonePtr(n.DeleteOnTermination)
			}
			if n.VolumeSize != nil {
				e.VolumeSize = clonePtr(n.VolumeSize)
			}
			if n.VolumeType != "" {
				e.VolumeType = n.VolumeType
			}
			if n.Iops != nil {
				e.Iops = clonePtr(n.Iops)
			}
			if n.Throughput != nil {
				e.Throughput = clonePtr(n.Throughput)
			}
			if n.Encrypted != nil && *n.Encrypted {
				e.Encrypted = clonePtr(n.Encrypted)
			}
			if n.KmsKeyID != "" {
				e.KmsKeyID = n.KmsKeyID
			}
		}
	}
	return out, nil
}

// CloneMappings deep-copies block device mappings.
func CloneMappings(ms []BlockDeviceMapping) []BlockDeviceMapping {
	return (&Image{BlockDeviceMappings: ms}).Clone().BlockDeviceMappings
}
