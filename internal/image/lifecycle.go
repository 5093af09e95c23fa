package image

import (
	"context"
	"slices"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// ownerUpdate is the shape every owner-only image action shares: validate
// the id, apply the policy, then, in one transaction, find the image the
// caller owns, answer DryRun, and let change edit it.
func (s *Service) ownerUpdate(ctx context.Context, c resource.Caller, action, id string, dryRun bool, change func(tx Tx, img *Image) error) error {
	if err := CheckImageID(id); err != nil {
		return err
	}
	if err := resource.Authorize(c, action, resource.ImageARN(c.Region, id)); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		img, err := s.owned(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		return change(tx, img)
	})
}

// EnableImageDeprecation schedules the image's deprecation (spec §2.10):
// rounded to the minute, not in the past, at most ten years ahead, and for
// a public image at most two years after its creation.
func (s *Service) EnableImageDeprecation(ctx context.Context, c resource.Caller, id string, at *time.Time, dryRun bool) error {
	if at == nil {
		return awserr.MissingParameter("DeprecateAt")
	}
	when := at.UTC().Round(time.Minute)
	now := s.now()
	if when.Before(now.Truncate(time.Minute)) {
		return awserr.InvalidParameterValue("Value (%s) for parameter DeprecateAt is invalid. The deprecation time cannot be in the past.", at.UTC().Format(time.RFC3339))
	}
	if when.After(now.AddDate(10, 0, 0)) {
		return awserr.InvalidParameterValue("Value (%s) for parameter DeprecateAt is invalid. The deprecation time cannot be more than 10 years in the future.", at.UTC().Format(time.RFC3339))
	}
	return s.ownerUpdate(ctx, c, "EnableImageDeprecation", id, dryRun, func(tx Tx, img *Image) error {
		if img.IsPublic() && when.After(img.PublicDeprecationLimit()) {
			return awserr.InvalidParameterValue("Value (%s) for parameter DeprecateAt is invalid. A public image must be deprecated within 2 years of its creation date.", at.UTC().Format(time.RFC3339))
		}
		img.DeprecationTime = &when
		return tx.UpdateImage(ctx, img)
	})
}

// DisableImageDeprecation cancels a scheduled deprecation; a public image
// must be made private first.
func (s *Service) DisableImageDeprecation(ctx context.Context, c resource.Caller, id string, dryRun bool) error {
	return s.ownerUpdate(ctx, c, "DisableImageDeprecation", id, dryRun, func(tx Tx, img *Image) error {
		if img.IsPublic() {
			return awserr.New(awserr.CodeOperationNotPermitted, "The deprecation time of a public image cannot be cancelled. Make the image private first.")
		}
		if img.DeprecationTime == nil {
			return nil
		}
		img.DeprecationTime = nil
		return tx.UpdateImage(ctx, img)
	})
}

// Deregistration protection states (spec §2.11).
const (
	ProtectionDisabled        = "disabled"
	ProtectionWithoutCooldown = "enabled-without-cooldown"
	ProtectionWithCooldown    = "enabled-with-cooldown"
	protectionCooldown        = 24 * time.Hour
)

// EnableImageDeregistrationProtection protects the image from
// DeregisterImage and returns the new state.
func (s *Service) EnableImageDeregistrationProtection(ctx context.Context, c resource.Caller, id string, withCooldown, dryRun bool) (string, error) {
	state := ProtectionWithoutCooldown
	if withCooldown {
		state = ProtectionWithCooldown
	}
	err := s.ownerUpdate(ctx, c, "EnableImageDeregistrationProtection", id, dryRun, func(tx Tx, img *Image) error {
		img.DeregistrationProtection = state
		img.ProtectedUntil = nil
		return tx.UpdateImage(ctx, img)
	})
	return state, err
}

// DisableImageDeregistrationProtection lifts the protection; when it was
// enabled with cooldown, DeregisterImage stays refused for 24 hours.
func (s *Service) DisableImageDeregistrationProtection(ctx context.Context, c resource.Caller, id string, dryRun bool) (string, error) {
	err := s.ownerUpdate(ctx, c, "DisableImageDeregistrationProtection", id, dryRun, func(tx Tx, img *Image) error {
		if img.DeregistrationProtection == ProtectionWithCooldown {
			until := s.now().Add(protectionCooldown)
			img.ProtectedUntil = &until
		}
		img.DeregistrationProtection = ProtectionDisabled
		return tx.UpdateImage(ctx, img)
	})
	return ProtectionDisabled, err
}

// DisableImage disables the image (spec §2.12): every launch permission
// goes, only the owner sees it (with IncludeDisabled), nobody launches it.
func (s *Service) DisableImage(ctx context.Context, c resource.Caller, id string, dryRun bool) error {
	return s.ownerUpdate(ctx, c, "DisableImage", id, dryRun, func(tx Tx, img *Image) error {
		if img.State != StateAvailable {
			return awserr.Newf(awserr.CodeIncorrectState, "The image '%s' is %s and cannot be disabled.", id, img.State)
		}
		img.State = StateDisabled
		img.LaunchPermissions = nil
		if err := tx.UpdateImage(ctx, img); err != nil {
			return err
		}
		return s.emit(ctx, tx, img, StateDisabled, s.now())
	})
}

// EnableImage makes a disabled image available again; the launch
// permissions DisableImage removed are not restored.
func (s *Service) EnableImage(ctx context.Context, c resource.Caller, id string, dryRun bool) error {
	return s.ownerUpdate(ctx, c, "EnableImage", id, dryRun, func(tx Tx, img *Image) error {
		if img.State != StateDisabled {
			return awserr.Newf(awserr.CodeIncorrectState, "The image '%s' is %s and cannot be enabled. Only disabled images can be enabled.", id, img.State)
		}
		img.State = StateAvailable
		if err := tx.UpdateImage(ctx, img); err != nil {
			return err
		}
		return s.emit(ctx, tx, img, StateAvailable, s.now())
	})
}

// CancelImageLaunchPermission removes the caller's own explicit userId
// grant (spec §2.14). Without one, EC2 answers NotFound whatever the reason.
func (s *Service) CancelImageLaunchPermission(ctx context.Context, c resource.Caller, id string, dryRun bool) error {
	if err := CheckImageID(id); err != nil {
		return err
	}
	if err := resource.Authorize(c, "CancelImageLaunchPermission", resource.ImageARN(c.Region, id)); err != nil {
		return err
	}
	mine := LaunchPermission{Kind: PermUser, Value: c.Account}
	return s.store.Update(ctx, func(tx Tx) error {
		img, err := s.lookup(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if img.State == StateDeregistered || !slices.Contains(img.LaunchPermissions, mine) {
			return errNotFound(id)
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		img.LaunchPermissions = slices.DeleteFunc(img.LaunchPermissions, func(p LaunchPermission) bool { return p == mine })
		return tx.UpdateImage(ctx, img)
	})
}

// Block public access states (spec §2.13).
const (
	BlockNewSharing = "block-new-sharing"
	Unblocked       = "unblocked"
)

// SetImageBlockPublicAccess turns block public access for AMIs on
// (block-new-sharing) or off (unblocked) for the caller in its region.
func (s *Service) SetImageBlockPublicAccess(ctx context.Context, c resource.Caller, state string, dryRun bool) (string, error) {
	action := "DisableImageBlockPublicAccess"
	if state != Unblocked {
		action = "EnableImageBlockPublicAccess"
		if state == "" {
			return "", awserr.MissingParameter("ImageBlockPublicAccessState")
		}
		if state != BlockNewSharing {
			return "", awserr.InvalidParameterValue("Value (%s) for parameter ImageBlockPublicAccessState is invalid. Valid values: block-new-sharing", state)
		}
	}
	if err := resource.Authorize(c, action, "*"); err != nil {
		return "", err
	}
	if dryRun {
		return "", awserr.DryRunOK()
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		return tx.SetSetting(ctx, c.Region, c.Account, SettingBlockPublicAccess, state)
	})
	return state, err
}

// ImageBlockPublicAccessState returns the caller's setting in its region.
func (s *Service) ImageBlockPublicAccessState(ctx context.Context, c resource.Caller, dryRun bool) (string, error) {
	if err := resource.Authorize(c, "GetImageBlockPublicAccessState", "*"); err != nil {
		return "", err
	}
	if dryRun {
		return "", awserr.DryRunOK()
	}
	var blocked bool
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		blocked, err = s.publicAccessBlocked(ctx, tx, c.Region, c.Account)
		return err
	})
	if blocked {
		return BlockNewSharing, err
	}
	return Unblocked, err
}
