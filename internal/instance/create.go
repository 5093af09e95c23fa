package instance

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// CreateImageRequest is CreateImage's input: the instance, and what image
// needs to build the image.
type CreateImageRequest struct {
	InstanceID string
	image.CreateRequest
}

// CreateImage makes an EBS image of one of the caller's running or stopped
// instances (spec §2.8). It lives here, not in image, because it needs an
// instance: instance depends on image, never the reverse, so this side
// finds the instance and checks its state, and image builds the image from
// the Machine it is given (its rules: name, devices, billing codes,
// sourceInstanceId). NoReboot changes nothing.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// InvalidAMIName.Malformed / .Duplicate, InvalidParameterValue,
// InvalidBlockDeviceMapping, IncorrectInstanceState, UnsupportedOperation
// (instance-store root), UnauthorizedOperation and DryRunOperation.
func (s *Service) CreateImage(ctx context.Context, c resource.Caller, r *CreateImageRequest) (string, error) {
	if err := checkID(r.InstanceID); err != nil {
		return "", err
	}
	tags, err := r.Check()
	if err != nil {
		return "", err
	}
	if err := resource.Authorize(c, "CreateImage", resource.ImageARN(c.Region, "*")); err != nil {
		return "", err
	}
	var id string
	err = s.store.UpdateInstances(ctx, func(tx Tx) error {
		id = ""
		inst, err := s.owned(ctx, tx, c, r.InstanceID)
		if err != nil {
			return err
		}
		if inst.State != StateRunning && inst.State != StateStopped {
			return awserr.Newf(awserr.CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be imaged.", inst.ID)
		}
		if inst.RootDeviceType != "" && inst.RootDeviceType != "ebs" {
			return awserr.Newf(awserr.CodeUnsupportedOperation, "The instance '%s' is not EBS-backed; CreateImage needs an EBS root volume.", inst.ID)
		}
		m := inst.machine()
		if err := r.CheckMachine(m); err != nil {
			return err
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		id, err = s.images.CreateFrom(ctx, tx, c, m, &r.CreateRequest, tags)
		audit.Created(ctx, "imageId", id)
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}
