package volume

import (
	"context"
	"errors"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// Options tune a Service; the zero value gives EC2's defaults.
type Options struct {
	Now   func() time.Time
	NewID func(prefix string) string
	// PendingDelay keeps a new volume creating this long (the images'
	// --pending-delay); zero makes it available at the next read.
	PendingDelay time.Duration
}

// Service implements the volume actions over a Store.
type Service struct {
	store Store
	pages *resource.Pages
	clock resource.Clock
	ids   resource.IDSource
	delay time.Duration
}

// NewService returns a Service over store; pages seals its NextTokens
// (the image service's, so every listing shares one key).
func NewService(store Store, pages *resource.Pages, opts Options) *Service {
	return &Service{store: store, pages: pages, clock: opts.Now, ids: opts.NewID, delay: opts.PendingDelay}
}

func (s *Service) now() time.Time { return s.clock.Now() }

// ErrMalformed is InvalidVolumeID.Malformed for id.
func ErrMalformed(id string) error {
	return awserr.Newf(awserr.CodeInvalidVolumeIDMalformed, "Invalid id: %q (expecting \"vol-...\")", id)
}

// ErrNotFound is InvalidVolume.NotFound for id.
func ErrNotFound(id string) error {
	return awserr.Newf(awserr.CodeInvalidVolumeNotFound, "The volume '%s' does not exist.", id)
}

// ValidID reports whether id is a well-formed volume id.
func ValidID(id string) bool { return resource.ValidResourceID(id, "vol") }

// CheckID refuses a missing or malformed volume id.
func CheckID(param, id string) error {
	if id == "" {
		return awserr.MissingParameter(param)
	}
	if !ValidID(id) {
		return ErrMalformed(id)
	}
	return nil
}

// Owned returns the caller's volume with that id in its region, or
// InvalidVolume.NotFound.
func Owned(ctx context.Context, tx Tx, c resource.Caller, id string) (*Volume, error) {
	v, err := tx.Volume(ctx, c.Region, id)
	if errors.Is(err, resource.ErrNotFound) || err == nil && v.OwnerID != c.Account {
		return nil, ErrNotFound(id)
	}
	return v, err
}

// CheckTaggable is the volume side of CreateTags and DeleteTags: only the
// owner may tag a volume.
func (s *Service) CheckTaggable(ctx context.Context, tx Tx, c resource.Caller, id string) error {
	_, err := Owned(ctx, tx, c, id)
	return err
}

// DeleteVolume removes one of the caller's volumes (spec §2.4); deleting
// never touches snapshots taken from it.
//
// Returns MissingParameter, InvalidVolumeID.Malformed, InvalidVolume.NotFound,
// VolumeInUse, UnauthorizedOperation and DryRunOperation.
func (s *Service) DeleteVolume(ctx context.Context, c resource.Caller, id string, dryRun bool) error {
	if err := CheckID("VolumeId", id); err != nil {
		return err
	}
	if err := resource.Authorize(c, "DeleteVolume", resource.VolumeARN(c.Region, c.Account, id)); err != nil {
		return err
	}
	return s.store.UpdateVolumes(ctx, func(tx Tx) error {
		v, err := Owned(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if a := v.Attachment; a != nil {
			return awserr.Newf(awserr.CodeVolumeInUse, "Volume %s is currently attached to %s", id, a.InstanceID)
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		if err := tx.DeleteVolume(ctx, c.Region, id); err != nil {
			return err
		}
		// The owner's tags go with the volume.
		return tx.SetTags(ctx, c.Region, c.Account, id, nil)
	})
}
