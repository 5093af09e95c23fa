package image

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

// The ties between images and their snapshots (spec ec2-snapshots §6). An
// image holds references: its mappings name snapshots, which are
// snapshot records with their own owner and permissions. A snapshot id
// with no record is an external reference: accepted by RegisterImage only
// with Options.AllowUnknownSnapshots, and what every id of an image stored
// before amigo kept snapshots becomes — recognised here, when an action
// meets it, never by rewriting rows.

// defaultExternalSize is the size an external reference's mapping records
// when the request gave none (spec §6.2).
const defaultExternalSize = 8

func errSnapshotNotFound(id string) error {
	return awserr.Newf(awserr.CodeInvalidSnapshotNotFound, "The snapshot '%s' does not exist.", id)
}

// errNoStorageAccess is CopyImage's refusal of an image whose snapshots
// the caller may not read (spec §6.4; EC2 sends it without a period).
func errNoStorageAccess() error {
	return awserr.New(awserr.CodeInvalidRequest, "You do not have permission to access the storage of this ami")
}

// errMarketplaceCopy is CopyImage's refusal of another account's image
// with a Marketplace product code (spec §6.4; EC2's message, code not
// recorded: InvalidRequest as the storage refusal).
func errMarketplaceCopy() error {
	return awserr.New(awserr.CodeInvalidRequest, "Images from AWS Marketplace cannot be copied to another AWS account")
}

// checkSnapshots applies RegisterImage's snapshot rules to its mappings in
// request order (spec §6.2): each snapshot exists in the region and the
// caller may use it (own, granted or public), is not in error, and is no
// larger than the mapping's VolumeSize. It fills what the snapshot
// decides: an absent VolumeSize and the encryption. It returns when the
// last pending snapshot completes (zero if none is pending): the image
// stays pending until then.
//
// Returns InvalidSnapshot.NotFound, IncorrectState and
// InvalidBlockDeviceMapping.
func (s *Service) checkSnapshots(ctx context.Context, tx Tx, c resource.Caller, ms []BlockDeviceMapping) (time.Time, error) {
	var ready time.Time
	now := s.now()
	for _, m := range ms {
		e := m.Ebs
		if e == nil || e.SnapshotID == "" {
			continue
		}
		snap, usable, err := snapshot.Resolve(ctx, tx, c, c.Region, e.SnapshotID)
		if err != nil {
			return time.Time{}, err
		}
		if snap == nil && s.opts.AllowUnknownSnapshots {
			if e.VolumeSize == nil {
				size := int32(defaultExternalSize)
				e.VolumeSize = &size
			}
			continue
		}
		if !usable {
			return time.Time{}, errSnapshotNotFound(e.SnapshotID)
		}
		state, _ := snap.StateAt(now)
		if state == snapshot.StateError {
			return time.Time{}, awserr.Newf(awserr.CodeIncorrectState, "Snapshot '%s' is not in a completed state.", snap.ID)
		}
		if state == snapshot.StatePending && snap.CompletedAt.After(ready) {
			ready = snap.CompletedAt
		}
		switch {
		case e.VolumeSize == nil:
			size := snap.VolumeSize
			e.VolumeSize = &size
		case *e.VolumeSize < snap.VolumeSize:
			return time.Time{}, awserr.Newf(awserr.CodeInvalidBlockDeviceMapping, "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB",
				*e.VolumeSize, snap.ID, snap.VolumeSize)
		}
		enc := snap.Encrypted
		e.Encrypted = &enc
		e.KmsKeyID = snap.KmsKeyID
	}
	return ready, nil
}

// sourceSnapshots resolves the snapshots of an image about to be copied,
// by mapping index: nil for mappings without one and for external
// references. A caller that does not own the image must be able to use
// every snapshot that has a record; external references count as usable
// (spec §6.4) — whether the image is public plays no part.
//
// Returns InvalidRequest (no storage access).
func (s *Service) sourceSnapshots(ctx context.Context, tx Tx, c resource.Caller, src *Image) ([]*snapshot.Snapshot, error) {
	out := make([]*snapshot.Snapshot, len(src.BlockDeviceMappings))
	for i, m := range src.BlockDeviceMappings {
		if m.Ebs == nil || m.Ebs.SnapshotID == "" {
			continue
		}
		snap, usable, err := snapshot.Resolve(ctx, tx, c, src.Region, m.Ebs.SnapshotID)
		if err != nil {
			return nil, err
		}
		if snap != nil && !usable && src.OwnerID != c.Account {
			return nil, errNoStorageAccess()
		}
		out[i] = snap
	}
	return out, nil
}

// copySnapshots gives each EBS mapping of img (the new copy, whose
// mappings are the source's) a snapshot record in the caller's region,
// as CopyImage does (spec §6.4): the caller's, volume vol-ffffffff,
// described after the images and the source snapshot, with the request's
// snapshot tags and no permissions. srcs is sourceSnapshots' answer.
func (s *Service) copySnapshots(ctx context.Context, tx Tx, c resource.Caller, src, img *Image, srcs []*snapshot.Snapshot, r *CopyRequest, tags []resource.Tag) error {
	now := s.now()
	for i := range img.BlockDeviceMappings {
		e := img.BlockDeviceMappings[i].Ebs
		if e == nil || e.SnapshotID == "" {
			continue
		}
		from := srcs[i]
		cp := &snapshot.Snapshot{Region: c.Region, OwnerID: c.Account, VolumeID: snapshot.CopyVolumeID,
			State: snapshot.StateCompleted, StartTime: now, CompletedAt: now.Add(s.opts.PendingDelay), TransferType: "standard",
			Description: fmt.Sprintf("Copied for DestinationAmi %s from SourceAmi %s for SourceSnapshot %s. Task created on %s.",
				img.ID, src.ID, e.SnapshotID, thousands(now.UnixMilli()))}
		switch {
		case from != nil:
			cp.VolumeSize, cp.Encrypted, cp.KmsKeyID = from.VolumeSize, from.Encrypted, from.KmsKeyID
		case e.VolumeSize != nil:
			cp.VolumeSize = *e.VolumeSize
		default:
			cp.VolumeSize = defaultExternalSize
		}
		if m := r.SnapshotCopyCompletionDurationMinutes; m != nil {
			minutes := int32(*m)
			cp.TransferType, cp.CompletionMinutes = "time-based", &minutes
		}
		if e.Encrypted != nil && *e.Encrypted {
			cp.Encrypted = true
			if e.KmsKeyID != "" {
				cp.KmsKeyID = e.KmsKeyID
			}
		}
		if err := snapshot.Insert(ctx, tx, cp, func() string { return s.newID("snap") }, tags); err != nil {
			return err
		}
		e.SnapshotID = cp.ID
		if e.VolumeSize == nil {
			size := cp.VolumeSize
			e.VolumeSize = &size
		}
	}
	return nil
}

// thousands writes n with comma thousands separators, as EC2 writes the
// copy time in a copied snapshot's description.
func thousands(n int64) string {
	d := strconv.FormatInt(n, 10)
	out := make([]byte, 0, len(d)+len(d)/3)
	for i := range len(d) {
		if i > 0 && (len(d)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, d[i])
	}
	return string(out)
}

// createSnapshots gives each EBS mapping of img (a new image of machine m)
// a snapshot of the volume at that device, as CreateImage does (spec
// §6.3): the caller's, described after the instance and the image, with
// the request's snapshot tags.
func (s *Service) createSnapshots(ctx context.Context, tx Tx, c resource.Caller, m *Machine, img *Image, tags []resource.Tag) error {
	now := s.now()
	for i := range img.BlockDeviceMappings {
		d := img.BlockDeviceMappings[i]
		e := d.Ebs
		if e == nil {
			continue
		}
		snap := &snapshot.Snapshot{Region: c.Region, OwnerID: c.Account, VolumeID: m.VolumeIDs[d.DeviceName],
			State: snapshot.StateCompleted, StartTime: now, CompletedAt: now.Add(s.opts.PendingDelay),
			Description: fmt.Sprintf("Created by CreateImage(%s) for %s", m.InstanceID, img.ID), KmsKeyID: e.KmsKeyID}
		if e.VolumeSize != nil {
			snap.VolumeSize = *e.VolumeSize
		} else {
			snap.VolumeSize = defaultExternalSize
			size := snap.VolumeSize
			e.VolumeSize = &size
		}
		snap.Encrypted = e.Encrypted != nil && *e.Encrypted
		if err := snapshot.Insert(ctx, tx, snap, func() string { return s.newID("snap") }, tags); err != nil {
			return err
		}
		e.SnapshotID = snap.ID
	}
	return nil
}

// Return codes of DeregisterImage's deleteSnapshotResultSet (model enum
// SnapshotReturnCodes).
const (
	snapshotDeleted            = "success"
	snapshotSkipped            = "skipped"
	snapshotMissingPermissions = "missing-permissions"
	snapshotClientError        = "client-error"
)

// deleteSnapshots deletes the snapshots of img, just deregistered in tx,
// that nothing else needs (spec §6.5), and reports one result per
// distinct snapshot id in mapping order: skipped while another image that
// is not deregistered names it, missing-permissions for another account's
// snapshot or one the caller's IAM policy does not let it delete,
// client-error for an id with no record (already deleted) —
// except that with AllowUnknownSnapshots such an id is an external
// reference and reads success, there being nothing to delete.
func (s *Service) deleteSnapshots(ctx context.Context, tx Tx, c resource.Caller, img *Image) ([]SnapshotResult, error) {
	var out []SnapshotResult
	seen := map[string]bool{}
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs == nil || m.Ebs.SnapshotID == "" || seen[m.Ebs.SnapshotID] {
			continue
		}
		id := m.Ebs.SnapshotID
		seen[id] = true
		code, err := s.deleteSnapshot(ctx, tx, c, id)
		if err != nil {
			return nil, err
		}
		out = append(out, SnapshotResult{SnapshotID: id, ReturnCode: code})
	}
	return out, nil
}

// deleteSnapshot deletes one snapshot for DeregisterImage as DeleteSnapshot
// would, on the caller's own IAM policy: a policy that allows
// DeregisterImage but not ec2:DeleteSnapshot on this snapshot's ARN keeps
// it (missing-permissions). The policy comes first, as it does for
// DeleteSnapshot itself (spec §8.3).
func (s *Service) deleteSnapshot(ctx context.Context, tx Tx, c resource.Caller, id string) (string, error) {
	if resource.Authorize(c, "DeleteSnapshot", resource.SnapshotARN(c.Region, id)) != nil {
		return snapshotMissingPermissions, nil
	}
	other, err := tx.ImageUsingSnapshot(ctx, c.Region, id)
	if err != nil {
		return "", err
	}
	if other != "" {
		return snapshotSkipped, nil
	}
	snap, err := tx.Snapshot(ctx, c.Region, id)
	if errors.Is(err, resource.ErrNotFound) {
		if s.opts.AllowUnknownSnapshots {
			return snapshotDeleted, nil
		}
		return snapshotClientError, nil
	}
	if err != nil {
		return "", err
	}
	if snap.OwnerID != c.Account {
		return snapshotMissingPermissions, nil
	}
	if err := tx.DeleteSnapshot(ctx, c.Region, id); err != nil {
		return "", err
	}
	return snapshotDeleted, tx.SetTags(ctx, c.Region, c.Account, id, nil)
}
