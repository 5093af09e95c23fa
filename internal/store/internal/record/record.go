// Package record is what both store engines share about their rows: the
// column lists of images and instances, the code that scans a row into a
// domain value and back, and the encoding of the document column (every
// field that is not a real, indexed column, as JSON). The documents mirror
// the domain types so those carry no encoding tags and a rename there
// cannot silently change the stored bytes; both engines store identical
// documents, so data moves between them unchanged.
package record

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
)

// imageDoc is the images.doc column: every Image field that is not a real
// column. It mirrors image.Image so the domain type carries no encoding tags
// and a rename there cannot silently change the bytes on disk. Times are unix
// milliseconds, the precision EC2 reports.
type imageDoc struct {
	Description string       `json:"description,omitempty"`
	Location    string       `json:"location,omitempty"`
	StateReason *stateReason `json:"stateReason,omitempty"`

	Architecture       string `json:"architecture,omitempty"`
	ImageType          string `json:"imageType,omitempty"`
	KernelID           string `json:"kernelId,omitempty"`
	RamdiskID          string `json:"ramdiskId,omitempty"`
	Platform           string `json:"platform,omitempty"`
	PlatformDetails    string `json:"platformDetails,omitempty"`
	UsageOperation     string `json:"usageOperation,omitempty"`
	RootDeviceName     string `json:"rootDeviceName,omitempty"`
	RootDeviceType     string `json:"rootDeviceType,omitempty"`
	VirtualizationType string `json:"virtualizationType,omitempty"`
	Hypervisor         string `json:"hypervisor,omitempty"`
	SriovNetSupport    string `json:"sriovNetSupport,omitempty"`
	EnaSupport         *bool  `json:"enaSupport,omitempty"`
	BootMode           string `json:"bootMode,omitempty"`
	TpmSupport         string `json:"tpmSupport,omitempty"`
	UefiData           string `json:"uefiData,omitempty"`
	ImdsSupport        string `json:"imdsSupport,omitempty"`
	FreeTierEligible   *bool  `json:"freeTierEligible,omitempty"`

	BlockDeviceMappings []blockDevice `json:"blockDeviceMappings,omitempty"`
	ProductCodes        []productCode `json:"productCodes,omitempty"`

	DeregistrationProtection string `json:"deregistrationProtection,omitempty"`
	ProtectedUntil           *int64 `json:"protectedUntil,omitempty"`
	LastLaunchedTime         *int64 `json:"lastLaunchedTime,omitempty"`

	SourceImageID     string `json:"sourceImageId,omitempty"`
	SourceImageRegion string `json:"sourceImageRegion,omitempty"`
	SourceInstanceID  string `json:"sourceInstanceId,omitempty"`

	DeregisteredAt *int64 `json:"deregisteredAt,omitempty"`
	AvailableAt    *int64 `json:"availableAt,omitempty"`
	// FailsWith is a planned failure (fault injection), see image.Image.
	FailsWith *stateReason `json:"failsWith,omitempty"`
}

type stateReason struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

type blockDevice struct {
	DeviceName  string    `json:"deviceName,omitempty"`
	VirtualName string    `json:"virtualName,omitempty"`
	NoDevice    string    `json:"noDevice,omitempty"`
	Ebs         *ebsBlock `json:"ebs,omitempty"`
}

type ebsBlock struct {
	SnapshotID          string `json:"snapshotId,omitempty"`
	VolumeSize          *int32 `json:"volumeSize,omitempty"`
	VolumeType          string `json:"volumeType,omitempty"`
	DeleteOnTermination *bool  `json:"deleteOnTermination,omitempty"`
	Iops                *int32 `json:"iops,omitempty"`
	Throughput          *int32 `json:"throughput,omitempty"`
	Encrypted           *bool  `json:"encrypted,omitempty"`
	KmsKeyID            string `json:"kmsKeyId,omitempty"`
	OutpostArn          string `json:"outpostArn,omitempty"`
	AvailabilityZone    string `json:"availabilityZone,omitempty"`
}

type productCode struct {
	Code string `json:"code,omitempty"`
	Type string `json:"type,omitempty"`
}

// EncodeImage returns the doc column for img.
func EncodeImage(img *image.Image) (string, error) {
	r := imageDoc{
		Description:              img.Description,
		Location:                 img.Location,
		Architecture:             img.Architecture,
		ImageType:                img.ImageType,
		KernelID:                 img.KernelID,
		RamdiskID:                img.RamdiskID,
		Platform:                 img.Platform,
		PlatformDetails:          img.PlatformDetails,
		UsageOperation:           img.UsageOperation,
		RootDeviceName:           img.RootDeviceName,
		RootDeviceType:           img.RootDeviceType,
		VirtualizationType:       img.VirtualizationType,
		Hypervisor:               img.Hypervisor,
		SriovNetSupport:          img.SriovNetSupport,
		EnaSupport:               img.EnaSupport,
		BootMode:                 img.BootMode,
		TpmSupport:               img.TpmSupport,
		UefiData:                 img.UefiData,
		ImdsSupport:              img.ImdsSupport,
		FreeTierEligible:         img.FreeTierEligible,
		DeregistrationProtection: img.DeregistrationProtection,
		ProtectedUntil:           millisPtr(img.ProtectedUntil),
		LastLaunchedTime:         millisPtr(img.LastLaunchedTime),
		SourceImageID:            img.SourceImageID,
		SourceImageRegion:        img.SourceImageRegion,
		SourceInstanceID:         img.SourceInstanceID,
		DeregisteredAt:           millisPtr(img.DeregisteredAt),
		AvailableAt:              millisPtr(img.AvailableAt),
	}
	if sr := img.StateReason; sr != nil {
		r.StateReason = &stateReason{Code: sr.Code, Message: sr.Message}
	}
	if sr := img.FailsWith; sr != nil {
		r.FailsWith = &stateReason{Code: sr.Code, Message: sr.Message}
	}
	r.BlockDeviceMappings = encodeMappings(img.BlockDeviceMappings)
	for _, pc := range img.ProductCodes {
		r.ProductCodes = append(r.ProductCodes, productCode(pc))
	}
	b, err := json.Marshal(&r)
	if err != nil {
		return "", fmt.Errorf("record: encode image %s: %w", img.ID, err)
	}
	return string(b), nil
}

// apply copies a decoded document into img.
func (r *imageDoc) apply(img *image.Image) {
	img.Description = r.Description
	img.Location = r.Location
	if r.StateReason != nil {
		img.StateReason = &image.StateReason{Code: r.StateReason.Code, Message: r.StateReason.Message}
	}
	img.Architecture = r.Architecture
	img.ImageType = r.ImageType
	img.KernelID = r.KernelID
	img.RamdiskID = r.RamdiskID
	img.Platform = r.Platform
	img.PlatformDetails = r.PlatformDetails
	img.UsageOperation = r.UsageOperation
	img.RootDeviceName = r.RootDeviceName
	img.RootDeviceType = r.RootDeviceType
	img.VirtualizationType = r.VirtualizationType
	img.Hypervisor = r.Hypervisor
	img.SriovNetSupport = r.SriovNetSupport
	img.EnaSupport = cp(r.EnaSupport)
	img.BootMode = r.BootMode
	img.TpmSupport = r.TpmSupport
	img.UefiData = r.UefiData
	img.ImdsSupport = r.ImdsSupport
	img.FreeTierEligible = cp(r.FreeTierEligible)
	img.BlockDeviceMappings = decodeMappings(r.BlockDeviceMappings)
	if len(r.ProductCodes) > 0 {
		img.ProductCodes = make([]image.ProductCode, len(r.ProductCodes))
		for i, pc := range r.ProductCodes {
			img.ProductCodes[i] = image.ProductCode(pc)
		}
	}
	img.DeregistrationProtection = r.DeregistrationProtection
	img.ProtectedUntil = timePtr(r.ProtectedUntil)
	img.LastLaunchedTime = timePtr(r.LastLaunchedTime)
	img.SourceImageID = r.SourceImageID
	img.SourceImageRegion = r.SourceImageRegion
	img.SourceInstanceID = r.SourceInstanceID
	img.DeregisteredAt = timePtr(r.DeregisteredAt)
	img.AvailableAt = timePtr(r.AvailableAt)
	if r.FailsWith != nil {
		img.FailsWith = &image.StateReason{Code: r.FailsWith.Code, Message: r.FailsWith.Message}
	}
}

func encodeMappings(ms []image.BlockDeviceMapping) []blockDevice {
	var out []blockDevice
	for _, m := range ms {
		bd := blockDevice{DeviceName: m.DeviceName, VirtualName: m.VirtualName, NoDevice: m.NoDevice}
		if e := m.Ebs; e != nil {
			bd.Ebs = &ebsBlock{
				SnapshotID:          e.SnapshotID,
				VolumeSize:          e.VolumeSize,
				VolumeType:          e.VolumeType,
				DeleteOnTermination: e.DeleteOnTermination,
				Iops:                e.Iops,
				Throughput:          e.Throughput,
				Encrypted:           e.Encrypted,
				KmsKeyID:            e.KmsKeyID,
				OutpostArn:          e.OutpostArn,
				AvailabilityZone:    e.AvailabilityZone,
			}
		}
		out = append(out, bd)
	}
	return out
}

func decodeMappings(bds []blockDevice) []image.BlockDeviceMapping {
	if len(bds) == 0 {
		return nil
	}
	out := make([]image.BlockDeviceMapping, len(bds))
	for i, bd := range bds {
		m := image.BlockDeviceMapping{DeviceName: bd.DeviceName, VirtualName: bd.VirtualName, NoDevice: bd.NoDevice}
		if e := bd.Ebs; e != nil {
			m.Ebs = &image.EbsBlockDevice{
				SnapshotID:          e.SnapshotID,
				VolumeSize:          cp(e.VolumeSize),
				VolumeType:          e.VolumeType,
				DeleteOnTermination: cp(e.DeleteOnTermination),
				Iops:                cp(e.Iops),
				Throughput:          cp(e.Throughput),
				Encrypted:           cp(e.Encrypted),
				KmsKeyID:            e.KmsKeyID,
				OutpostArn:          e.OutpostArn,
				AvailabilityZone:    e.AvailabilityZone,
			}
		}
		out[i] = m
	}
	return out
}

// instanceDoc is the instances.doc column: every Instance field that is
// not a real column (region, id, owner, image, state).
type instanceDoc struct {
	ReservationID string `json:"reservationId,omitempty"`
	InstanceType  string `json:"instanceType,omitempty"`
	LaunchTime    int64  `json:"launchTime"`

	Architecture       string `json:"architecture,omitempty"`
	Platform           string `json:"platform,omitempty"`
	KernelID           string `json:"kernelId,omitempty"`
	RamdiskID          string `json:"ramdiskId,omitempty"`
	RootDeviceName     string `json:"rootDeviceName,omitempty"`
	RootDeviceType     string `json:"rootDeviceType,omitempty"`
	VirtualizationType string `json:"virtualizationType,omitempty"`
	Hypervisor         string `json:"hypervisor,omitempty"`
	SriovNetSupport    string `json:"sriovNetSupport,omitempty"`
	EnaSupport         *bool  `json:"enaSupport,omitempty"`
	BootMode           string `json:"bootMode,omitempty"`

	BlockDeviceMappings []blockDevice `json:"blockDeviceMappings,omitempty"`

	HttpTokens              string `json:"httpTokens,omitempty"`
	HttpPutResponseHopLimit int32  `json:"httpPutResponseHopLimit,omitempty"`
	HttpEndpoint            string `json:"httpEndpoint,omitempty"`

	TerminatedAt *int64 `json:"terminatedAt,omitempty"`

	StateSince       int64        `json:"stateSince,omitempty"`
	Booted           bool         `json:"booted,omitempty"`
	TransitionReason string       `json:"transitionReason,omitempty"`
	StateReason      *stateReason `json:"stateReason,omitempty"`
	Zone             string       `json:"zone,omitempty"`
	UserData         string       `json:"userData,omitempty"`
	ShutdownBehavior string       `json:"shutdownBehavior,omitempty"`
	DisableTerminate bool         `json:"disableApiTermination,omitempty"`
	DisableStop      bool         `json:"disableApiStop,omitempty"`
	EbsOptimized     bool         `json:"ebsOptimized,omitempty"`
	SourceDestChkOff bool         `json:"sourceDestCheckOff,omitempty"`
	CPUCredits       string       `json:"cpuCredits,omitempty"`
	Hibernation      bool         `json:"hibernation,omitempty"`
	EnclaveEnabled   bool         `json:"enclave,omitempty"`
}

// EncodeInstance returns the doc column for inst.
func EncodeInstance(inst *instance.Instance) (string, error) {
	r := instanceDoc{
		ReservationID:           inst.ReservationID,
		InstanceType:            inst.InstanceType,
		LaunchTime:              Millis(inst.LaunchTime),
		Architecture:            inst.Architecture,
		Platform:                inst.Platform,
		KernelID:                inst.KernelID,
		RamdiskID:               inst.RamdiskID,
		RootDeviceName:          inst.RootDeviceName,
		RootDeviceType:          inst.RootDeviceType,
		VirtualizationType:      inst.VirtualizationType,
		Hypervisor:              inst.Hypervisor,
		SriovNetSupport:         inst.SriovNetSupport,
		EnaSupport:              inst.EnaSupport,
		BootMode:                inst.BootMode,
		BlockDeviceMappings:     encodeMappings(inst.BlockDeviceMappings),
		HttpTokens:              inst.HttpTokens,
		HttpPutResponseHopLimit: inst.HttpPutResponseHopLimit,
		HttpEndpoint:            inst.HttpEndpoint,
		TerminatedAt:            millisPtr(inst.TerminatedAt),
		TransitionReason:        inst.TransitionReason,
		Booted:                  inst.Booted,
		Zone:                    inst.Zone,
		UserData:                inst.UserData,
		ShutdownBehavior:        inst.ShutdownBehavior,
		DisableTerminate:        inst.DisableAPITermination,
		DisableStop:             inst.DisableAPIStop,
		EbsOptimized:            inst.EbsOptimized,
		SourceDestChkOff:        inst.SourceDestCheckOff,
		CPUCredits:              inst.CPUCredits,
		Hibernation:             inst.Hibernation,
		EnclaveEnabled:          inst.EnclaveEnabled,
	}
	if !inst.StateSince.IsZero() {
		r.StateSince = Millis(inst.StateSince)
	}
	if sr := inst.StateReason; sr != nil {
		r.StateReason = &stateReason{Code: sr.Code, Message: sr.Message}
	}
	b, err := json.Marshal(&r)
	if err != nil {
		return "", fmt.Errorf("record: encode instance %s: %w", inst.ID, err)
	}
	return string(b), nil
}

// DecodeInstance fills the document fields of inst from the doc column.
func DecodeInstance(doc []byte, inst *instance.Instance) error {
	var r instanceDoc
	if err := json.Unmarshal(doc, &r); err != nil {
		return fmt.Errorf("record: decode instance %s: %w", inst.ID, err)
	}
	inst.ReservationID = r.ReservationID
	inst.InstanceType = r.InstanceType
	inst.LaunchTime = FromMillis(r.LaunchTime)
	inst.Architecture = r.Architecture
	inst.Platform = r.Platform
	inst.KernelID = r.KernelID
	inst.RamdiskID = r.RamdiskID
	inst.RootDeviceName = r.RootDeviceName
	inst.RootDeviceType = r.RootDeviceType
	inst.VirtualizationType = r.VirtualizationType
	inst.Hypervisor = r.Hypervisor
	inst.SriovNetSupport = r.SriovNetSupport
	inst.EnaSupport = r.EnaSupport
	inst.BootMode = r.BootMode
	inst.BlockDeviceMappings = decodeMappings(r.BlockDeviceMappings)
	inst.HttpTokens = r.HttpTokens
	inst.HttpPutResponseHopLimit = r.HttpPutResponseHopLimit
	inst.HttpEndpoint = r.HttpEndpoint
	inst.TerminatedAt = timePtr(r.TerminatedAt)
	inst.StateSince = time.Time{}
	if r.StateSince != 0 {
		inst.StateSince = FromMillis(r.StateSince)
	}
	inst.Booted, inst.TransitionReason = r.Booted, r.TransitionReason
	inst.StateReason = nil
	if sr := r.StateReason; sr != nil {
		inst.StateReason = &instance.StateReason{Code: sr.Code, Message: sr.Message}
	}
	inst.Zone, inst.UserData, inst.ShutdownBehavior = r.Zone, r.UserData, r.ShutdownBehavior
	inst.DisableAPITermination, inst.DisableAPIStop = r.DisableTerminate, r.DisableStop
	inst.EbsOptimized, inst.SourceDestCheckOff = r.EbsOptimized, r.SourceDestChkOff
	inst.CPUCredits, inst.Hibernation, inst.EnclaveEnabled = r.CPUCredits, r.Hibernation, r.EnclaveEnabled
	return nil
}

// Times are stored as unix milliseconds: portable, ordered, index friendly,
// and the precision EC2 reports.

// Millis returns t as unix milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis returns the UTC time of unix milliseconds ms.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func millisPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	ms := Millis(*t)
	return &ms
}

func timePtr(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := FromMillis(*ms)
	return &t
}

// cp copies a pointed-to value, so decoded images never share memory with
// the document cache (callers may change what they get).
func cp[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
