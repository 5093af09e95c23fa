package instance

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/audit"
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

// runTagTypes are the resource types RunInstances' TagSpecifications may
// name; amigo keeps the tags of instances and volumes.
var runTagTypes = []string{"instance", "volume", "network-interface"}

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
	// ClientToken makes the launch idempotent (idempotency.go).
	ClientToken string
	// Zone is Placement.AvailabilityZone; "" lets amigo choose.
	Zone                                      string
	UserData                                  string
	ShutdownBehavior                          string
	DisableAPITermination, DisableAPIStop     bool
	EbsOptimized, Hibernation, EnclaveEnabled bool
	CPUCredits                                string
	DryRun                                    bool
}

// fingerprint is what a ClientToken binds: the request with its defaults,
// without the token and DryRun.
func (r *RunRequest) fingerprint(itype string) (string, error) {
	v := *r
	v.ClientToken, v.DryRun, v.InstanceType = "", false, itype
	return RequestFingerprint(&v)
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
// pending, as EC2 does; they are running after the pending delay. The
// type must be one of the table's (types_table.go) and run the image's
// architecture. A ClientToken makes the call idempotent (spec §3.2).
//
// Returns MissingParameter, InvalidAMIID.Malformed, InvalidParameterValue
// (also unknown types, architecture mismatches and client tokens),
// IdempotentParameterMismatch, IdempotentInstanceTerminated,
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
	typ, err := CheckInstanceType(itype)
	if err != nil {
		return nil, err
	}
	if err := CheckClientToken(r.ClientToken); err != nil {
		return nil, err
	}
	if err := checkZone(c.Region, r.Zone); err != nil {
		return nil, err
	}
	if err := resource.CheckEnum("InstanceInitiatedShutdownBehavior", r.ShutdownBehavior, []string{"stop", "terminate"}); err != nil {
		return nil, err
	}
	if err := resource.CheckEnum("CpuCredits", r.CPUCredits, []string{"standard", "unlimited"}); err != nil {
		return nil, err
	}
	if err := checkMetadataOptions(r.MetadataOptions); err != nil {
		return nil, err
	}
	if err := image.CheckLaunchMappings(r.BlockDeviceMappings); err != nil {
		return nil, err
	}
	tags, err := resource.TagsFor(r.TagSpecifications, "instance", runTagTypes...)
	if err != nil {
		return nil, err
	}
	volumeTags, err := resource.TagsFor(r.TagSpecifications, "volume", runTagTypes...)
	if err != nil {
		return nil, err
	}
	fp, err := r.fingerprint(itype)
	if err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "RunInstances", resource.ImageARN(c.Region, r.ImageID)); err != nil {
		return nil, err
	}
	var res *Reservation
	err = s.store.UpdateInstances(ctx, func(tx Tx) error {
		res = nil
		// A DryRun neither consults nor records the token (spec §3.2).
		if r.ClientToken != "" && !r.DryRun {
			replayed, done, err := s.replay(ctx, tx, c, r, fp)
			if err != nil || done {
				res = replayed
				return err
			}
		}
		img, err := s.images.ImageToLaunch(ctx, tx, c, r.ImageID)
		if err != nil {
			return err
		}
		if err := CheckArchitecture(typ, img.Architecture); err != nil {
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
		devices := make([]string, len(img.BlockDeviceMappings))
		for i, m := range img.BlockDeviceMappings {
			devices[i] = m.DeviceName
		}
		now := s.now()
		res = &Reservation{ID: s.ids.New("r"), OwnerID: c.Account}
		var ids []string
		for i := int32(0); i < n; i++ {
			inst := s.newInstance(c, img, res.ID, itype, now)
			inst.BlockDeviceMappings = image.CloneMappings(mappings)
			applyMetadataOptions(inst, img, r.MetadataOptions)
			applySettings(inst, typ, r)
			if err := tx.InsertInstance(ctx, inst); err != nil {
				return err
			}
			if err := launchVolumes(ctx, tx, c, inst, devices, volumeTags); err != nil {
				return err
			}
			if len(tags) > 0 {
				if err := tx.SetTags(ctx, c.Region, c.Account, inst.ID, tags); err != nil {
					return err
				}
			}
			// The answer shows the launch as EC2's does, pending, even when
			// there is no pending delay.
			shown := *inst
			shown.State = StatePending
			res.Instances = append(res.Instances, Described{Instance: &shown, Tags: tags})
			ids = append(ids, inst.ID)
		}
		audit.Created(ctx, "reservationId", res.ID)
		audit.Created(ctx, "instancesSet", ids...)
		if r.ClientToken != "" {
			// In the launch's own transaction: a token is recorded exactly
			// when its instances are.
			if err := tx.PutClientToken(ctx, &TokenRecord{Region: c.Region, Account: c.Account, Token: r.ClientToken, Zone: r.Zone,
				Fingerprint: fp, ReservationID: res.ID, InstanceIDs: ids, CreatedAt: now}); err != nil {
				return err
			}
		}
		return s.images.MarkLaunched(ctx, tx, img, now)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) newInstance(c resource.Caller, img *image.Image, reservation, itype string, now time.Time) *Instance {
	inst := &Instance{
		Region:             c.Region,
		ID:                 s.ids.New("i"),
		OwnerID:            c.Account,
		ReservationID:      reservation,
		ImageID:            img.ID,
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
	inst.setLife(Launched(now, s.opts.Delays))
	return inst
}

// applySettings records the launch settings DescribeInstanceAttribute
// answers, and starts the instance's life.
func applySettings(inst *Instance, typ TypeInfo, r *RunRequest) {
	inst.Zone, inst.UserData, inst.ShutdownBehavior = r.Zone, r.UserData, r.ShutdownBehavior
	inst.DisableAPITermination, inst.DisableAPIStop, inst.EbsOptimized = r.DisableAPITermination, r.DisableAPIStop, r.EbsOptimized
	inst.Hibernation, inst.EnclaveEnabled = r.Hibernation, r.EnclaveEnabled
	if typ.Burstable {
		inst.CPUCredits = r.CPUCredits
		if inst.CPUCredits == "" {
			inst.CPUCredits = defaultCPUCredits(typ)
		}
	}
}

// defaultCPUCredits is EC2's default credit option: standard for T2,
// unlimited for T3, T3a and T4g.
func defaultCPUCredits(typ TypeInfo) string {
	if strings.HasPrefix(typ.Name, "t2.") || strings.HasPrefix(typ.Name, "t1.") {
		return "standard"
	}
	return "unlimited"
}

// checkZone accepts no zone or one of the region's zones (the region
// table's), with DescribeAvailabilityZones' error for any other.
func checkZone(region, zone string) error {
	if zone == "" {
		return nil
	}
	if r, ok := resource.LookupRegion(region); ok && slices.ContainsFunc(r.Zones, func(z resource.Zone) bool { return z.Name == zone }) {
		return nil
	}
	return awserr.InvalidParameterValue("Invalid availability zone: [%s]", zone)
}

// replay answers a RunInstances whose token is recorded: the recorded
// reservation with the instances' current states (done), an error, or
// nothing (not done) when the token is unknown or expired and the launch
// goes ahead.
func (s *Service) replay(ctx context.Context, tx Tx, c resource.Caller, r *RunRequest, fp string) (*Reservation, bool, error) {
	rec, err := tx.ClientToken(ctx, c.Region, c.Account, r.ClientToken, r.Zone)
	if errors.Is(err, resource.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var insts []*Instance
	var terminated []*time.Time
	for _, id := range rec.InstanceIDs {
		inst, err := tx.Instance(ctx, c.Region, id)
		if errors.Is(err, resource.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		s.settle(inst)
		insts = append(insts, inst)
		var at *time.Time
		if inst.State == StateTerminated {
			at = inst.TerminatedAt
			if at == nil {
				at = &inst.StateSince
			}
		}
		terminated = append(terminated, at)
	}
	use, err := rec.Use(fp, terminated, s.now())
	if err != nil || use == Forget {
		return nil, false, err
	}
	res := &Reservation{ID: rec.ReservationID, OwnerID: c.Account}
	tags, err := tx.Tags(ctx, c.Region, c.Account, rec.InstanceIDs)
	if err != nil {
		return nil, false, err
	}
	for _, inst := range insts {
		res.Instances = append(res.Instances, Described{Instance: inst, Tags: tags[inst.ID]})
	}
	return res, true, nil
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
