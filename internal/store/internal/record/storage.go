package record

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// volumeDoc is the volumes.doc column: every Volume field that is not a
// real column (region, id, owner).
type volumeDoc struct {
	Size             int32  `json:"size"`
	SnapshotID       string `json:"snapshotId,omitempty"`
	AvailabilityZone string `json:"availabilityZone"`
	ZoneID           string `json:"availabilityZoneId,omitempty"`
	VolumeType       string `json:"volumeType"`
	Iops             *int32 `json:"iops,omitempty"`
	Throughput       *int32 `json:"throughput,omitempty"`
	Encrypted        bool   `json:"encrypted,omitempty"`
	KmsKeyID         string `json:"kmsKeyId,omitempty"`
	MultiAttach      bool   `json:"multiAttachEnabled,omitempty"`
	InitRate         *int32 `json:"volumeInitializationRate,omitempty"`
	CreateTime       int64  `json:"createTime"`
	AvailableAt      int64  `json:"availableAt"`
	// Attachment is absent while the volume is not attached.
	Attachment *attachmentDoc `json:"attachment,omitempty"`
}

type attachmentDoc struct {
	InstanceID          string `json:"instanceId"`
	Device              string `json:"device"`
	AttachTime          int64  `json:"attachTime"`
	DeleteOnTermination bool   `json:"deleteOnTermination,omitempty"`
}

// VolumeColumns are the volumes columns, in the order ScanVolume reads
// them and VolumeValues gives them; VolumeKeyColumns identify a row.
var (
	VolumeColumns    = []string{"region", "volume_id", "owner_id", "doc"}
	VolumeKeyColumns = VolumeColumns[:2]
)

// ScanVolume reads one row of VolumeColumns.
func ScanVolume(row Row) (*volume.Volume, error) {
	v := &volume.Volume{}
	var doc []byte
	if err := row.Scan(&v.Region, &v.ID, &v.OwnerID, &doc); err != nil {
		return nil, err
	}
	var d volumeDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("record: decode volume %s: %w", v.ID, err)
	}
	v.Size, v.SnapshotID, v.AvailabilityZone, v.ZoneID, v.VolumeType = d.Size, d.SnapshotID, d.AvailabilityZone, d.ZoneID, d.VolumeType
	v.Iops, v.Throughput, v.Encrypted, v.KmsKeyID = d.Iops, d.Throughput, d.Encrypted, d.KmsKeyID
	v.MultiAttach, v.InitRate = d.MultiAttach, d.InitRate
	v.CreateTime, v.AvailableAt = FromMillis(d.CreateTime), FromMillis(d.AvailableAt)
	if a := d.Attachment; a != nil {
		v.Attachment = &volume.Attachment{InstanceID: a.InstanceID, Device: a.Device,
			AttachTime: FromMillis(a.AttachTime), DeleteOnTermination: a.DeleteOnTermination}
	}
	return v, nil
}

// VolumeValues returns the values of v's VolumeColumns, in order.
func VolumeValues(v *volume.Volume) ([]any, error) {
	d := &volumeDoc{
		Size: v.Size, SnapshotID: v.SnapshotID, AvailabilityZone: v.AvailabilityZone, ZoneID: v.ZoneID,
		VolumeType: v.VolumeType, Iops: v.Iops, Throughput: v.Throughput, Encrypted: v.Encrypted,
		KmsKeyID: v.KmsKeyID, MultiAttach: v.MultiAttach, InitRate: v.InitRate,
		CreateTime: Millis(v.CreateTime), AvailableAt: Millis(v.AvailableAt),
	}
	if a := v.Attachment; a != nil {
		d.Attachment = &attachmentDoc{InstanceID: a.InstanceID, Device: a.Device,
			AttachTime: Millis(a.AttachTime), DeleteOnTermination: a.DeleteOnTermination}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("record: encode volume %s: %w", v.ID, err)
	}
	return []any{v.Region, v.ID, v.OwnerID, string(b)}, nil
}

// snapshotDoc is the snapshots.doc column: every Snapshot field that is
// not a real column (region, id, owner, owner alias, public flag).
type snapshotDoc struct {
	VolumeID          string `json:"volumeId"`
	VolumeSize        int32  `json:"volumeSize"`
	State             string `json:"state"`
	StateMessage      string `json:"stateMessage,omitempty"`
	StartTime         int64  `json:"startTime"`
	CompletedAt       int64  `json:"completedAt"`
	Description       string `json:"description,omitempty"`
	Encrypted         bool   `json:"encrypted,omitempty"`
	KmsKeyID          string `json:"kmsKeyId,omitempty"`
	TransferType      string `json:"transferType,omitempty"`
	CompletionMinutes *int32 `json:"completionDurationMinutes,omitempty"`
}

// SnapshotColumns are the snapshots columns, in the order ScanSnapshot
// reads them and SnapshotValues gives them; SnapshotKeyColumns identify a
// row.
var (
	SnapshotColumns    = []string{"region", "snapshot_id", "owner_id", "owner_alias", "is_public", "doc"}
	SnapshotKeyColumns = SnapshotColumns[:2]
)

// ScanSnapshot reads one row of SnapshotColumns.
func ScanSnapshot(row Row) (*snapshot.Snapshot, error) {
	s := &snapshot.Snapshot{}
	var doc []byte
	if err := row.Scan(&s.Region, &s.ID, &s.OwnerID, &s.OwnerAlias, &s.Public, &doc); err != nil {
		return nil, err
	}
	var d snapshotDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("record: decode snapshot %s: %w", s.ID, err)
	}
	s.VolumeID, s.VolumeSize, s.State, s.StateMessage = d.VolumeID, d.VolumeSize, d.State, d.StateMessage
	s.StartTime, s.CompletedAt = FromMillis(d.StartTime), FromMillis(d.CompletedAt)
	s.Description, s.Encrypted, s.KmsKeyID = d.Description, d.Encrypted, d.KmsKeyID
	s.TransferType, s.CompletionMinutes = d.TransferType, d.CompletionMinutes
	return s, nil
}

// SnapshotValues returns the values of s's SnapshotColumns, in order.
func SnapshotValues(s *snapshot.Snapshot) ([]any, error) {
	b, err := json.Marshal(&snapshotDoc{
		VolumeID: s.VolumeID, VolumeSize: s.VolumeSize, State: s.State, StateMessage: s.StateMessage,
		StartTime: Millis(s.StartTime), CompletedAt: Millis(s.CompletedAt), Description: s.Description,
		Encrypted: s.Encrypted, KmsKeyID: s.KmsKeyID, TransferType: s.TransferType, CompletionMinutes: s.CompletionMinutes,
	})
	if err != nil {
		return nil, fmt.Errorf("record: encode snapshot %s: %w", s.ID, err)
	}
	return []any{s.Region, s.ID, s.OwnerID, s.OwnerAlias, s.Public, string(b)}, nil
}

// Permission kinds as stored in snapshot_permissions.kind.
const (
	PermUser  = "user"
	PermGroup = "group"
)

// PermissionRow returns a permission's kind and value columns.
func PermissionRow(p snapshot.Permission) (kind, value string) {
	if p.Group != "" {
		return PermGroup, p.Group
	}
	return PermUser, p.UserID
}

// PermissionFrom is PermissionRow's inverse.
func PermissionFrom(kind, value string) snapshot.Permission {
	if kind == PermGroup {
		return snapshot.Permission{Group: value}
	}
	return snapshot.Permission{UserID: value}
}

// SnapshotRefs is what an image puts in the image_snapshots index: the
// distinct snapshot ids of its EBS mappings while it is not deregistered
// (a deregistered image protects no snapshot), none after.
func SnapshotRefs(img *image.Image) []string {
	if img.State == image.StateDeregistered {
		return nil
	}
	var ids []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.SnapshotID != "" && !slices.Contains(ids, m.Ebs.SnapshotID) {
			ids = append(ids, m.Ebs.SnapshotID)
		}
	}
	return ids
}
