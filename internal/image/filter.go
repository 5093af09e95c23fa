package image

import (
	"strconv"
	"time"

	"github.com/amigo-ec2/amigo/internal/resource"
)

func boolStr(b bool) string { return strconv.FormatBool(b) }

func optBool(p *bool) []string {
	if p == nil {
		return []string{"false"}
	}
	return []string{boolStr(*p)}
}

func eachEbs(img *Image, f func(e *EbsBlockDevice) string) []string {
	var out []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil {
			if v := f(m.Ebs); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// TimeFormat is how EC2 writes creationDate and deprecationTime.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// imageFields is every DescribeImages filter the model lists (spec §2.4.4).
var imageFields = map[string]resource.Field[*Image]{
	"architecture": func(i *Image, _ []resource.Tag) []string { return resource.One(i.Architecture) },
	"block-device-mapping.delete-on-termination": func(i *Image, _ []resource.Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string {
			if e.DeleteOnTermination == nil {
				return "false"
			}
			return boolStr(*e.DeleteOnTermination)
		})
	},
	"block-device-mapping.device-name": func(i *Image, _ []resource.Tag) []string {
		var out []string
		for _, m := range i.BlockDeviceMappings {
			out = append(out, m.DeviceName)
		}
		return out
	},
	"block-device-mapping.snapshot-id": func(i *Image, _ []resource.Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string { return e.SnapshotID })
	},
	"block-device-mapping.volume-size": func(i *Image, _ []resource.Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string {
			if e.VolumeSize == nil {
				return ""
			}
			return strconv.Itoa(int(*e.VolumeSize))
		})
	},
	"block-device-mapping.volume-type": func(i *Image, _ []resource.Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string { return e.VolumeType })
	},
	"block-device-mapping.encrypted": func(i *Image, _ []resource.Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string {
			if e.Encrypted == nil {
				return "false"
			}
			return boolStr(*e.Encrypted)
		})
	},
	"creation-date":      func(i *Image, _ []resource.Tag) []string { return []string{i.CreationDate.UTC().Format(TimeFormat)} },
	"description":        func(i *Image, _ []resource.Tag) []string { return resource.One(i.Description) },
	"ena-support":        func(i *Image, _ []resource.Tag) []string { return optBool(i.EnaSupport) },
	"free-tier-eligible": func(i *Image, _ []resource.Tag) []string { return optBool(i.FreeTierEligible) },
	"hypervisor":         func(i *Image, _ []resource.Tag) []string { return resource.One(i.Hypervisor) },
	"image-allowed":      func(i *Image, _ []resource.Tag) []string { return []string{"true"} },
	"image-id":           func(i *Image, _ []resource.Tag) []string { return resource.One(i.ID) },
	"image-type":         func(i *Image, _ []resource.Tag) []string { return resource.One(i.ImageType) },
	"is-public":          func(i *Image, _ []resource.Tag) []string { return []string{boolStr(i.IsPublic())} },
	"kernel-id":          func(i *Image, _ []resource.Tag) []string { return resource.One(i.KernelID) },
	"manifest-location":  func(i *Image, _ []resource.Tag) []string { return resource.One(i.Location) },
	"name":               func(i *Image, _ []resource.Tag) []string { return resource.One(i.Name) },
	"owner-alias":        func(i *Image, _ []resource.Tag) []string { return resource.One(i.OwnerAlias) },
	"owner-id":           func(i *Image, _ []resource.Tag) []string { return resource.One(i.OwnerID) },
	"platform":           func(i *Image, _ []resource.Tag) []string { return resource.One(i.Platform) },
	"product-code": func(i *Image, _ []resource.Tag) []string {
		var out []string
		for _, p := range i.ProductCodes {
			out = append(out, p.Code)
		}
		return out
	},
	"product-code.type": func(i *Image, _ []resource.Tag) []string {
		var out []string
		for _, p := range i.ProductCodes {
			out = append(out, p.Type)
		}
		return out
	},
	"public-ssm-parameter-name": func(i *Image, _ []resource.Tag) []string { return nil },
	"ramdisk-id":                func(i *Image, _ []resource.Tag) []string { return resource.One(i.RamdiskID) },
	"root-device-name":          func(i *Image, _ []resource.Tag) []string { return resource.One(i.RootDeviceName) },
	"root-device-type":          func(i *Image, _ []resource.Tag) []string { return resource.One(i.RootDeviceType) },
	"source-image-id":           func(i *Image, _ []resource.Tag) []string { return resource.One(i.SourceImageID) },
	"source-image-region":       func(i *Image, _ []resource.Tag) []string { return resource.One(i.SourceImageRegion) },
	"source-instance-id":        func(i *Image, _ []resource.Tag) []string { return resource.One(i.SourceInstanceID) },
	"state":                     func(i *Image, _ []resource.Tag) []string { return resource.One(i.State) },
	"state-reason-code": func(i *Image, _ []resource.Tag) []string {
		if i.StateReason == nil {
			return nil
		}
		return resource.One(i.StateReason.Code)
	},
	"state-reason-message": func(i *Image, _ []resource.Tag) []string {
		if i.StateReason == nil {
			return nil
		}
		return resource.One(i.StateReason.Message)
	},
	"sriov-net-support":   func(i *Image, _ []resource.Tag) []string { return resource.One(i.SriovNetSupport) },
	"virtualization-type": func(i *Image, _ []resource.Tag) []string { return resource.One(i.VirtualizationType) },
	"tag-key":             resource.TagKeys[*Image],
}

// deprecated reports whether the image's deprecation time has passed.
func deprecated(img *Image, now time.Time) bool {
	return img.DeprecationTime != nil && !now.Before(*img.DeprecationTime)
}
