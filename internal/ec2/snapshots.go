package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

type snapshotHandlers struct {
	svc *snapshot.Service
}

func (h *snapshotHandlers) createSnapshot(ctx context.Context, c resource.Caller, in *ec2api.CreateSnapshotRequest) (any, error) {
	created, err := h.svc.CreateSnapshot(ctx, c, &snapshot.CreateRequest{
		VolumeID: str(in.VolumeId), Description: str(in.Description), OutpostArn: str(in.OutpostArn),
		Location: str(in.Location), TagSpecifications: tagSpecs(in.TagSpecifications), DryRun: flag(in.DryRun),
	})
	if err != nil {
		return nil, err
	}
	// The creating call answers pending, with an empty progress and a
	// tagSet even when empty (spec §3.1).
	out := snapshotOut(snapshot.Described{Snapshot: created.Snapshot, State: snapshot.StatePending, Tags: created.Tags})
	if out.Tags == nil {
		out.Tags = []ec2api.Tag{}
	}
	out.StorageTier = nil
	return &out, nil
}

func (h *snapshotHandlers) describeSnapshots(ctx context.Context, c resource.Caller, in *ec2api.DescribeSnapshotsRequest) (any, error) {
	r := &snapshot.DescribeRequest{SnapshotIDs: in.SnapshotIds, OwnerIDs: in.OwnerIds, RestorableBy: in.RestorableByUserIds,
		Page: resource.Page{MaxResults: in.MaxResults, NextToken: in.NextToken}, DryRun: flag(in.DryRun)}
	for _, f := range in.Filters {
		r.Filters = append(r.Filters, resource.Filter{Name: f.Name, Values: f.Values})
	}
	if r.Streams() {
		st, err := h.svc.StreamSnapshots(c, r)
		if err != nil {
			return nil, err
		}
		return streamOf(&ec2api.DescribeSnapshotsResult{}, "Snapshots", st, snapshotOut), nil
	}
	snaps, next, err := h.svc.DescribeSnapshots(ctx, c, r)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSnapshotsResult{Snapshots: make([]ec2api.Snapshot, len(snaps)), NextToken: ptr(next)}
	for i := range snaps {
		out.Snapshots[i] = snapshotOut(snaps[i])
	}
	return out, nil
}

func (h *snapshotHandlers) copySnapshot(ctx context.Context, c resource.Caller, in *ec2api.CopySnapshotRequest) (any, error) {
	// PresignedUrl and DestinationRegion, which SDKs add on their own,
	// are accepted and ignored (spec §3.4).
	created, err := h.svc.CopySnapshot(ctx, c, &snapshot.CopyRequest{
		SourceRegion: str(in.SourceRegion), SourceSnapshotID: str(in.SourceSnapshotId), Description: str(in.Description),
		Encrypted: in.Encrypted, KmsKeyID: str(in.KmsKeyId), CompletionMinutes: in.CompletionDurationMinutes,
		DestinationOutpostArn: str(in.DestinationOutpostArn), DestinationAvailabilityZone: str(in.DestinationAvailabilityZone),
		TagSpecifications: tagSpecs(in.TagSpecifications), DryRun: flag(in.DryRun),
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.CopySnapshotResult{SnapshotId: &created.ID, Tags: tagsOut(created.Tags)}
	if out.Tags == nil {
		out.Tags = []ec2api.Tag{}
	}
	return out, nil
}

func (h *snapshotHandlers) deleteSnapshot(ctx context.Context, c resource.Caller, in *ec2api.DeleteSnapshotRequest) (any, error) {
	if err := h.svc.DeleteSnapshot(ctx, c, str(in.SnapshotId), flag(in.DryRun)); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func permissionsIn(ps []ec2api.CreateVolumePermission) []snapshot.Permission {
	out := make([]snapshot.Permission, len(ps))
	for i, p := range ps {
		out[i] = snapshot.Permission{UserID: str(p.UserId), Group: str(p.Group)}
	}
	return out
}

func (h *snapshotHandlers) modifySnapshotAttribute(ctx context.Context, c resource.Caller, in *ec2api.ModifySnapshotAttributeRequest) (any, error) {
	r := &snapshot.ModifyRequest{SnapshotID: str(in.SnapshotId), Attribute: str(in.Attribute), OperationType: str(in.OperationType),
		UserIDs: in.UserIds, Groups: in.GroupNames, DryRun: flag(in.DryRun)}
	if m := in.CreateVolumePermission; m != nil {
		r.Add, r.Remove = permissionsIn(m.Add), permissionsIn(m.Remove)
	}
	if err := h.svc.ModifyAttribute(ctx, c, r); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *snapshotHandlers) describeSnapshotAttribute(ctx context.Context, c resource.Caller, in *ec2api.DescribeSnapshotAttributeRequest) (any, error) {
	a, err := h.svc.DescribeAttribute(ctx, c, str(in.SnapshotId), str(in.Attribute), flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSnapshotAttributeResult{SnapshotId: &a.SnapshotID}
	if a.ProductCodes {
		out.ProductCodes = []ec2api.ProductCode{}
		return out, nil
	}
	out.CreateVolumePermissions = make([]ec2api.CreateVolumePermission, len(a.CreateVolumePermission))
	for i, p := range a.CreateVolumePermission {
		out.CreateVolumePermissions[i] = ec2api.CreateVolumePermission{UserId: ptr(p.UserID), Group: ptr(p.Group)}
	}
	return out, nil
}

func (h *snapshotHandlers) resetSnapshotAttribute(ctx context.Context, c resource.Caller, in *ec2api.ResetSnapshotAttributeRequest) (any, error) {
	if err := h.svc.ResetAttribute(ctx, c, str(in.SnapshotId), str(in.Attribute), flag(in.DryRun)); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *snapshotHandlers) enableSnapshotBlockPublicAccess(ctx context.Context, c resource.Caller, in *ec2api.EnableSnapshotBlockPublicAccessRequest) (any, error) {
	state, err := h.svc.EnableBlockPublicAccess(ctx, c, str(in.State), flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.EnableSnapshotBlockPublicAccessResult{State: &state}, nil
}

func (h *snapshotHandlers) disableSnapshotBlockPublicAccess(ctx context.Context, c resource.Caller, in *ec2api.DisableSnapshotBlockPublicAccessRequest) (any, error) {
	state, err := h.svc.DisableBlockPublicAccess(ctx, c, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.DisableSnapshotBlockPublicAccessResult{State: &state}, nil
}

func (h *snapshotHandlers) getSnapshotBlockPublicAccessState(ctx context.Context, c resource.Caller, in *ec2api.GetSnapshotBlockPublicAccessStateRequest) (any, error) {
	state, managedBy, err := h.svc.GetBlockPublicAccess(ctx, c, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.GetSnapshotBlockPublicAccessStateResult{State: &state, ManagedBy: &managedBy}, nil
}

func snapshotOut(d snapshot.Described) ec2api.Snapshot {
	s := d.Snapshot
	tier := "standard"
	progress := d.Progress
	description := s.Description // present and empty when none was given
	var message string           // a planned failure's reason shows once it failed
	if d.State == snapshot.StateError {
		message = s.StateMessage
	}
	return ec2api.Snapshot{
		SnapshotId: &s.ID, VolumeId: &s.VolumeID, State: &d.State, StateMessage: ptr(message),
		StartTime: &s.StartTime, Progress: &progress, OwnerId: &s.OwnerID, OwnerAlias: ptr(s.OwnerAlias),
		VolumeSize: &s.VolumeSize, Description: &description, Encrypted: &s.Encrypted, KmsKeyId: ptr(s.KmsKeyID),
		StorageTier: &tier, TransferType: ptr(s.TransferType), CompletionDurationMinutes: s.CompletionMinutes,
		Tags: tagsOut(d.Tags),
	}
}
