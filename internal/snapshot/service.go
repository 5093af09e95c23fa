package snapshot

import (
	"context"
	"errors"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// Options tune a Service; the zero value gives EC2's defaults.
type Options struct {
	Now   func() time.Time
	NewID func(prefix string) string
	// PendingDelay keeps new snapshots pending this long (--pending-delay).
	PendingDelay time.Duration
}

// Service implements the snapshot actions (and CreateVolume) over a Store.
type Service struct {
	store   Store
	volumes *volume.Service
	pages   *resource.Pages
	clock   resource.Clock
	ids     resource.IDSource
	delay   time.Duration
}

// NewService returns a Service over store; volumes is the volume service
// on the same store, pages seals NextTokens.
func NewService(store Store, volumes *volume.Service, pages *resource.Pages, opts Options) *Service {
	return &Service{store: store, volumes: volumes, pages: pages, clock: opts.Now, ids: opts.NewID, delay: opts.PendingDelay}
}

func (s *Service) now() time.Time { return s.clock.Now() }

// ErrMalformed is InvalidSnapshotID.Malformed for id.
func ErrMalformed(id string) error {
	return awserr.Newf(awserr.CodeInvalidSnapshotIDMalformed, "Invalid id: %q (expecting \"snap-...\")", id)
}

// ErrNotFound is InvalidSnapshot.NotFound for id.
func ErrNotFound(id string) error {
	return awserr.Newf(awserr.CodeInvalidSnapshotNotFound, "The snapshot '%s' does not exist.", id)
}

func errNotOwner(id string) error {
	return awserr.AuthFailureResource("Not authorized for snapshot:" + id)
}

// ValidID reports whether id is a well-formed snapshot id.
func ValidID(id string) bool { return resource.ValidResourceID(id, "snap") }

func checkID(param, id string) error {
	if id == "" {
		return awserr.MissingParameter(param)
	}
	if !ValidID(id) {
		return ErrMalformed(id)
	}
	return nil
}

// Usable reports whether the caller may use the snapshot (spec §1.4):
// it owns it, holds a userId grant, or the snapshot is public and its
// owner's block public access is not block-all-sharing.
func Usable(ctx context.Context, tx Tx, c resource.Caller, snap *Snapshot, perms []Permission) (bool, error) {
	if snap.OwnerID == c.Account {
		return true, nil
	}
	public := false
	for _, p := range perms {
		if p.UserID == c.Account {
			return true, nil
		}
		public = public || p.Group == GroupAll
	}
	if !public {
		return false, nil
	}
	state, err := BlockPublicAccess(ctx, tx, c.Region, snap.OwnerID)
	return state != BlockAllSharing, err
}

// find returns a snapshot the caller may use with its permissions, or
// InvalidSnapshot.NotFound: a snapshot it cannot use leaks nothing.
func (s *Service) find(ctx context.Context, tx Tx, c resource.Caller, region, id string) (*Snapshot, []Permission, error) {
	snap, err := tx.Snapshot(ctx, region, id)
	if errors.Is(err, resource.ErrNotFound) {
		return nil, nil, ErrNotFound(id)
	}
	if err != nil {
		return nil, nil, err
	}
	perms, err := tx.SnapshotPermissions(ctx, region, []string{id})
	if err != nil {
		return nil, nil, err
	}
	cr := c
	cr.Region = region
	ok, err := Usable(ctx, tx, cr, snap, perms[id])
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, ErrNotFound(id)
	}
	return snap, perms[id], nil
}

// owned is find for actions only the owner may take: AuthFailure for a
// snapshot the caller can use but does not own.
func (s *Service) owned(ctx context.Context, tx Tx, c resource.Caller, id string) (*Snapshot, []Permission, error) {
	snap, perms, err := s.find(ctx, tx, c, c.Region, id)
	if err != nil {
		return nil, nil, err
	}
	if snap.OwnerID != c.Account {
		return nil, nil, errNotOwner(id)
	}
	return snap, perms, nil
}

// CheckTaggable is the snapshot side of CreateTags and DeleteTags: the
// caller may tag, privately, any snapshot it can use (spec §1.8).
func (s *Service) CheckTaggable(ctx context.Context, tx Tx, c resource.Caller, id string) error {
	_, _, err := s.find(ctx, tx, c, c.Region, id)
	return err
}

// Snapshot block public access states (spec §5).
const (
	Unblocked        = "unblocked"
	BlockNewSharing  = "block-new-sharing"
	BlockAllSharing  = "block-all-sharing"
	settingBPA       = "snapshot-block-public-access"
	managedByAccount = "account"
)

// BlockPublicAccess is an account's snapshot block public access state in
// a region; unblocked unless set.
func BlockPublicAccess(ctx context.Context, tx resource.Tx, region, account string) (string, error) {
	v, err := tx.Setting(ctx, region, account, settingBPA)
	if errors.Is(err, resource.ErrNotFound) {
		return Unblocked, nil
	}
	return v, err
}

// EnableBlockPublicAccess sets the caller's state to block-new-sharing or
// block-all-sharing and returns it.
//
// Returns MissingParameter, InvalidRequest, UnauthorizedOperation and
// DryRunOperation.
func (s *Service) EnableBlockPublicAccess(ctx context.Context, c resource.Caller, state string, dryRun bool) (string, error) {
	if state == "" {
		return "", awserr.MissingParameter("State")
	}
	if state != BlockNewSharing && state != BlockAllSharing {
		return "", awserr.Newf(awserr.CodeInvalidRequest, "Value '%s' for State is not valid. Valid values are 'block-all-sharing' and 'block-new-sharing'.", state)
	}
	return state, s.setBPA(ctx, c, "EnableSnapshotBlockPublicAccess", state, dryRun)
}

// DisableBlockPublicAccess sets the caller's state to unblocked.
func (s *Service) DisableBlockPublicAccess(ctx context.Context, c resource.Caller, dryRun bool) (string, error) {
	return Unblocked, s.setBPA(ctx, c, "DisableSnapshotBlockPublicAccess", Unblocked, dryRun)
}

func (s *Service) setBPA(ctx context.Context, c resource.Caller, action, state string, dryRun bool) error {
	if err := resource.Authorize(c, action, "*"); err != nil {
		return err
	}
	if dryRun {
		return awserr.DryRunOK()
	}
	return s.store.UpdateSnapshots(ctx, func(tx Tx) error {
		return tx.SetSetting(ctx, c.Region, c.Account, settingBPA, state)
	})
}

// GetBlockPublicAccess returns the caller's state and who manages it
// (always the account: amigo has no declarative policies).
func (s *Service) GetBlockPublicAccess(ctx context.Context, c resource.Caller, dryRun bool) (state, managedBy string, err error) {
	if err := resource.Authorize(c, "GetSnapshotBlockPublicAccessState", "*"); err != nil {
		return "", "", err
	}
	if dryRun {
		return "", "", awserr.DryRunOK()
	}
	err = s.store.ViewSnapshots(ctx, func(tx Tx) error {
		state, err = BlockPublicAccess(ctx, tx, c.Region, c.Account)
		return err
	})
	return state, managedByAccount, err
}
