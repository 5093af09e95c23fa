package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/volume"
)

type volumeHandlers struct {
	volumes   *volume.Service
	snapshots *snapshot.Service
}

func (h *volumeHandlers) createVolume(ctx context.Context, c resource.Caller, in *ec2api.CreateVolumeRequest) (any, error) {
	r := &volume.CreateRequest{
		AvailabilityZone: str(in.AvailabilityZone), AvailabilityZoneID: str(in.AvailabilityZoneId),
		Size: in.Size, SnapshotID: str(in.SnapshotId), VolumeType: str(in.VolumeType),
		Iops: in.Iops, Throughput: in.Throughput, Encrypted: in.Encrypted, KmsKeyID: str(in.KmsKeyId),
		MultiAttach: flag(in.MultiAttachEnabled), InitRate: in.VolumeInitializationRate,
		OutpostArn: str(in.OutpostArn), ClientToken: str(in.ClientToken),
		TagSpecifications: tagSpecs(in.TagSpecifications), DryRun: flag(in.DryRun),
	}
	v, tags, err := h.snapshots.CreateVolume(ctx, c, r)
	if err != nil {
		return nil, err
	}
	out := volumeOut(v, volume.StateCreating, tags)
	// The creating call's answer carries tagSet even when empty, and no
	// attachmentSet (spec §2.1.5).
	if out.Tags == nil {
		out.Tags = []ec2api.Tag{}
	}
	out.Attachments = nil
	return &out, nil
}

func (h *volumeHandlers) describeVolumes(ctx context.Context, c resource.Caller, in *ec2api.DescribeVolumesRequest) (any, error) {
	r := &volume.DescribeRequest{VolumeIDs: in.VolumeIds, Page: resource.Page{MaxResults: in.MaxResults, NextToken: in.NextToken}, DryRun: flag(in.DryRun)}
	for _, f := range in.Filters {
		r.Filters = append(r.Filters, resource.Filter{Name: f.Name, Values: f.Values})
	}
	if r.Streams() {
		st, err := h.volumes.StreamVolumes(c, r)
		if err != nil {
			return nil, err
		}
		return streamOf(&ec2api.DescribeVolumesResult{}, "Volumes", st, describedVolumeOut), nil
	}
	vs, next, err := h.volumes.DescribeVolumes(ctx, c, r)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVolumesResult{Volumes: make([]ec2api.Volume, len(vs)), NextToken: ptr(next)}
	for i := range vs {
		out.Volumes[i] = describedVolumeOut(vs[i])
	}
	return out, nil
}

func (h *volumeHandlers) deleteVolume(ctx context.Context, c resource.Caller, in *ec2api.DeleteVolumeRequest) (any, error) {
	if err := h.volumes.DeleteVolume(ctx, c, str(in.VolumeId), flag(in.DryRun)); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func describedVolumeOut(d volume.Described) ec2api.Volume {
	return volumeOut(d.Volume, d.State, d.Tags)
}

func volumeOut(v *volume.Volume, state string, tags []resource.Tag) ec2api.Volume {
	snap := v.SnapshotID // present and empty for a blank volume
	attachments := []ec2api.VolumeAttachment{}
	if a := v.Attachment; a != nil {
		at, dot := a.AttachTime, a.DeleteOnTermination // false is sent too
		attachments = append(attachments, ec2api.VolumeAttachment{VolumeId: &v.ID, InstanceId: ptr(a.InstanceID),
			Device: ptr(a.Device), State: ptr(volume.AttachmentAttached), AttachTime: &at, DeleteOnTermination: &dot})
	}
	return ec2api.Volume{
		VolumeId: &v.ID, Size: &v.Size, SnapshotId: &snap, AvailabilityZone: &v.AvailabilityZone,
		AvailabilityZoneId: ptr(v.ZoneID), State: &state, CreateTime: &v.CreateTime, VolumeType: &v.VolumeType,
		Iops: v.Iops, Throughput: v.Throughput, Encrypted: &v.Encrypted, KmsKeyId: ptr(v.KmsKeyID),
		MultiAttachEnabled: &v.MultiAttach, VolumeInitializationRate: v.InitRate,
		Attachments: attachments, Tags: tagsOut(tags),
	}
}
