package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func (h *handlers) enableAllowedImagesSettings(ctx context.Context, c resource.Caller, in *ec2api.EnableAllowedImagesSettingsRequest) (any, error) {
	got, err := h.svc.EnableAllowedImages(ctx, c, str(in.AllowedImagesSettingsState), flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.EnableAllowedImagesSettingsResult{AllowedImagesSettingsState: &got}, nil
}

func (h *handlers) disableAllowedImagesSettings(ctx context.Context, c resource.Caller, in *ec2api.DisableAllowedImagesSettingsRequest) (any, error) {
	got, err := h.svc.DisableAllowedImages(ctx, c, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.DisableAllowedImagesSettingsResult{AllowedImagesSettingsState: &got}, nil
}

func (h *handlers) getAllowedImagesSettings(ctx context.Context, c resource.Caller, in *ec2api.GetAllowedImagesSettingsRequest) (any, error) {
	s, err := h.svc.AllowedImagesSettings(ctx, c, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	out := &ec2api.GetAllowedImagesSettingsResult{State: ptr(s.State), ManagedBy: ptr(s.ManagedBy)}
	for _, cr := range s.Criteria {
		o := ec2api.ImageCriterion{ImageProviders: cr.ImageProviders, ImageNames: cr.ImageNames,
			MarketplaceProductCodes: cr.MarketplaceProductCodes}
		if cr.MaximumDaysSinceCreated != nil {
			o.CreationDateCondition = &ec2api.CreationDateCondition{MaximumDaysSinceCreated: cr.MaximumDaysSinceCreated}
		}
		if cr.MaximumDaysSinceDeprecated != nil {
			o.DeprecationTimeCondition = &ec2api.DeprecationTimeCondition{MaximumDaysSinceDeprecated: cr.MaximumDaysSinceDeprecated}
		}
		out.ImageCriteria = append(out.ImageCriteria, o)
	}
	return out, nil
}

func (h *handlers) replaceImageCriteriaInAllowedImagesSettings(ctx context.Context, c resource.Caller, in *ec2api.ReplaceImageCriteriaInAllowedImagesSettingsRequest) (any, error) {
	cs := make([]image.ImageCriterion, len(in.ImageCriteria))
	for i, cr := range in.ImageCriteria {
		cs[i] = image.ImageCriterion{ImageProviders: cr.ImageProviders, ImageNames: cr.ImageNames,
			MarketplaceProductCodes: cr.MarketplaceProductCodes}
		if d := cr.CreationDateCondition; d != nil {
			cs[i].MaximumDaysSinceCreated = d.MaximumDaysSinceCreated
		}
		if d := cr.DeprecationTimeCondition; d != nil {
			cs[i].MaximumDaysSinceDeprecated = d.MaximumDaysSinceDeprecated
		}
	}
	if err := h.svc.ReplaceImageCriteria(ctx, c, cs, flag(in.DryRun)); err != nil {
		return nil, err
	}
	return &ec2api.ReplaceImageCriteriaInAllowedImagesSettingsResult{ReturnValue: yes()}, nil
}
