package image

import "time"

// Instance states, as EC2 names them.
const (
	InstancePending      = "pending"
	InstanceRunning      = "running"
	InstanceShuttingDown = "shutting-down"
	InstanceTerminated   = "terminated"
	InstanceStopping     = "stopping"
	InstanceStopped      = "stopped"
)

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
	BlockDeviceMappings []BlockDeviceMapping

	// Metadata options (IMDS).
	HttpTokens              string
	HttpPutResponseHopLimit int32
	HttpEndpoint            string

	TerminatedAt *time.Time
}

// InstanceQuery selects instances; zero fields do not narrow. Region ""
// means every region (export).
type InstanceQuery struct {
	Region   string
	OwnerID  string
	IDs      []string
	ImageIDs []string
	AfterID  string
	Limit    int
}

// ResourceTag is one tag with the resource and account it belongs to.
type ResourceTag struct {
	Region     string
	Account    string
	ResourceID string
	Tag
}

// TagQuery selects tags; zero fields do not narrow. Region "" and Account
// "" mean all (export). Results are ordered by resource id, then key.
type TagQuery struct {
	Region      string
	Account     string
	ResourceIDs []string
	Keys        []string
	// After pages: only (resource id, key) pairs after this one.
	AfterResourceID string
	AfterKey        string
	Limit           int
}

// Setting is one per-account, per-region setting.
type Setting struct {
	Region  string
	Account string
	Name    string
	Value   string
}
