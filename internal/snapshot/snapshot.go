// Package snapshot holds amigo's EBS snapshots (spec ec2-snapshots §3–5):
// CreateSnapshot from a volume, DescribeSnapshots with who may see what,
// CopySnapshot, DeleteSnapshot, the createVolumePermission attribute and
// snapshot block public access. CreateVolume lives here too, because
// restoring a snapshot needs the snapshot's rules: snapshot builds on
// volume, never the reverse.
package snapshot

import (
	"context"
	"time"

	"github.com/amigo-ec2/amigo/internal/volume"
)

// Snapshot states, as EC2 names them.
const (
	StatePending   = "pending"
	StateCompleted = "completed"
	StateError     = "error"
)

// CopyVolumeID is the volume id of every copied snapshot: it names no
// volume and must not be resolved (spec §1.1).
const CopyVolumeID = "vol-ffffffff"

// Snapshot is one EBS snapshot.
type Snapshot struct {
	Region     string
	ID         string
	OwnerID    string
	OwnerAlias string
	VolumeID   string
	VolumeSize int32
	// State is the stored state: completed or error, either read as
	// pending until CompletedAt (the end of pending, whichever way it
	// ends). StateMessage says why an error snapshot failed.
	State        string
	StateMessage string
	StartTime    time.Time
	CompletedAt  time.Time
	Description  string
	Encrypted    bool
	KmsKeyID     string
	TransferType string
	// CompletionMinutes is a time-based copy's CompletionDurationMinutes.
	CompletionMinutes *int32
	// Public mirrors a group=all entry in the permissions, kept as a
	// column so public snapshots are an index look-up.
	Public bool
}

// StateAt is the snapshot's state and progress at now: a completed
// snapshot reads pending until its completion time comes.
func (s *Snapshot) StateAt(now time.Time) (state, progress string) {
	// A planned failure (Outcome) is stored as error and reads pending
	// until its time too.
	if (s.State == StateCompleted || s.State == StateError) && now.Before(s.CompletedAt) {
		return StatePending, ""
	}
	if s.State == StateCompleted {
		return StateCompleted, "100%"
	}
	return s.State, ""
}

// Permission is one createVolumePermission entry: an account (UserID) or
// the group all.
type Permission struct {
	UserID string
	Group  string
}

// GroupAll is the only group: every account.
const GroupAll = "all"

// Query selects snapshots; zero fields do not narrow. Region "" means
// every region (export).
type Query struct {
	Region   string
	IDs      []string
	OwnerIDs []string
	// VisibleTo keeps the snapshots that account owns, that are public, or
	// that grant it createVolumePermission (block public access is the
	// domain's to apply).
	VisibleTo string
	AfterID   string
	Limit     int
}

// Tx is a transaction over snapshots, their permissions and volumes.
type Tx interface {
	volume.Tx
	// Snapshot returns one snapshot, or resource.ErrNotFound.
	Snapshot(ctx context.Context, region, id string) (*Snapshot, error)
	// InsertSnapshot stores a new snapshot; resource.ErrExists if taken.
	InsertSnapshot(ctx context.Context, s *Snapshot) error
	// UpdateSnapshot replaces a snapshot; resource.ErrNotFound if absent.
	UpdateSnapshot(ctx context.Context, s *Snapshot) error
	// DeleteSnapshot removes a snapshot and its permissions.
	DeleteSnapshot(ctx context.Context, region, id string) error
	// FindSnapshots returns the snapshots q selects, ordered by id (then
	// region).
	FindSnapshots(ctx context.Context, q Query) ([]*Snapshot, error)
	// SnapshotPermissions returns the permissions of each snapshot, by id,
	// in the order they were granted; snapshots without any are absent.
	SnapshotPermissions(ctx context.Context, region string, ids []string) (map[string][]Permission, error)
	// SetSnapshotPermissions replaces one snapshot's permissions.
	SetSnapshotPermissions(ctx context.Context, region, id string, perms []Permission) error
	// ImageUsingSnapshot returns the id of an image of the region that is
	// not deregistered and names the snapshot in its block device
	// mappings (the oldest by creation date, then id), or "" when there is
	// none. It is a look-up in the engines' index of snapshot references,
	// which image writes maintain; images written before that index
	// existed are in it only when their snapshot had a record then (the
	// migration's backfill) — their other ids are external references,
	// which no snapshot action can reach.
	ImageUsingSnapshot(ctx context.Context, region, snapshotID string) (string, error)
}

// Store runs transactions that see snapshots and volumes.
type Store interface {
	volume.Store
	ViewSnapshots(ctx context.Context, fn func(Tx) error) error
	UpdateSnapshots(ctx context.Context, fn func(Tx) error) error
}
