package volume

import (
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// Device is one EBS device of a launch: the instance's final block device
// mapping (the image's, overridden by the request's), as the volume made
// for it needs it.
type Device struct {
	Name                string
	SnapshotID          string
	Size                *int32
	VolumeType          string
	Iops, Throughput    *int32
	Encrypted           bool
	KmsKeyID            string
	DeleteOnTermination bool
}

// Launched is the volume RunInstances makes for one EBS device of an
// instance (spec ec2-snapshots §2.5): the launching account's, in the
// instance's zone, restored from src (nil for a blank volume), in-use and
// attached to the instance since at. It has CreateVolume's defaults and
// value rules, whose refusals a launch answers as InvalidBlockDeviceMapping
// (KmsKeyId without Encrypted stays InvalidParameterDependency). The
// caller stores it.
func Launched(c resource.Caller, id string, zone resource.Zone, instanceID string, at time.Time, d Device, src *Source) (*Volume, error) {
	if d.Throughput != nil && d.VolumeType != "" && d.VolumeType != "gp3" {
		return nil, awserr.Newf(awserr.CodeInvalidBlockDeviceMapping, "throughput cannot be specified with the volumeType of device '%s'", d.Name)
	}
	r := &CreateRequest{AvailabilityZone: zone.Name, Size: d.Size, SnapshotID: d.SnapshotID, VolumeType: d.VolumeType,
		Iops: d.Iops, Throughput: d.Throughput, KmsKeyID: d.KmsKeyID}
	if d.Encrypted {
		r.Encrypted = &d.Encrypted
	}
	if _, err := r.Check(); err != nil {
		return nil, asMappingError(err)
	}
	v, err := build(c, r, zone, src)
	if err != nil {
		return nil, asMappingError(err)
	}
	v.ID, v.CreateTime, v.AvailableAt = id, at, at
	v.Attachment = &Attachment{InstanceID: instanceID, Device: d.Name, AttachTime: at, DeleteOnTermination: d.DeleteOnTermination}
	return v, nil
}

// asMappingError turns CreateVolume's value refusals into the code a
// launch answers with them (spec §2.5, decision 40), keeping the text.
func asMappingError(err error) error {
	ae := awserr.From(err)
	switch ae.Code {
	case awserr.CodeInvalidParameterValue, awserr.CodeInvalidParameterCombination:
		return awserr.New(awserr.CodeInvalidBlockDeviceMapping, ae.Message)
	}
	return err
}
