// Package volume holds amigo's EBS volumes as metadata (spec ec2-snapshots
// §2): their types, sizes, performance defaults and validation, states,
// DescribeVolumes and DeleteVolume. Volumes are never shared: only the
// owner sees one. Creating a volume from a snapshot needs the snapshot's
// rules, so snapshot calls Create here (as instance calls image for
// CreateImage); volume never imports snapshot.
package volume

import (
	"context"
	"time"

	"github.com/amigo-ec2/amigo/internal/resource"
)

// Volume states, as EC2 names them.
const (
	StateCreating  = "creating"
	StateAvailable = "available"
	StateInUse     = "in-use"
)

// Types are the volume types, in the model's order.
var Types = []string{"standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"}

// Volume is one EBS volume.
type Volume struct {
	Region           string
	ID               string
	OwnerID          string
	Size             int32
	SnapshotID       string
	AvailabilityZone string
	ZoneID           string
	VolumeType       string
	Iops             *int32
	Throughput       *int32
	Encrypted        bool
	KmsKeyID         string
	MultiAttach      bool
	InitRate         *int32
	CreateTime       time.Time
	// AvailableAt is when a creating volume becomes available (a read
	// settles it lazily, as images do).
	AvailableAt time.Time
	// Attachment is the instance the volume is attached to, nil when it is
	// not (amigo's volumes are attached only by RunInstances, one instance
	// each: no Multi-Attach).
	Attachment *Attachment `json:",omitempty"`
}

// Attachment is a volume's attachment to an instance (VolumeAttachment);
// its status is always attached, since attaching and detaching are
// instantaneous in amigo.
type Attachment struct {
	InstanceID          string
	Device              string
	AttachTime          time.Time
	DeleteOnTermination bool
}

// AttachmentAttached is the status of every amigo attachment.
const AttachmentAttached = "attached"

// StateAt is the volume's state at now: in-use while attached.
func (v *Volume) StateAt(now time.Time) string {
	if v.Attachment != nil {
		return StateInUse
	}
	if now.Before(v.AvailableAt) {
		return StateCreating
	}
	return StateAvailable
}

// Query selects volumes; zero fields do not narrow. Region "" means every
// region (export).
type Query struct {
	Region  string
	OwnerID string
	IDs     []string
	AfterID string
	Limit   int
}

// Tx is a transaction over volumes (and what every kind shares).
type Tx interface {
	resource.Tx
	// Volume returns one volume, or resource.ErrNotFound.
	Volume(ctx context.Context, region, id string) (*Volume, error)
	// InsertVolume stores a new volume; resource.ErrExists if the id is taken.
	InsertVolume(ctx context.Context, v *Volume) error
	// UpdateVolume replaces a volume; resource.ErrNotFound if absent.
	UpdateVolume(ctx context.Context, v *Volume) error
	// DeleteVolume removes a volume; resource.ErrNotFound if absent.
	DeleteVolume(ctx context.Context, region, id string) error
	// FindVolumes returns the volumes q selects, ordered by id (then region).
	FindVolumes(ctx context.Context, q Query) ([]*Volume, error)
}

// Store runs transactions that see volumes. Two names beside image.Store's
// View/Update for the reason instance.Store gives.
type Store interface {
	ViewVolumes(ctx context.Context, fn func(Tx) error) error
	UpdateVolumes(ctx context.Context, fn func(Tx) error) error
}
