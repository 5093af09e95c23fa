package ec2

import (
	"time"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// lastLaunchedFormat is how EC2 writes lastLaunchedTime (no milliseconds).
const lastLaunchedFormat = "2006-01-02T15:04:05Z"

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
	var ebs []ec2api.EbsBlockDevice // one allocation for every mapping's
	for i := range ms {
		m := &ms[i] // the answer points into ms, like imageOut's into its image
		out[i] = ec2api.BlockDeviceMapping{DeviceName: ref(&m.DeviceName), VirtualName: ref(&m.VirtualName), NoDevice: ref(&m.NoDevice)}
		if e := m.Ebs; e != nil {
			if ebs == nil {
				ebs = make([]ec2api.EbsBlockDevice, 0, len(ms)-i)
			}
			ebs = append(ebs, ec2api.EbsBlockDevice{
				SnapshotId: ref(&e.SnapshotID), VolumeSize: e.VolumeSize, VolumeType: ref(&e.VolumeType),
				DeleteOnTermination: e.DeleteOnTermination, Iops: e.Iops, Throughput: e.Throughput,
				Encrypted: e.Encrypted, KmsKeyId: ref(&e.KmsKeyID), OutpostArn: ref(&e.OutpostArn),
				AvailabilityZone: ref(&e.AvailabilityZone),
			})
			out[i].Ebs = &ebs[len(ebs)-1]
		}
	}
	return out
}

func tagSpecs(ts []ec2api.TagSpecification) []resource.TagSpecification {
	out := make([]resource.TagSpecification, len(ts))
	for i, t := range ts {
		out[i] = resource.TagSpecification{ResourceType: str(t.ResourceType), Tags: tagsIn(t.Tags)}
	}
	return out
}

func tagsIn(ts []ec2api.Tag) []resource.Tag {
	out := make([]resource.Tag, len(ts))
	for i, t := range ts {
		out[i] = resource.Tag{Key: str(t.Key), Value: str(t.Value)}
	}
	return out
}

func tagsOut(ts []resource.Tag) []ec2api.Tag {
	if len(ts) == 0 {
		return nil
	}
	out := make([]ec2api.Tag, len(ts))
	for i := range ts {
		out[i] = ec2api.Tag{Key: &ts[i].Key, Value: &ts[i].Value}
	}
	return out
}

// timeOut is t.UTC().Format(image.TimeFormat) without the layout
// interpretation, which was a twentieth of a long listing's CPU.
func timeOut(t time.Time) string {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(image.TimeFormat)
	}
	h, mi, sec := t.Clock()
	var b [24]byte
	put := func(at, v, n int) {
		for k := at + n - 1; k >= at; k-- {
			b[k] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	put(5, int(mo), 2)
	put(8, d, 2)
	put(11, h, 2)
	put(14, mi, 2)
	put(17, sec, 2)
	put(20, t.Nanosecond()/int(time.Millisecond), 3)
	b[4], b[7], b[10], b[13], b[16], b[19], b[23] = '-', '-', 'T', ':', ':', '.', 'Z'
	return string(b[:])
}

// imageOut renders one image as DescribeImages shows it.
func imageOut(img *image.Image, tags []resource.Tag) ec2api.Image {
	// The answer points into img (the store hands out private copies)
	// rather than copying some thirty strings for each image listed.
	public := img.IsPublic()
	created := timeOut(img.CreationDate)
	out := ec2api.Image{
		ImageId:                  ref(&img.ID),
		ImageLocation:            ref(&img.Location),
		State:                    ref(&img.State),
		OwnerId:                  ref(&img.OwnerID),
		CreationDate:             &created,
		Public:                   &public,
		Architecture:             ref(&img.Architecture),
		ImageType:                ref(&img.ImageType),
		KernelId:                 ref(&img.KernelID),
		RamdiskId:                ref(&img.RamdiskID),
		Platform:                 ref(&img.Platform),
		PlatformDetails:          ref(&img.PlatformDetails),
		UsageOperation:           ref(&img.UsageOperation),
		ProductCodes:             productCodes(img.ProductCodes, false),
		ImageOwnerAlias:          ref(&img.OwnerAlias),
		Name:                     ref(&img.Name),
		Description:              ref(&img.Description),
		RootDeviceType:           ref(&img.RootDeviceType),
		RootDeviceName:           ref(&img.RootDeviceName),
		BlockDeviceMappings:      mappingsOut(img.BlockDeviceMappings),
		VirtualizationType:       ref(&img.VirtualizationType),
		Tags:                     tagsOut(tags),
		Hypervisor:               ref(&img.Hypervisor),
		EnaSupport:               img.EnaSupport,
		SriovNetSupport:          ref(&img.SriovNetSupport),
		BootMode:                 ref(&img.BootMode),
		TpmSupport:               ref(&img.TpmSupport),
		ImdsSupport:              ref(&img.ImdsSupport),
		SourceInstanceId:         ref(&img.SourceInstanceID),
		SourceImageId:            ref(&img.SourceImageID),
		SourceImageRegion:        ref(&img.SourceImageRegion),
		DeregistrationProtection: ptr(img.ProtectionState()),
		FreeTierEligible:         img.FreeTierEligible,
	}
	if img.StateReason != nil {
		out.StateReason = &ec2api.StateReason{Code: ptr(img.StateReason.Code), Message: ptr(img.StateReason.Message)}
	}
	if img.DeprecationTime != nil {
		out.DeprecationTime = ptr(timeOut(*img.DeprecationTime))
	}
	if img.LastLaunchedTime != nil {
		out.LastLaunchedTime = ptr(img.LastLaunchedTime.UTC().Format(lastLaunchedFormat))
	}
	return out
}
