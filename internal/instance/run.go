package instance

import (
	"context"
	"regexp"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

const (
	// defaultInstanceType is EC2's documented RunInstances default.
	defaultInstanceType = "m1.small"
	// maxLaunch is how many instances one RunInstances call may start
	// (EC2's default On-Demand limit for one call in a new account).
	maxLaunch = 20
)

var instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)

// MetadataOptions are the IMDS options a launch asks for; empty fields
// take the image's defaults.
type MetadataOptions struct {
	HttpTokens              string
	HttpPutResponseHopLimit *int32
	HttpEndpoint            string
}

// RunRequest is RunInstances' input, as far as images are concerned.
type RunRequest struct {
	ImageID             string
	MinCount, MaxCount  *int32
	InstanceType        string
	MetadataOptions     *MetadataOptions
	BlockDeviceMappings []image.BlockDeviceMapping
	TagSpecifications   []resource.TagSpecification
	DryRun              bool
}

// Described is an instance with the caller's tags.
type Described struct {
	*Instance
	Tags []resource.Tag
}

// Reservation is the instances one RunInstances call started.
type Reservation struct {
	ID        string
	OwnerID   string
	Instances []Described
}

func checkMetadataOptions(mo *MetadataOptions) error {
	if mo == nil {
		return nil
	}
	if err := resource.CheckEnum("HttpTokens", mo.HttpTokens, []string{"optional", "required"}); err != nil {
		return err
	}
	if err := resource.CheckEnum("HttpEndpoint", mo.HttpEndpoint, []string{"enabled", "disabled"}); err != nil {
		return err
	}
	if h := mo.HttpPutResponseHopLimit; h != nil && (*h < 1 || *h > 64) {
		return awserr.InvalidParameterValue("Value (%d) for parameter HttpPutResponseHopLimit is invalid. Expecting a value between 1 and 64.", *h)
	}
	return nil
}

// RunInstances launches MinCount to MaxCount instances of an image in one
// reservation (spec §2.18). The instances take the image's architecture,
// devices, networking flags and boot mode; an imdsSupport v2.0 image makes
// IMDSv2 required with a hop limit of 2 unless the request says otherwise.
// The image's lastLaunchedTime is updated. The answer shows the instances
// pending, as EC2 does; they are running at once.
//
// Returns MissingParameter, InvalidAMIID.Malformed, InvalidParameterValue,
// InvalidBlockDeviceMapping, InstanceLimitExceeded, UnauthorizedOperation,
// InvalidAMIID.NotFound / .Unavailable, AuthFailure (no launch permission)
// and DryRunOperation.
func (s *Service) RunInstances(ctx context.Context, c resource.Caller, r *RunRequest) (*Reservation, error) {
	if err := image.CheckImageID(r.ImageID); err != nil {
		return nil, err
	}
	if r.MinCount == nil {
		return nil, awserr.MissingParameter("MinCount")
	}
	if r.MaxCount == nil {
		return nil, awserr.MissingParameter("MaxCount")
	}
	minN, maxN := *r.MinCount, *r.MaxCount
	if minN < 1 {
		return nil, awserr.InvalidParameterValue("Value (%d) for parameter minCount is invalid. Expecting a value greater than 0.", minN)
	}
	if maxN < minN {
		return nil, awserr.InvalidParameterValue("Value (%d) for parameter maxCount is invalid. Expecting a value greater than or equal to minCount.", maxN)
	}
	if minN > maxLaunch {
		return nil, awserr.Newf(awserr.CodeInstanceLimitExceeded, "You have requested more instances (%d) than your current instance limit of %d allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.", minN, maxLaunch)
	}
	n := min(maxN, maxLaunch)
	itype := r.InstanceType
	if itype == "" {
		itype = defaultInstanceType
	}
	if !instanceTypePattern.MatchString(itype) {
		return nil, awserr.InvalidParameterValue("Invalid value '%s' for InstanceType.", itype)
	}
	if err := checkMetadataOptions(r.MetadataOptions); err != nil {
		return nil, err
	}
	if err := image.CheckLaunchMappings(r.BlockDeviceMappings); err != nil {
		return nil, err
	}
	tags, err := resource.TagsFor(r.TagSpecifications, "instance", "instance", "volume", "network-interface")
	if err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "RunInstances", resource.ImageARN(c.Region, r.ImageID)); err != nil {
		return nil, err
	}
	var res *Reservation
	err = s.store.UpdateInstances(ctx, func(tx Tx) error {
		res = nil
		img, err := s.images.ImageToLaunch(ctx, tx, c, r.ImageID)
		if err != nil {
			return err
		}
		// EC2 checks the resources before it answers a DryRun (spec §3.6).
		if r.DryRun {
			return awserr.DryRunOK()
		}
		mappings, err := image.LaunchMappings(img.BlockDeviceMappings, r.BlockDeviceMappings)
		if err != nil {
			return err
		}
		now := s.now()
		res = &Reservation{ID: s.ids.New("r"), OwnerID: c.Account}
		for i := int32(0); i < n; i++ {
			inst := s.newInstance(c, img, res.ID, itype, now)
			inst.BlockDeviceMappings = image.CloneMappings(mappings)
			applyMetadataOptions(inst, img, r.MetadataOptions)
			if err := tx.InsertInstance(ctx, inst); err != nil {
				return err
			}
			if len(tags) > 0 {
				if err := tx.SetTags(ctx, c.Region, c.Account, inst.ID, tags); err != nil {
					return err
				}
			}
			shown := *inst
			shown.State = StatePending
			res.Instances = append(res.Instances, Described{Instance: &shown, Tags: tags})
		}
		return s.images.MarkLaunched(ctx, tx, img, now)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) newInstance(c resource.Caller, img *image.Image, reservation, itype string, now time.Time) *Instance {
	return &Instance{
		Region:             c.Region,
		ID:                 s.ids.New("i"),
		OwnerID:            c.Account,
		ReservationID:      reservation,
		ImageID:            img.ID,
		State:              StateRunning,
		InstanceType:       itype,
		LaunchTime:         now.Truncate(time.Second),
		Architecture:       img.Architecture,
		Platform:           img.Platform,
		KernelID:           img.KernelID,
		RamdiskID:          img.RamdiskID,
		RootDeviceName:     img.RootDeviceName,
		RootDeviceType:     img.RootDeviceType,
		VirtualizationType: img.VirtualizationType,
		Hypervisor:         img.Hypervisor,
		SriovNetSupport:    img.SriovNetSupport,
		EnaSupport:         clonePtr(img.EnaSupport),
		BootMode:           img.BootMode,
	}
}

// applyMetadataOptions sets the instance's IMDS options: EC2's defaults,
// IMDSv2 with two hops for an imdsSupport v2.0 image, then what the
// request asks for.
func applyMetadataOptions(inst *Instance, img *image.Image, mo *MetadataOptions) {
	inst.HttpTokens, inst.HttpPutResponseHopLimit, inst.HttpEndpoint = "optional", 1, "enabled"
	if img.ImdsSupport == "v2.0" {
		inst.HttpTokens, inst.HttpPutResponseHopLimit = "required", 2
	}
	if mo == nil {
		return
	}
	if mo.HttpTokens != "" {
		inst.HttpTokens = mo.HttpTokens
	}
	if mo.HttpPutResponseHopLimit != nil {
		inst.HttpPutResponseHopLimit = *mo.HttpPutResponseHopLimit
	}
	if mo.HttpEndpoint != "" {
		inst.HttpEndpoint = mo.HttpEndpoint
	}
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
