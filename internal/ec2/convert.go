package ec2

import (
	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
)

// lastLaunchedFormat is how EC2 writes lastLaunchedTime (no milliseconds).
const lastLaunchedFormat = "2006-01-02T15:04:05Z"

func protectionState(img *image.Image) string {
	if img.DeregistrationProtection == "" || img.DeregistrationProtection == "disabled" {
		if img.ProtectedUntil != nil {
			return "disabled after " + img.ProtectedUntil.UTC().Format(image.TimeFormat)
		}
		return "disabled"
	}
	return img.DeregistrationProtection
}

func launchPermissions(ps []image.LaunchPermission) []ec2api.LaunchPermission {
	out := make([]ec2api.LaunchPermission, 0, len(ps))
	for _, p := range ps {
		v := p.Value
		var lp ec2api.LaunchPermission
		switch p.Kind {
		case image.PermUser:
			lp.UserId = &v
		case image.PermGroup:
			lp.Group = &v
		case image.PermOrg:
			lp.OrganizationArn = &v
		case image.PermOU:
			lp.OrganizationalUnitArn = &v
		}
		out = append(out, lp)
	}
	return out
}

// productCodes renders product codes; empty gives nil unless the caller
// wants the empty element (DescribeImageAttribute shows <productCodes/>).
func productCodes(pcs []image.ProductCode, keepEmpty bool) []ec2api.ProductCode {
	if len(pcs) == 0 && !keepEmpty {
		return nil
	}
	out := make([]ec2api.ProductCode, 0, len(pcs))
	for _, pc := range pcs {
		out = append(out, ec2api.ProductCode{ProductCodeId: ptr(pc.Code), ProductCodeType: ptr(pc.Type)})
	}
	return out
}

func mappingsIn(ms []ec2api.BlockDeviceMapping) []image.BlockDeviceMapping {
	if len(ms) == 0 {
		return nil
	}
	out := make([]image.BlockDeviceMapping, len(ms))
	for i, m := range ms {
		out[i] = image.BlockDeviceMapping{DeviceName: str(m.DeviceName), VirtualName: str(m.VirtualName), NoDevice: str(m.NoDevice)}
		if e := m.Ebs; e != nil {
			out[i].Ebs = &image.EbsBlockDevice{
				SnapshotID: str(e.SnapshotId), VolumeSize: e.VolumeSize, VolumeType: str(e.VolumeType),
				DeleteOnTermination: e.DeleteOnTermination, Iops: e.Iops, Throughput: e.Throughput,
				Encrypted: e.Encrypted, KmsKeyID: str(e.KmsKeyId), OutpostArn: str(e.OutpostArn),
				AvailabilityZone: str(e.AvailabilityZone),
			}
		}
	}
	return out
}

func mappingsOut(ms []image.BlockDeviceMapping) []ec2api.BlockDeviceMapping {
	out := make([]ec2api.BlockDeviceMapping, len(ms))
	for i, m := range ms {
		out[i] = ec2api.BlockDeviceMapping{DeviceName: ptr(m.DeviceName), VirtualName: ptr(m.VirtualName), NoDevice: ptr(m.NoDevice)}
		if e := m.Ebs; e != nil {
			out[i].Ebs = &ec2api.EbsBlockDevice{
				SnapshotId: ptr(e.SnapshotID), VolumeSize: e.VolumeSize, VolumeType: ptr(e.VolumeType),
				DeleteOnTermination: e.DeleteOnTermination, Iops: e.Iops, Throughput: e.Throughput,
				Encrypted: e.Encrypted, KmsKeyId: ptr(e.KmsKeyID), OutpostArn: ptr(e.OutpostArn),
				AvailabilityZone: ptr(e.AvailabilityZone),
			}
		}
	}
	return out
}

func tagSpecs(ts []ec2api.TagSpecification) []image.TagSpecification {
	out := make([]image.TagSpecification, len(ts))
	for i, t := range ts {
		out[i] = image.TagSpecification{ResourceType: str(t.ResourceType), Tags: tagsIn(t.Tags)}
	}
	return out
}

func tagsIn(ts []ec2api.Tag) []image.Tag {
	out := make([]image.Tag, len(ts))
	for i, t := range ts {
		out[i] = image.Tag{Key: str(t.Key), Value: str(t.Value)}
	}
	return out
}

func tagsOut(ts []image.Tag) []ec2api.Tag {
	if len(ts) == 0 {
		return nil
	}
	out := make([]ec2api.Tag, len(ts))
	for i := range ts {
		out[i] = ec2api.Tag{Key: &ts[i].Key, Value: &ts[i].Value}
	}
	return out
}

// imageOut renders one image as DescribeImages shows it.
func imageOut(img *image.Image, tags []image.Tag) ec2api.Image {
	public := img.IsPublic()
	created := img.CreationDate.UTC().Format(image.TimeFormat)
	out := ec2api.Image{
		ImageId:                  ptr(img.ID),
		ImageLocation:            ptr(img.Location),
		State:                    ptr(img.State),
		OwnerId:                  ptr(img.OwnerID),
		CreationDate:             &created,
		Public:                   &public,
		Architecture:             ptr(img.Architecture),
		ImageType:                ptr(img.ImageType),
		KernelId:                 ptr(img.KernelID),
		RamdiskId:                ptr(img.RamdiskID),
		Platform:                 ptr(img.Platform),
		PlatformDetails:          ptr(img.PlatformDetails),
		UsageOperation:           ptr(img.UsageOperation),
		ProductCodes:             productCodes(img.ProductCodes, false),
		ImageOwnerAlias:          ptr(img.OwnerAlias),
		Name:                     ptr(img.Name),
		Description:              ptr(img.Description),
		RootDeviceType:           ptr(img.RootDeviceType),
		RootDeviceName:           ptr(img.RootDeviceName),
		BlockDeviceMappings:      mappingsOut(img.BlockDeviceMappings),
		VirtualizationType:       ptr(img.VirtualizationType),
		Tags:                     tagsOut(tags),
		Hypervisor:               ptr(img.Hypervisor),
		EnaSupport:               img.EnaSupport,
		SriovNetSupport:          ptr(img.SriovNetSupport),
		BootMode:                 ptr(img.BootMode),
		TpmSupport:               ptr(img.TpmSupport),
		ImdsSupport:              ptr(img.ImdsSupport),
		SourceInstanceId:         ptr(img.SourceInstanceID),
		SourceImageId:            ptr(img.SourceImageID),
		SourceImageRegion:        ptr(img.SourceImageRegion),
		DeregistrationProtection: ptr(protectionState(img)),
		FreeTierEligible:         img.FreeTierEligible,
	}
	if img.StateReason != nil {
		out.StateReason = &ec2api.StateReason{Code: ptr(img.StateReason.Code), Message: ptr(img.StateReason.Message)}
	}
	if img.DeprecationTime != nil {
		out.DeprecationTime = ptr(img.DeprecationTime.UTC().Format(image.TimeFormat))
	}
	if img.LastLaunchedTime != nil {
		out.LastLaunchedTime = ptr(img.LastLaunchedTime.UTC().Format(lastLaunchedFormat))
	}
	return out
}
