package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func (h *handlers) copyImage(ctx context.Context, c resource.Caller, in *ec2api.CopyImageRequest) (any, error) {
	id, err := h.svc.CopyImage(ctx, c, &image.CopyRequest{
		SourceImageID:                         str(in.SourceImageId),
		SourceRegion:                          str(in.SourceRegion),
		Name:                                  str(in.Name),
		Description:                           str(in.Description),
		ClientToken:                           str(in.ClientToken),
		Encrypted:                             in.Encrypted,
		KmsKeyID:                              str(in.KmsKeyId),
		CopyImageTags:                         flag(in.CopyImageTags),
		TagSpecifications:                     tagSpecs(in.TagSpecifications),
		DestinationOutpostArn:                 str(in.DestinationOutpostArn),
		DestinationAvailabilityZone:           str(in.DestinationAvailabilityZone),
		DestinationAvailabilityZoneID:         str(in.DestinationAvailabilityZoneId),
		SnapshotCopyCompletionDurationMinutes: in.SnapshotCopyCompletionDurationMinutes,
		DryRun:                                flag(in.DryRun),
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CopyImageResult{ImageId: &id}, nil
}
