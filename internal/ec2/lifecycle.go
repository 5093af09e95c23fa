package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func yes() *bool { t := true; return &t }

func (h *handlers) enableImageDeprecation(ctx context.Context, c resource.Caller, in *ec2api.EnableImageDeprecationRequest) (any, error) {
	if err := h.svc.EnableImageDeprecation(ctx, c, str(in.ImageId), in.DeprecateAt, flag(in.DryRun)); err != nil {
		return nil, err
	}
	return &ec2api.EnableImageDeprecationResult{Return: yes()}, nil
}

func (h *handlers) disableImageDeprecation(ctx context.Context, c resource.Caller, in *ec2api.DisableImageDeprecationRequest) (any, error) {
	if err := h.svc.DisableImageDeprecation(ctx, c, str(in.ImageId), flag(in.DryRun)); err != nil {
		return nil, err
	}
	return &ec2api.DisableImageDeprecationResult{Return: yes()}, nil
}

func (h *handlers) enableImageDeregistrationProtection(ctx context.Context, c resource.Caller, in *ec2api.EnableImageDeregistrationProtectionRequest) (any, error) {
	state, err := h.svc.EnableImageDeregistrationProtection(ctx, c, str(in.ImageId), flag(in.WithCooldown), flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.EnableImageDeregistrationProtectionResult{Return: &state}, nil
}

func (h *handlers) disableImageDeregistrationProtection(ctx context.Context, c resource.Caller, in *ec2api.DisableImageDeregistrationProtectionRequest) (any, error) {
	state, err := h.svc.DisableImageDeregistrationProtection(ctx, c, str(in.ImageId), flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.DisableImageDeregistrationProtectionResult{Return: &state}, nil
}

func (h *handlers) enableImage(ctx context.Context, c resource.Caller, in *ec2api.EnableImageRequest) (any, error) {
	if err := h.svc.EnableImage(ctx, c, str(in.ImageId), flag(in.DryRun)); err != nil {
		return nil, err
	}
	return &ec2api.EnableImageResult{Return: yes()}, nil
}

func (h *handlers) disableImage(ctx context.Context, c resource.Caller, in *ec2api.DisableImageRequest) (any, error) {
	if err := h.svc.DisableImage(ctx, c, str(in.ImageId), flag(in.DryRun)); err != nil {
		return nil, err
	}
	return &ec2api.DisableImageResult{Return: yes()}, nil
}

func (h *handlers) cancelImageLaunchPermission(ctx context.Context, c resource.Caller, in *ec2api.CancelImageLaunchPermissionRequest) (any, error) {
	if err := h.svc.CancelImageLaunchPermission(ctx, c, str(in.ImageId), flag(in.DryRun)); err != nil {
		return nil, err
	}
	return &ec2api.CancelImageLaunchPermissionResult{Return: yes()}, nil
}

func (h *handlers) enableImageBlockPublicAccess(ctx context.Context, c resource.Caller, in *ec2api.EnableImageBlockPublicAccessRequest) (any, error) {
	state := str(in.ImageBlockPublicAccessState)
	if state == image.Unblocked { // only block-new-sharing may be asked for here
		state = "unblocked "
	}
	got, err := h.svc.SetImageBlockPublicAccess(ctx, c, state, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.EnableImageBlockPublicAccessResult{ImageBlockPublicAccessState: &got}, nil
}

func (h *handlers) disableImageBlockPublicAccess(ctx context.Context, c resource.Caller, in *ec2api.DisableImageBlockPublicAccessRequest) (any, error) {
	got, err := h.svc.SetImageBlockPublicAccess(ctx, c, image.Unblocked, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.DisableImageBlockPublicAccessResult{ImageBlockPublicAccessState: &got}, nil
}

func (h *handlers) getImageBlockPublicAccessState(ctx context.Context, c resource.Caller, in *ec2api.GetImageBlockPublicAccessStateRequest) (any, error) {
	state, err := h.svc.ImageBlockPublicAccessState(ctx, c, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	managed := "account"
	return &ec2api.GetImageBlockPublicAccessStateResult{ImageBlockPublicAccessState: &state, ManagedBy: &managed}, nil
}
