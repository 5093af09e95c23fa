package image

import (
	"context"
	"slices"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// DescribeImageAttribute returns the image so the transport can render the
// one attribute asked for (spec §2.2). Only the owner may read attributes.
//
// Returns InvalidRequest for an unknown attribute (before any ownership
// check), AuthFailure for blockDeviceMapping and for non-owners,
// InvalidAMIID.NotFound / .Malformed / .Unavailable, UnauthorizedOperation
// and DryRunOperation.
func (s *Service) DescribeImageAttribute(ctx context.Context, c resource.Caller, id, attribute string, dryRun bool) (*Image, error) {
	if err := CheckImageID(id); err != nil {
		return nil, err
	}
	if attribute == "" {
		return nil, awserr.MissingParameter("Attribute")
	}
	if !slices.Contains(attributeNames, attribute) {
		return nil, errInvalidRequest()
	}
	if err := resource.Authorize(c, "DescribeImageAttribute", resource.ImageARN(c.Region, id)); err != nil {
		return nil, err
	}
	var img *Image
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		img, err = s.owned(ctx, tx, c, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if attribute == AttrBlockDeviceMapping {
		// Deprecated: EC2 refuses it and points users at DescribeImages.
		return nil, awserr.AuthFailureResource("Unauthorized attempt to access restricted resource")
	}
	if dryRun {
		return nil, awserr.DryRunOK()
	}
	return img, nil
}

// ResetImageAttribute restores launchPermission to its default: private,
// with every grant removed (spec §2.3).
func (s *Service) ResetImageAttribute(ctx context.Context, c resource.Caller, id, attribute string, dryRun bool) error {
	if err := CheckImageID(id); err != nil {
		return err
	}
	if attribute == "" {
		return awserr.MissingParameter("Attribute")
	}
	if attribute != AttrLaunchPermission {
		return errInvalidRequest()
	}
	if err := resource.Authorize(c, "ResetImageAttribute", resource.ImageARN(c.Region, id)); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		img, err := s.owned(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if img.State == StatePending {
			return errStateUnavailable(id, img.State)
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		if len(img.LaunchPermissions) == 0 {
			return nil
		}
		img.LaunchPermissions = nil
		return tx.UpdateImage(ctx, img)
	})
}
