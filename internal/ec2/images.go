package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/query"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func (h *handlers) modifyImageAttribute(ctx context.Context, c resource.Caller, in *ec2api.ModifyImageAttributeRequest) (any, error) {
	r := &image.ModifyRequest{
		ImageID:                str(in.ImageId),
		Attribute:              in.Attribute,
		OperationType:          in.OperationType,
		Value:                  in.Value,
		UserIDs:                in.UserIds,
		UserGroups:             in.UserGroups,
		OrganizationArns:       in.OrganizationArns,
		OrganizationalUnitArns: in.OrganizationalUnitArns,
		ProductCodes:           in.ProductCodes,
		DryRun:                 flag(in.DryRun),
	}
	if in.Description != nil {
		r.DescriptionSet, r.Description = true, in.Description.Value
	}
	if in.ImdsSupport != nil {
		r.ImdsSupportSet, r.ImdsSupport = true, in.ImdsSupport.Value
	}
	if lp := in.LaunchPermission; lp != nil {
		r.Add = permissionItems(lp.Add)
		r.Remove = permissionItems(lp.Remove)
	}
	if err := h.svc.ModifyImageAttribute(ctx, c, r); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func permissionItems(lps []ec2api.LaunchPermission) []image.PermissionItem {
	out := make([]image.PermissionItem, len(lps))
	for i, lp := range lps {
		out[i] = image.PermissionItem{UserID: lp.UserId, Group: lp.Group,
			OrganizationArn: lp.OrganizationArn, OrganizationalUnitArn: lp.OrganizationalUnitArn}
	}
	return out
}

func (h *handlers) describeImageAttribute(ctx context.Context, c resource.Caller, in *ec2api.DescribeImageAttributeRequest) (any, error) {
	attr := str(in.Attribute)
	img, err := h.svc.DescribeImageAttribute(ctx, c, str(in.ImageId), attr, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	out := &ec2api.ImageAttribute{ImageId: &img.ID}
	value := func(v string) *ec2api.AttributeValue { return &ec2api.AttributeValue{Value: ptr(v)} }
	switch attr {
	case image.AttrDescription:
		out.Description = value(img.Description)
	case image.AttrKernel:
		out.KernelId = value(img.KernelID)
	case image.AttrRamdisk:
		out.RamdiskId = value(img.RamdiskID)
	case image.AttrSriovNetSupport:
		out.SriovNetSupport = value(img.SriovNetSupport)
	case image.AttrBootMode:
		out.BootMode = value(img.BootMode)
	case image.AttrTpmSupport:
		out.TpmSupport = value(img.TpmSupport)
	case image.AttrUefiData:
		out.UefiData = value(img.UefiData)
	case image.AttrImdsSupport:
		out.ImdsSupport = value(img.ImdsSupport)
	case image.AttrLastLaunchedTime:
		out.LastLaunchedTime = &ec2api.AttributeValue{}
		if img.LastLaunchedTime != nil {
			out.LastLaunchedTime.Value = ptr(img.LastLaunchedTime.UTC().Format(lastLaunchedFormat))
		}
	case image.AttrDeregistrationProtection:
		out.DeregistrationProtection = value(img.ProtectionState())
	case image.AttrLaunchPermission:
		out.LaunchPermissions = launchPermissions(img.LaunchPermissions)
	case image.AttrProductCodes:
		out.ProductCodes = productCodes(img.ProductCodes, true)
	}
	return out, nil
}

func (h *handlers) resetImageAttribute(ctx context.Context, c resource.Caller, in *ec2api.ResetImageAttributeRequest) (any, error) {
	if err := h.svc.ResetImageAttribute(ctx, c, str(in.ImageId), str(in.Attribute), flag(in.DryRun)); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *handlers) registerImage(ctx context.Context, c resource.Caller, in *ec2api.RegisterImageRequest) (any, error) {
	r := &image.RegisterRequest{
		Name:                str(in.Name),
		Description:         str(in.Description),
		ImageLocation:       str(in.ImageLocation),
		Architecture:        str(in.Architecture),
		KernelID:            str(in.KernelId),
		RamdiskID:           str(in.RamdiskId),
		RootDeviceName:      str(in.RootDeviceName),
		VirtualizationType:  str(in.VirtualizationType),
		SriovNetSupport:     str(in.SriovNetSupport),
		BootMode:            str(in.BootMode),
		TpmSupport:          str(in.TpmSupport),
		UefiData:            str(in.UefiData),
		ImdsSupport:         str(in.ImdsSupport),
		EnaSupport:          in.EnaSupport,
		BillingProducts:     in.BillingProducts,
		BlockDeviceMappings: mappingsIn(in.BlockDeviceMappings),
		TagSpecifications:   tagSpecs(in.TagSpecifications),
		DryRun:              flag(in.DryRun),
	}
	id, err := h.svc.RegisterImage(ctx, c, r)
	if err != nil {
		return nil, err
	}
	return &ec2api.RegisterImageResult{ImageId: &id}, nil
}

func (h *handlers) deregisterImage(ctx context.Context, c resource.Caller, in *ec2api.DeregisterImageRequest) (any, error) {
	res, err := h.svc.DeregisterImage(ctx, c, str(in.ImageId), flag(in.DeleteAssociatedSnapshots), flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	t := true
	out := &ec2api.DeregisterImageResult{Return: &t}
	if flag(in.DeleteAssociatedSnapshots) {
		out.DeleteSnapshotResults = []ec2api.DeleteSnapshotReturnCode{}
		for _, r := range res {
			out.DeleteSnapshotResults = append(out.DeleteSnapshotResults,
				ec2api.DeleteSnapshotReturnCode{SnapshotId: ptr(r.SnapshotID), ReturnCode: ptr(r.ReturnCode)})
		}
	}
	return out, nil
}

func (h *handlers) describeImages(ctx context.Context, c resource.Caller, in *ec2api.DescribeImagesRequest) (any, error) {
	r := &image.DescribeRequest{
		ImageIDs:          in.ImageIds,
		Owners:            in.Owners,
		ExecutableBy:      in.ExecutableUsers,
		IncludeDeprecated: flag(in.IncludeDeprecated),
		IncludeDisabled:   flag(in.IncludeDisabled),
		MaxResults:        in.MaxResults,
		NextToken:         in.NextToken,
		DryRun:            flag(in.DryRun),
	}
	r.Filters = filters(in.Filters)
	if r.Streams() {
		return h.streamImages(ctx, c, r)
	}
	imgs, next, err := h.svc.DescribeImages(ctx, c, r)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeImagesResult{Images: make([]ec2api.Image, len(imgs)), NextToken: ptr(next)}
	for i, d := range imgs {
		out.Images[i] = describedImageOut(d)
	}
	return out, nil
}

// streamImages answers an un-paged DescribeImages as a stream: the images
// are read, converted and written a batch at a time (query.Stream), so
// that a listing of every visible image at a million images is never held
// whole. The bytes are those of the one-piece answer.
func (h *handlers) streamImages(ctx context.Context, c resource.Caller, r *image.DescribeRequest) (any, error) {
	s, err := h.svc.StreamImages(ctx, c, r)
	if err != nil {
		return nil, err
	}
	return streamOf(&ec2api.DescribeImagesResult{}, "Images", s, describedImageOut), nil
}

func describedImageOut(d image.Described) ec2api.Image {
	out := imageOut(d.Image, d.Tags)
	out.ImageAllowed = d.Allowed
	return out
}

// streamOf is the answer of a streamed listing (resource.Stream): res's
// list field named list comes batch by batch, each result converted by
// out, so the answer is never held whole; the bytes are those of the
// one-piece answer (query.EncodeStream).
func streamOf[R, O any](res any, list string, s *resource.Stream[R], out func(R) O) *query.Stream {
	return &query.Stream{Out: res, List: list, Next: func(ctx context.Context) (any, error) {
		rs, err := s.Next(ctx)
		if err != nil || rs == nil {
			return nil, err
		}
		items := make([]O, len(rs))
		for i, r := range rs {
			items[i] = out(r)
		}
		return items, nil
	}}
}
