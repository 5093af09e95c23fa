// Package instance holds amigo's instances: just enough of EC2's to launch
// images (RunInstances asks image whether a launch is allowed), describe,
// modify and terminate them, list the images they reference, and image
// them (CreateImage). It builds on image, never the reverse.
package instance

import (
	"context"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
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

	// Where the instance is in the state machine (states.go): when State
	// began, whether it ever ran, and why it is in its state.
	StateSince       time.Time
	Booted           bool
	TransitionReason string
	StateReason      *StateReason

	// Launch settings that DescribeInstanceAttribute answers.
	Zone                  string // Placement.AvailabilityZone; "" is the region's first
	UserData              string // base64, as RunInstances takes it
	ShutdownBehavior      string // instanceInitiatedShutdownBehavior: stop or terminate
	DisableAPITermination bool
	DisableAPIStop        bool
	EbsOptimized          bool
	SourceDestCheckOff    bool   // sourceDestCheck is on unless turned off
	CPUCredits            string // standard or unlimited; burstable types only
	Hibernation           bool   // HibernationOptions.Configured
	EnclaveEnabled        bool
}

// life is the instance's place in the state machine.
func (inst *Instance) life() Life {
	return Life{State: inst.State, Since: inst.StateSince, Booted: inst.Booted,
		TransitionReason: inst.TransitionReason, Reason: inst.StateReason}
}

// setLife records a new place in the state machine.
func (inst *Instance) setLife(l Life) {
	inst.State, inst.StateSince, inst.Booted = l.State, l.Since, l.Booted
	inst.TransitionReason, inst.StateReason = l.TransitionReason, l.Reason
}

// AvailabilityZone is where the instance runs: the zone it was launched
// in, or the region's first.
func (inst *Instance) AvailabilityZone() string {
	if inst.Zone != "" {
		return inst.Zone
	}
	if r, ok := resource.LookupRegion(inst.Region); ok && len(r.Zones) > 0 {
		return r.Zones[0].Name
	}
	return inst.Region + "a"
}

// AvailabilityZoneID is the AZ ID of the instance's zone, "" when the
// region table does not know it.
func (inst *Instance) AvailabilityZoneID() string {
	zone := inst.AvailabilityZone()
	if r, ok := resource.LookupRegion(inst.Region); ok {
		for _, z := range r.Zones {
			if z.Name == zone {
				return z.ID
			}
		}
	}
	return ""
}

// machine is what CreateImage copies from the instance.
func (inst *Instance) machine() *image.Machine {
	return &image.Machine{
		InstanceID: inst.ID, ImageID: inst.ImageID,
		Architecture: inst.Architecture, Platform: inst.Platform, KernelID: inst.KernelID, RamdiskID: inst.RamdiskID,
		RootDeviceName: inst.RootDeviceName, VirtualizationType: inst.VirtualizationType,
		Hypervisor: inst.Hypervisor, SriovNetSupport: inst.SriovNetSupport, BootMode: inst.BootMode,
		EnaSupport: inst.EnaSupport, BlockDeviceMappings: inst.BlockDeviceMappings,
		VolumeIDs: inst.volumeIDs(),
	}
}

// volumeIDs names the volume at each of the instance's EBS devices, as
// RunInstances made them.
func (inst *Instance) volumeIDs() map[string]string {
	ids := map[string]string{}
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs != nil {
			ids[m.DeviceName] = VolumeID(inst.ID, m.DeviceName)
		}
	}
	return ids
}

// Query selects instances; zero fields do not narrow. Region "" means
// every region (export).
type Query struct {
	Region   string
	OwnerID  string
	IDs      []string
	ImageIDs []string
	// ReservationIDs: only instances of these reservations (a streamed
	// DescribeInstances gathers each reservation it lists).
	ReservationIDs []string
	AfterID        string
	Limit          int
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

	// ClientToken returns the record of a RunInstances token (key: region,
	// account, token, zone), or resource.ErrNotFound.
	ClientToken(ctx context.Context, region, account, token, zone string) (*TokenRecord, error)
	// PutClientToken stores a token's record, replacing one with its key.
	PutClientToken(ctx context.Context, rec *TokenRecord) error
	// ClientTokens returns every token's record, in every region (export),
	// ordered by region, account, token and zone.
	ClientTokens(ctx context.Context) ([]*TokenRecord, error)
}
