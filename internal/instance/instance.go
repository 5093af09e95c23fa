// Package instance holds amigo's instances: just enough of EC2's to launch
// images (RunInstances asks image whether a launch is allowed), describe,
// modify and terminate them, list the images they reference, and image
// them (CreateImage). It builds on image, never the reverse.
package instance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

// Instance states, as EC2 names them.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
	StateStopping     = "stopping"
	StateStopped      = "stopped"
)

// states is every state, in EC2's order.
var states = []string{StatePending, StateRunning, StateShuttingDown, StateTerminated, StateStopping, StateStopped}

// StateCode is the number EC2 gives each instance state.
func StateCode(state string) int32 {
	switch state {
	case StatePending:
		return 0
	case StateRunning:
		return 16
	case StateShuttingDown:
		return 32
	case StateTerminated:
		return 48
	case StateStopping:
		return 64
	case StateStopped:
		return 80
	}
	return 0
}

// Instance is just enough of an EC2 instance for images: launched from an
// image that the launch permissions allow, and the source of CreateImage.
type Instance struct {
	Region        string
	ID            string
	OwnerID       string
	ReservationID string
	ImageID       string
	State         string
	InstanceType  string
	LaunchTime    time.Time

	Architecture       string
	Platform           string
	KernelID           string
	RamdiskID          string
	RootDeviceName     string
	RootDeviceType     string
	VirtualizationType string
	Hypervisor         string
	SriovNetSupport    string
	EnaSupport         *bool
	BootMode           string

	// BlockDeviceMappings are the instance's volumes; CreateImage turns
	// them into the new image's mappings.
	BlockDeviceMappings []image.BlockDeviceMapping

	// Metadata options (IMDS).
	HttpTokens              string
	HttpPutResponseHopLimit int32
	HttpEndpoint            string

	TerminatedAt *time.Time
}

// AvailabilityZone is where amigo says the instance runs: the region's
// first zone.
func (inst *Instance) AvailabilityZone() string { return inst.Region + "a" }

// VolumeID is the id of the EBS volume an instance has at a device, derived
// from both so that it needs no storage and never changes.
func VolumeID(instanceID, device string) string {
	sum := sha256.Sum256([]byte(instanceID + "\x00" + device))
	return "vol-" + hex.EncodeToString(sum[:])[:17]
}

// machine is what CreateImage copies from the instance.
func (inst *Instance) machine() *image.Machine {
	return &image.Machine{
		InstanceID: inst.ID, ImageID: inst.ImageID,
		Architecture: inst.Architecture, Platform: inst.Platform, KernelID: inst.KernelID, RamdiskID: inst.RamdiskID,
		RootDeviceName: inst.RootDeviceName, VirtualizationType: inst.VirtualizationType,
		Hypervisor: inst.Hypervisor, SriovNetSupport: inst.SriovNetSupport, BootMode: inst.BootMode,
		EnaSupport: inst.EnaSupport, BlockDeviceMappings: inst.BlockDeviceMappings,
	}
}

// Query selects instances; zero fields do not narrow. Region "" means
// every region (export).
type Query struct {
	Region   string
	OwnerID  string
	IDs      []string
	ImageIDs []string
	AfterID  string
	Limit    int
}

// Store is the image store whose transactions also hold instances, so a
// launch reads the image and writes the instance atomically. View and
// Update (image.Store) serve image actions; ViewInstances and
// UpdateInstances are the same transactions seen through Tx. (Two names
// because Go has no covariant method types: one engine method cannot take
// both a func(image.Tx) and a func(instance.Tx).)
type Store interface {
	image.Store
	snapshot.Store
	// ViewInstances is View with instances.
	ViewInstances(ctx context.Context, fn func(Tx) error) error
	// UpdateInstances is Update with instances.
	UpdateInstances(ctx context.Context, fn func(Tx) error) error
}

// Tx is a transaction over images and instances.
type Tx interface {
	image.Tx
	// Snapshots and volumes, so the tag actions can check their ids.
	snapshot.Tx

	// Instance returns one instance, or resource.ErrNotFound.
	Instance(ctx context.Context, region, id string) (*Instance, error)
	// InsertInstance stores a new instance.
	InsertInstance(ctx context.Context, inst *Instance) error
	// UpdateInstance replaces an existing instance; ErrNotFound if absent.
	UpdateInstance(ctx context.Context, inst *Instance) error
	// FindInstances returns the instances matching q, ordered by id.
	FindInstances(ctx context.Context, q Query) ([]*Instance, error)
}
