package snapshot

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// maxDescription is the longest description amigo takes, as for images.
const maxDescription = 255

// CreateRequest is CreateSnapshot's input.
type CreateRequest struct {
	VolumeID          string
	Description       string
	OutpostArn        string
	Location          string
	TagSpecifications []resource.TagSpecification
	DryRun            bool
}

// Created is a new snapshot as its creating call answers: pending, with
// its tags.
type Created struct {
	*Snapshot
	Tags []resource.Tag
}

func checkDescription(d string) error {
	if utf8.RuneCountInString(d) > maxDescription {
		return awserr.InvalidParameterValue("Value for parameter description is too long; maximum is %d characters.", maxDescription)
	}
	return nil
}

// CreateSnapshot takes a snapshot of one of the caller's volumes (spec
// §3.1): pending in the answer, completed once --pending-delay has passed.
//
// Returns MissingParameter, InvalidVolumeID.Malformed,
// InvalidVolume.NotFound, IncorrectState (volume still creating),
// InvalidParameterValue, UnsupportedOperation, UnauthorizedOperation and
// DryRunOperation.
func (s *Service) CreateSnapshot(ctx context.Context, c resource.Caller, r *CreateRequest) (*Created, error) {
	if err := volume.CheckID("VolumeId", r.VolumeID); err != nil {
		return nil, err
	}
	if err := checkDescription(r.Description); err != nil {
		return nil, err
	}
	if r.OutpostArn != "" || r.Location == "local" {
		return nil, awserr.New(awserr.CodeUnsupportedOperation, "amigo does not model Outposts or Local Zones.")
	}
	if err := resource.CheckEnum("Location", r.Location, []string{"regional", "local"}); err != nil {
		return nil, err
	}
	tags, err := resource.TagsFor(r.TagSpecifications, "snapshot", "snapshot")
	if err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "CreateSnapshot", resource.SnapshotARN(c.Region, "*")); err != nil {
		return nil, err
	}
	var out *Created
	err = s.store.UpdateSnapshots(ctx, func(tx Tx) error {
		out = nil
		v, err := volume.Owned(ctx, tx, c, r.VolumeID)
		if err != nil {
			return err
		}
		now := s.now()
		if v.StateAt(now) == volume.StateCreating {
			return awserr.Newf(awserr.CodeIncorrectState, "Volume '%s' is not in a state from which a snapshot can be taken.", v.ID)
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		snap := &Snapshot{Region: c.Region, OwnerID: c.Account, VolumeID: v.ID, VolumeSize: v.Size,
			Description: r.Description, Encrypted: v.Encrypted, KmsKeyID: v.KmsKeyID}
		if err := s.insert(ctx, tx, c, snap, tags); err != nil {
			return err
		}
		out = &Created{Snapshot: snap, Tags: tags}
		return nil
	})
	return out, err
}

// insert stores a new snapshot of the caller's, started now and pending
// for the configured delay, with its tags.
func (s *Service) insert(ctx context.Context, tx Tx, c resource.Caller, snap *Snapshot, tags []resource.Tag) error {
	now := s.now()
	snap.State, snap.StartTime, snap.CompletedAt = StateCompleted, now, now.Add(s.delay)
	if o, ok := ctx.Value(outcomeKey{}).(Outcome); ok {
		snap.State, snap.StateMessage, snap.CompletedAt = StateError, o.Message, now.Add(o.After)
	}
	return Insert(ctx, tx, snap, func() string { return s.ids.New("snap") }, tags)
}

// Insert stores a new snapshot under an id drawn from newID (drawing again
// on a collision), with its owner's tags. The image actions that make
// snapshots (CreateImage, CopyImage) and the catalogue use it; snap comes
// with its state and times set.
func Insert(ctx context.Context, tx Tx, snap *Snapshot, newID func() string, tags []resource.Tag) error {
	for {
		snap.ID = newID()
		err := tx.InsertSnapshot(ctx, snap)
		if errors.Is(err, resource.ErrExists) {
			continue // an id collision: draw again
		}
		if err != nil {
			return err
		}
		break
	}
	audit.Created(ctx, "snapshotId", snap.ID)
	if len(tags) == 0 {
		return nil
	}
	return tx.SetTags(ctx, snap.Region, snap.OwnerID, snap.ID, tags)
}

// Resolve returns the snapshot of region with this id and whether the
// caller may use it (spec §1.4). A snapshot amigo holds no record of is
// (nil, false, nil): the image actions decide whether it is an external
// reference (spec §6.2).
func Resolve(ctx context.Context, tx Tx, c resource.Caller, region, id string) (*Snapshot, bool, error) {
	snap, err := tx.Snapshot(ctx, region, id)
	if errors.Is(err, resource.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	perms, err := tx.SnapshotPermissions(ctx, region, []string{id})
	if err != nil {
		return nil, false, err
	}
	cr := c
	cr.Region = region
	ok, err := Usable(ctx, tx, cr, snap, perms[id])
	return snap, ok, err
}

// CreateVolume makes a volume in the caller's region, blank or restored
// from a snapshot the caller may use (spec §2.1). The volume's own rules
// are volume's; this side resolves the snapshot.
//
// Returns MissingParameter, InvalidParameterValue,
// InvalidParameterCombination, InvalidParameterDependency,
// InvalidSnapshotID.Malformed, UnsupportedOperation, UnauthorizedOperation,
// InvalidZone.NotFound, InvalidSnapshot.NotFound ("Snapshot does not
// exist", EC2's wording here), IncorrectState, IdempotentParameterMismatch
// and DryRunOperation. A ClientToken seen before with the same parameters
// answers the volume it made.
func (s *Service) CreateVolume(ctx context.Context, c resource.Caller, r *volume.CreateRequest) (*volume.Volume, []resource.Tag, error) {
	tags, err := r.Check()
	if err != nil {
		return nil, nil, err
	}
	if err := resource.Authorize(c, "CreateVolume", resource.VolumeARN(c.Region, c.Account, "*")); err != nil {
		return nil, nil, err
	}
	zone, err := r.Zone(c.Region)
	if err != nil {
		return nil, nil, err
	}
	var v *volume.Volume
	replayed := false
	err = s.store.UpdateSnapshots(ctx, func(tx Tx) error {
		v, replayed = nil, false
		if !r.DryRun {
			prev, err := volume.Replay(ctx, tx, c, r)
			if err != nil || prev != nil {
				v, replayed = prev, prev != nil
				return err
			}
		}
		var src *volume.Source
		if r.SnapshotID != "" {
			snap, _, err := s.find(ctx, tx, c, c.Region, r.SnapshotID)
			var ae *awserr.Error
			if errors.As(err, &ae) && ae.Code == awserr.CodeInvalidSnapshotNotFound {
				return awserr.New(awserr.CodeInvalidSnapshotNotFound, "Snapshot does not exist")
			}
			if err != nil {
				return err
			}
			if state, _ := snap.StateAt(s.now()); state != StateCompleted {
				return awserr.Newf(awserr.CodeIncorrectState, "Snapshot '%s' is not in a completed state.", snap.ID)
			}
			src = &volume.Source{ID: snap.ID, Size: snap.VolumeSize, Encrypted: snap.Encrypted, KmsKeyID: snap.KmsKeyID}
		}
		var err error
		v, err = s.volumes.Create(ctx, tx, c, r, zone, src, tags)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if replayed {
		// The earlier answer's tags are the volume's current ones.
		err = s.store.ViewSnapshots(ctx, func(tx Tx) error {
			got, err := tx.Tags(ctx, c.Region, c.Account, []string{v.ID})
			tags = got[v.ID]
			return err
		})
	}
	return v, tags, err
}

// CopyRequest is CopySnapshot's input. PresignedUrl and
// DestinationRegion, which the SDKs add on their own, are accepted and
// ignored by the handler.
type CopyRequest struct {
	SourceRegion      string
	SourceSnapshotID  string
	Description       string
	Encrypted         *bool
	KmsKeyID          string
	CompletionMinutes *int32
	DestinationOutpostArn,
	DestinationAvailabilityZone string
	TagSpecifications []resource.TagSpecification
	DryRun            bool
}

// CopySnapshot copies a snapshot the caller may use, from any served
// region into the request's region (spec §3.4). The copy is the caller's,
// with no permissions and only the request's tags.
//
// Returns MissingParameter, InvalidParameterValue, InvalidSnapshotID.Malformed,
// InvalidParameterDependency, UnsupportedOperation, UnauthorizedOperation,
// InvalidSnapshot.NotFound, IncorrectState and DryRunOperation.
func (s *Service) CopySnapshot(ctx context.Context, c resource.Caller, r *CopyRequest) (*Created, error) {
	switch {
	case r.SourceRegion == "":
		return nil, awserr.MissingParameter("SourceRegion")
	case r.SourceSnapshotID == "":
		return nil, awserr.MissingParameter("SourceSnapshotId")
	}
	if _, ok := resource.LookupRegion(r.SourceRegion); !ok {
		return nil, awserr.InvalidParameterValue("Value (%s) for parameter SourceRegion is invalid.", r.SourceRegion)
	}
	if !ValidID(r.SourceSnapshotID) {
		return nil, ErrMalformed(r.SourceSnapshotID)
	}
	if r.Encrypted != nil && !*r.Encrypted {
		return nil, awserr.InvalidParameterValue("-10022: The parameter encrypted=false is invalid")
	}
	if r.KmsKeyID != "" && r.Encrypted == nil {
		return nil, awserr.New(awserr.CodeInvalidParameterDependency, "The parameter KmsKeyId requires the parameter Encrypted to be set.")
	}
	if m := r.CompletionMinutes; m != nil && (*m < 15 || *m > 2880 || *m%15 != 0) {
		return nil, awserr.InvalidParameterValue("Value (%d) for parameter CompletionDurationMinutes is invalid. Valid values are multiples of 15 from 15 to 2880.", *m)
	}
	if r.DestinationOutpostArn != "" || r.DestinationAvailabilityZone != "" {
		return nil, awserr.New(awserr.CodeUnsupportedOperation, "amigo does not model Outposts or Local Zones.")
	}
	if err := checkDescription(r.Description); err != nil {
		return nil, err
	}
	tags, err := resource.TagsFor(r.TagSpecifications, "snapshot", "snapshot")
	if err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "CopySnapshot", resource.SnapshotARN(r.SourceRegion, r.SourceSnapshotID)); err != nil {
		return nil, err
	}
	var out *Created
	err = s.store.UpdateSnapshots(ctx, func(tx Tx) error {
		out = nil
		src, _, err := s.find(ctx, tx, c, r.SourceRegion, r.SourceSnapshotID)
		if err != nil {
			return err
		}
		if state, _ := src.StateAt(s.now()); state != StateCompleted {
			return awserr.Newf(awserr.CodeIncorrectState, "Snapshot '%s' is not in a completed state.", src.ID)
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		cp := &Snapshot{Region: c.Region, OwnerID: c.Account, VolumeID: CopyVolumeID, VolumeSize: src.VolumeSize,
			Description: r.Description, TransferType: "standard", Encrypted: src.Encrypted}
		if r.CompletionMinutes != nil {
			cp.TransferType, cp.CompletionMinutes = "time-based", r.CompletionMinutes
		}
		switch {
		case r.KmsKeyID != "":
			cp.Encrypted, cp.KmsKeyID = true, volume.KeyARN(c.Region, c.Account, r.KmsKeyID)
		case src.Encrypted && src.OwnerID == c.Account && src.Region == c.Region:
			cp.KmsKeyID = src.KmsKeyID
		case src.Encrypted || r.Encrypted != nil:
			cp.Encrypted, cp.KmsKeyID = true, volume.DefaultKeyARN(c.Region, c.Account)
		}
		if err := s.insert(ctx, tx, c, cp, tags); err != nil {
			return err
		}
		out = &Created{Snapshot: cp, Tags: tags}
		return nil
	})
	return out, err
}

// DeleteSnapshot deletes one of the caller's snapshots (spec §3.5), unless
// an image that is not deregistered names it.
//
// Returns MissingParameter, InvalidSnapshotID.Malformed,
// InvalidSnapshot.NotFound, AuthFailure (another account's),
// InvalidSnapshot.InUse, UnauthorizedOperation and DryRunOperation.
func (s *Service) DeleteSnapshot(ctx context.Context, c resource.Caller, id string, dryRun bool) error {
	if err := checkID("SnapshotId", id); err != nil {
		return err
	}
	if err := resource.Authorize(c, "DeleteSnapshot", resource.SnapshotARN(c.Region, id)); err != nil {
		return err
	}
	return s.store.UpdateSnapshots(ctx, func(tx Tx) error {
		if _, _, err := s.owned(ctx, tx, c, id); err != nil {
			return err
		}
		img, err := tx.ImageUsingSnapshot(ctx, c.Region, id)
		if err != nil {
			return err
		}
		if img != "" {
			return awserr.Newf(awserr.CodeInvalidSnapshotInUse, "The snapshot %s is currently in use by %s", id, img)
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		if err := tx.DeleteSnapshot(ctx, c.Region, id); err != nil {
			return err
		}
		// Only the owner's tags can be dropped here: grantees' private tags
		// on a deleted snapshot stay, unseen, as on images.
		return tx.SetTags(ctx, c.Region, c.Account, id, nil)
	})
}
