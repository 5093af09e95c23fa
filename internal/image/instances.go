package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Instances, just enough for images: launched from an image the caller may
// launch (spec §2.18), described, terminated, and the source of CreateImage.

const (
	// defaultInstanceType is EC2's documented RunInstances default.
	defaultInstanceType = "m1.small"
	// maxLaunch is how many instances one RunInstances call may start
	// (EC2's default On-Demand limit for one call in a new account).
	maxLaunch = 20
	// terminatedRetention is how long a terminated instance stays in
	// DescribeInstances, as on EC2.
	terminatedRetention = time.Hour
)

var instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)

// InstanceStateCode is the number EC2 gives each instance state.
func InstanceStateCode(state string) int32 {
	switch state {
	case InstancePending:
		return 0
	case InstanceRunning:
		return 16
	case InstanceShuttingDown:
		return 32
	case InstanceTerminated:
		return 48
	case InstanceStopping:
		return 64
	case InstanceStopped:
		return 80
	}
	return 0
}

// AvailabilityZone is where amigo says the instance runs: the region's
// first zone.
func (inst *Instance) AvailabilityZone() string { return inst.Region + "a" }

// VolumeID is the id of the EBS volume an instance has at a device, derived
// from both so that it needs no storage and never changes.
func VolumeID(instanceID, device string) string {
	sum := sha256.Sum256([]byte(instanceID + "\x00" + device))
	return "vol-" + hex.EncodeToString(sum[:])[:17]
}

// InstanceARN names an instance in IAM policies and DescribeImageReferences.
func InstanceARN(region, account, id string) string {
	return "arn:aws:ec2:" + region + ":" + account + ":instance/" + id
}

func errInstanceMalformed(id string) error {
	return awserr.Newf("InvalidInstanceID.Malformed", "Invalid id: %q (expecting \"i-...\")", id)
}

func errInstanceNotFound(ids ...string) error {
	if len(ids) == 1 {
		return awserr.Newf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", ids[0])
	}
	return awserr.Newf("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(ids, ", "))
}

func checkInstanceID(id string) error {
	if id == "" {
		return awserr.MissingParameter("InstanceId")
	}
	if !ValidResourceID(id, "i") {
		return errInstanceMalformed(id)
	}
	return nil
}

// instanceGone reports whether a terminated instance has left DescribeInstances.
func (s *Service) instanceGone(inst *Instance) bool {
	return inst.State == InstanceTerminated && inst.TerminatedAt != nil &&
		s.now().Sub(*inst.TerminatedAt) > terminatedRetention
}

// findInstance returns the caller's instance, or nil when it does not
// exist, is another account's, or is long terminated.
func (s *Service) findInstance(ctx context.Context, tx Tx, c Caller, id string) (*Instance, error) {
	inst, err := tx.Instance(ctx, c.Region, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if inst.OwnerID != c.Account || s.instanceGone(inst) {
		return nil, nil
	}
	return inst, nil
}

// ownedInstance is findInstance with InvalidInstanceID.NotFound for nil.
func (s *Service) ownedInstance(ctx context.Context, tx Tx, c Caller, id string) (*Instance, error) {
	inst, err := s.findInstance(ctx, tx, c, id)
	if err == nil && inst == nil {
		return nil, errInstanceNotFound(id)
	}
	return inst, err
}

// uniqueInOrder drops repeated ids, keeping the first of each.
func uniqueInOrder(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// cloneMappings deep-copies block device mappings.
func cloneMappings(ms []BlockDeviceMapping) []BlockDeviceMapping {
	return (&Image{BlockDeviceMappings: ms}).Clone().BlockDeviceMappings
}

// imageToLaunch is the launch rule (spec §2.18): the image exists in the
// region and is not deregistered (else InvalidAMIID.NotFound), the caller's
// Allowed AMIs setting does not hide it (else InvalidAMIID.NotFound), the
// caller may launch it — owner, account, organization, OU or public grant
// (else AuthFailure, 400) — and it is available (else
// InvalidAMIID.Unavailable). Deprecated images stay launchable; disabled
// ones have no grants left and are not available to their owner either.
func (s *Service) imageToLaunch(ctx context.Context, tx Tx, c Caller, id string) (*Image, error) {
	img, err := tx.Image(ctx, c.Region, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	s.settle(img)
	if s.gone(img) || img.State == StateDeregistered {
		return nil, errNotFound(id)
	}
	policy, err := s.loadAllowedPolicy(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	if policy.hides(img) {
		return nil, errNotFound(id)
	}
	if !img.VisibleTo(c.Viewer) {
		return nil, awserr.WithStatus(http.StatusBadRequest, "AuthFailure", "Not authorized for images: ["+id+"]")
	}
	if img.State != StateAvailable {
		return nil, awserr.Newf("InvalidAMIID.Unavailable", "AMI '%s' is %s, and cannot be run", id, img.State)
	}
	return img, nil
}

// NoDeviceSet is the NoDevice of a RunInstances or CreateImage override
// that leaves its device out. Clients send NoDevice empty, so the
// transport records its presence as this value.
const NoDeviceSet = "set"

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
	BlockDeviceMappings []BlockDeviceMapping
	TagSpecifications   []TagSpecification
	DryRun              bool
}

// DescribedInstance is an instance with the caller's tags.
type DescribedInstance struct {
	*Instance
	Tags []Tag
}

// Reservation is the instances one RunInstances call started.
type Reservation struct {
	ID        string
	OwnerID   string
	Instances []DescribedInstance
}

// ResourceTags validates TagSpecifications and returns the tags meant for
// one resource type; only the allowed types may appear.
func ResourceTags(specs []TagSpecification, want string, allowed ...string) ([]Tag, error) {
	var tags []Tag
	for _, ts := range specs {
		if ts.ResourceType == "" {
			return nil, awserr.MissingParameter("TagSpecification.ResourceType")
		}
		if !slices.Contains(allowed, ts.ResourceType) {
			return nil, awserr.InvalidParameterValue("'%s' is not a valid taggable resource type for this operation.", ts.ResourceType)
		}
		for _, t := range ts.Tags {
			if err := ValidateTag(t); err != nil {
				return nil, err
			}
		}
		if ts.ResourceType == want {
			var err error
			if tags, err = mergeTags(tags, ts.Tags); err != nil {
				return nil, err
			}
		}
	}
	return tags, nil
}

func checkMetadataOptions(mo *MetadataOptions) error {
	if mo == nil {
		return nil
	}
	if err := checkEnum("HttpTokens", mo.HttpTokens, []string{"optional", "required"}); err != nil {
		return err
	}
	if err := checkEnum("HttpEndpoint", mo.HttpEndpoint, []string{"enabled", "disabled"}); err != nil {
		return err
	}
	if h := mo.HttpPutResponseHopLimit; h != nil && (*h < 1 || *h > 64) {
		return awserr.InvalidParameterValue("Value (%d) for parameter HttpPutResponseHopLimit is invalid. Expecting a value between 1 and 64.", *h)
	}
	return nil
}

// checkLaunchMappings validates RunInstances' block device overrides: each
// names a device; a new EBS device needs a snapshot or a size.
func checkLaunchMappings(ms []BlockDeviceMapping) error {
	seen := map[string]bool{}
	for _, m := range ms {
		if m.DeviceName == "" {
			return awserr.MissingParameter("BlockDeviceMapping.DeviceName")
		}
		if seen[m.DeviceName] {
			return awserr.Newf("InvalidBlockDeviceMapping", "The device '%s' is used in more than one block-device mapping", m.DeviceName)
		}
		seen[m.DeviceName] = true
		if e := m.Ebs; e != nil {
			if e.SnapshotID != "" && !ValidResourceID(e.SnapshotID, "snap") {
				return awserr.Newf("InvalidSnapshotID.Malformed", "Invalid id: %q (expecting \"snap-...\")", e.SnapshotID)
			}
			if err := checkEnum("volumeType", e.VolumeType, volumeTypes); err != nil {
				return err
			}
			if e.VolumeSize != nil && (*e.VolumeSize < 1 || *e.VolumeSize > 65536) {
				return awserr.InvalidParameterValue("Value (%d) for parameter volumeSize is invalid. Expecting a value between 1 and 65536.", *e.VolumeSize)
			}
		}
	}
	return nil
}

// launchMappings applies RunInstances' overrides to the image's devices:
// NoDevice drops one, EBS fields that are set replace the image's, new
// devices are added.
func launchMappings(image, overrides []BlockDeviceMapping) ([]BlockDeviceMapping, error) {
	out := cloneMappings(image)
	for _, o := range overrides {
		i := slices.IndexFunc(out, func(m BlockDeviceMapping) bool { return m.DeviceName == o.DeviceName })
		switch {
		case o.NoDevice != "":
			if i >= 0 {
				out = slices.Delete(out, i, i+1)
			}
		case i < 0:
			if o.Ebs != nil && o.Ebs.SnapshotID == "" && o.Ebs.VolumeSize == nil {
				return nil, awserr.Newf("InvalidBlockDeviceMapping", "The block device mapping for %s must specify a snapshot or a volume size", o.DeviceName)
			}
			n := cloneMappings([]BlockDeviceMapping{o})
			fillEbsDefaults(n)
			out = append(out, n...)
		case o.Ebs != nil:
			m := &out[i]
			if m.Ebs == nil {
				return nil, awserr.Newf("InvalidBlockDeviceMapping", "The device %s is not an EBS volume of the image", o.DeviceName)
			}
			e, n := m.Ebs, o.Ebs
			if n.DeleteOnTermination != nil {
				e.DeleteOnTermination = clonePtr(n.DeleteOnTermination)
			}
			if n.VolumeSize != nil {
				e.VolumeSize = clonePtr(n.VolumeSize)
			}
			if n.VolumeType != "" {
				e.VolumeType = n.VolumeType
			}
			if n.Iops != nil {
				e.Iops = clonePtr(n.Iops)
			}
			if n.Throughput != nil {
				e.Throughput = clonePtr(n.Throughput)
			}
			if n.Encrypted != nil && *n.Encrypted {
				e.Encrypted = clonePtr(n.Encrypted)
			}
			if n.KmsKeyID != "" {
				e.KmsKeyID = n.KmsKeyID
			}
		}
	}
	return out, nil
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
func (s *Service) RunInstances(ctx context.Context, c Caller, r *RunRequest) (*Reservation, error) {
	if err := checkImageID(r.ImageID); err != nil {
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
		return nil, awserr.Newf("InstanceLimitExceeded", "You have requested more instances (%d) than your current instance limit of %d allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.", minN, maxLaunch)
	}
	n := min(maxN, maxLaunch)
	itype := orDefault(r.InstanceType, defaultInstanceType)
	if !instanceTypePattern.MatchString(itype) {
		return nil, awserr.InvalidParameterValue("Invalid value '%s' for InstanceType.", itype)
	}
	if err := checkMetadataOptions(r.MetadataOptions); err != nil {
		return nil, err
	}
	if err := checkLaunchMappings(r.BlockDeviceMappings); err != nil {
		return nil, err
	}
	tags, err := ResourceTags(r.TagSpecifications, "instance", "instance", "volume", "network-interface")
	if err != nil {
		return nil, err
	}
	if err := authorize(c, "RunInstances", ARN(c.Region, r.ImageID)); err != nil {
		return nil, err
	}
	var res *Reservation
	err = s.store.Update(ctx, func(tx Tx) error {
		res = nil
		img, err := s.imageToLaunch(ctx, tx, c, r.ImageID)
		if err != nil {
			return err
		}
		// EC2 checks the resources before it answers a DryRun (spec §3.6).
		if r.DryRun {
			return awserr.DryRunOK()
		}
		mappings, err := launchMappings(img.BlockDeviceMappings, r.BlockDeviceMappings)
		if err != nil {
			return err
		}
		now := s.now()
		res = &Reservation{ID: s.opts.NewID("r"), OwnerID: c.Account}
		for i := int32(0); i < n; i++ {
			inst := s.newInstance(c, img, res.ID, itype, now)
			inst.BlockDeviceMappings = cloneMappings(mappings)
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
			shown.State = InstancePending
			res.Instances = append(res.Instances, DescribedInstance{Instance: &shown, Tags: tags})
		}
		launched := now.Truncate(time.Second)
		img.LastLaunchedTime = &launched
		return tx.UpdateImage(ctx, img)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) newInstance(c Caller, img *Image, reservation, itype string, now time.Time) *Instance {
	return &Instance{
		Region:             c.Region,
		ID:                 s.opts.NewID("i"),
		OwnerID:            c.Account,
		ReservationID:      reservation,
		ImageID:            img.ID,
		State:              InstanceRunning,
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
func applyMetadataOptions(inst *Instance, img *Image, mo *MetadataOptions) {
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

// DescribeInstancesRequest is DescribeInstances' input.
type DescribeInstancesRequest struct {
	InstanceIDs []string
	Filters     []Filter
	MaxResults  *int32
	NextToken   *string
	DryRun      bool
}

// instanceFields are the DescribeInstances filters amigo knows.
var instanceFields = map[string]field[*Instance]{
	"instance-id":         func(i *Instance, _ []Tag) []string { return one(i.ID) },
	"image-id":            func(i *Instance, _ []Tag) []string { return one(i.ImageID) },
	"instance-state-name": func(i *Instance, _ []Tag) []string { return one(i.State) },
	"instance-state-code": func(i *Instance, _ []Tag) []string {
		return []string{strconv.Itoa(int(InstanceStateCode(i.State)))}
	},
	"instance-type":       func(i *Instance, _ []Tag) []string { return one(i.InstanceType) },
	"reservation-id":      func(i *Instance, _ []Tag) []string { return one(i.ReservationID) },
	"owner-id":            func(i *Instance, _ []Tag) []string { return one(i.OwnerID) },
	"architecture":        func(i *Instance, _ []Tag) []string { return one(i.Architecture) },
	"availability-zone":   func(i *Instance, _ []Tag) []string { return one(i.AvailabilityZone()) },
	"platform":            func(i *Instance, _ []Tag) []string { return one(i.Platform) },
	"root-device-name":    func(i *Instance, _ []Tag) []string { return one(i.RootDeviceName) },
	"root-device-type":    func(i *Instance, _ []Tag) []string { return one(i.RootDeviceType) },
	"virtualization-type": func(i *Instance, _ []Tag) []string { return one(i.VirtualizationType) },
	"hypervisor":          func(i *Instance, _ []Tag) []string { return one(i.Hypervisor) },
	"boot-mode":           func(i *Instance, _ []Tag) []string { return one(i.BootMode) },
	"kernel-id":           func(i *Instance, _ []Tag) []string { return one(i.KernelID) },
	"ramdisk-id":          func(i *Instance, _ []Tag) []string { return one(i.RamdiskID) },
	"metadata-options.http-tokens": func(i *Instance, _ []Tag) []string {
		return one(i.HttpTokens)
	},
	"metadata-options.http-put-response-hop-limit": func(i *Instance, _ []Tag) []string {
		return []string{strconv.Itoa(int(i.HttpPutResponseHopLimit))}
	},
	"metadata-options.http-endpoint": func(i *Instance, _ []Tag) []string { return one(i.HttpEndpoint) },
	"block-device-mapping.device-name": func(i *Instance, _ []Tag) []string {
		var out []string
		for _, m := range i.BlockDeviceMappings {
			out = append(out, m.DeviceName)
		}
		return out
	},
	"tag-key": func(_ *Instance, tags []Tag) []string {
		var out []string
		for _, t := range tags {
			out = append(out, t.Key)
		}
		return out
	},
}

// DescribeInstances lists the caller's instances, grouped by reservation,
// in instance id order. Terminated instances show for an hour.
//
// Returns InvalidInstanceID.Malformed / .NotFound, InvalidParameterValue
// (filters, MaxResults, NextToken), InvalidParameterCombination,
// FilterLimitExceeded, UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeInstances(ctx context.Context, c Caller, r *DescribeInstancesRequest) ([]Reservation, string, error) {
	for _, id := range r.InstanceIDs {
		if !ValidResourceID(id, "i") {
			return nil, "", errInstanceMalformed(id)
		}
	}
	if len(r.InstanceIDs) > 0 && r.MaxResults != nil {
		return nil, "", errCombination("The parameter instancesSet cannot be used with the parameter maxResults")
	}
	if m := r.MaxResults; m != nil && (*m < 5 || *m > 1000) {
		return nil, "", awserr.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", *m)
	}
	fs, err := compileFilters(r.Filters, instanceFields)
	if err != nil {
		return nil, "", err
	}
	if err := authorize(c, "DescribeInstances", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	ids := slices.Compact(slices.Sorted(slices.Values(r.InstanceIDs)))
	fpParts := []string{"instances", c.Account, c.Region}
	fpParts = append(fpParts, ids...)
	for _, f := range r.Filters {
		fpParts = append(fpParts, "filter", *f.Name)
		fpParts = append(fpParts, f.Values...)
	}
	fp := fingerprint(fpParts...)
	q := InstanceQuery{Region: c.Region, OwnerID: c.Account, IDs: ids}
	if r.NextToken != nil {
		if q.AfterID, err = s.openToken(*r.NextToken, fp); err != nil {
			return nil, "", err
		}
	}
	limit := 0
	if r.MaxResults != nil {
		limit = int(*r.MaxResults)
	}
	var kept []DescribedInstance
	next := ""
	err = s.store.View(ctx, func(tx Tx) error {
		kept, next = nil, ""
		found := map[string]bool{}
		if limit > 0 {
			q.Limit = max(limit*2, 100)
		}
		for {
			insts, err := tx.FindInstances(ctx, q)
			if err != nil {
				return err
			}
			var live []*Instance
			var liveIDs []string
			for _, inst := range insts {
				if inst.OwnerID != c.Account || s.instanceGone(inst) {
					continue
				}
				found[inst.ID] = true
				live = append(live, inst)
				liveIDs = append(liveIDs, inst.ID)
			}
			tags, err := tx.Tags(ctx, c.Region, c.Account, liveIDs)
			if err != nil {
				return err
			}
			for _, inst := range live {
				if !matchAll(fs, inst, tags[inst.ID]) {
					continue
				}
				if limit > 0 && len(kept) == limit {
					next = s.sealToken(kept[len(kept)-1].ID, fp)
					return nil
				}
				kept = append(kept, DescribedInstance{Instance: inst, Tags: tags[inst.ID]})
			}
			if q.Limit == 0 || len(insts) < q.Limit {
				break
			}
			q.AfterID = insts[len(insts)-1].ID
		}
		var missing []string
		for _, id := range r.InstanceIDs {
			if !found[id] && !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return errInstanceNotFound(missing...)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return groupReservations(kept), next, nil
}

// groupReservations puts instances under their reservations, in the order
// each reservation first appears.
func groupReservations(insts []DescribedInstance) []Reservation {
	var out []Reservation
	at := map[string]int{}
	for _, d := range insts {
		i, ok := at[d.ReservationID]
		if !ok {
			i = len(out)
			at[d.ReservationID] = i
			out = append(out, Reservation{ID: d.ReservationID, OwnerID: d.OwnerID})
		}
		out[i].Instances = append(out[i].Instances, d)
	}
	return out
}

// InstanceStateChange is one entry of TerminateInstances' answer.
type InstanceStateChange struct {
	InstanceID     string
	Previous, Curr string
}

// TerminateInstances terminates the caller's instances. They are
// terminated at once; the answer says shutting-down for those that were
// not terminated yet, as EC2 does.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) TerminateInstances(ctx context.Context, c Caller, ids []string, dryRun bool) ([]InstanceStateChange, error) {
	if len(ids) == 0 {
		return nil, awserr.MissingParameter("InstanceId")
	}
	for _, id := range ids {
		if !ValidResourceID(id, "i") {
			return nil, errInstanceMalformed(id)
		}
	}
	ids = uniqueInOrder(ids)
	for _, id := range ids {
		if err := authorize(c, "TerminateInstances", InstanceARN(c.Region, c.Account, id)); err != nil {
			return nil, err
		}
	}
	var out []InstanceStateChange
	err := s.store.Update(ctx, func(tx Tx) error {
		out = nil
		var insts []*Instance
		var missing []string
		for _, id := range ids {
			inst, err := s.findInstance(ctx, tx, c, id)
			if err != nil {
				return err
			}
			if inst == nil {
				missing = append(missing, id)
				continue
			}
			insts = append(insts, inst)
		}
		if len(missing) > 0 {
			return errInstanceNotFound(missing...)
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		now := s.now()
		for _, inst := range insts {
			ch := InstanceStateChange{InstanceID: inst.ID, Previous: inst.State, Curr: InstanceTerminated}
			if inst.State != InstanceTerminated {
				ch.Curr = InstanceShuttingDown
				inst.State = InstanceTerminated
				inst.TerminatedAt = &now
				if err := tx.UpdateInstance(ctx, inst); err != nil {
					return err
				}
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
}

// ModifyInstanceRequest is ModifyInstanceAttribute's input: one attribute,
// either as Attribute/Value or as its own parameter.
type ModifyInstanceRequest struct {
	InstanceID      string
	Attribute       *string
	Value           *string
	SriovNetSupport *string
	EnaSupport      *bool
	InstanceType    *string
	Kernel, Ramdisk *string
	// DeleteOnTermination changes per device (BlockDeviceMapping.N).
	DeleteOnTermination map[string]bool
	// Others names attributes the request sets that amigo does not keep
	// (sourceDestCheck, userData…).
	Others []string
	DryRun bool
}

// instanceAttributes is every attribute ModifyInstanceAttribute knows.
var instanceAttributes = []string{"instanceType", "kernel", "ramdisk", "userData", "disableApiTermination",
	"instanceInitiatedShutdownBehavior", "rootDeviceName", "blockDeviceMapping", "productCodes",
	"sourceDestCheck", "groupSet", "ebsOptimized", "sriovNetSupport", "enaSupport", "enclaveOptions", "disableApiStop"}

// ModifyInstanceAttribute changes one attribute amigo keeps: sriovNetSupport
// (simple only, it cannot be turned off), enaSupport, the devices'
// deleteOnTermination, and — on a stopped instance — instanceType, kernel
// and ramdisk.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// InvalidParameterCombination, InvalidParameterValue, UnsupportedOperation,
// IncorrectInstanceState, InvalidInstanceAttributeValue,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) ModifyInstanceAttribute(ctx context.Context, c Caller, r *ModifyInstanceRequest) error {
	if err := checkInstanceID(r.InstanceID); err != nil {
		return err
	}
	attr, value, err := classifyInstanceChange(r)
	if err != nil {
		return err
	}
	if err := authorize(c, "ModifyInstanceAttribute", InstanceARN(c.Region, c.Account, r.InstanceID)); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		inst, err := s.ownedInstance(ctx, tx, c, r.InstanceID)
		if err != nil {
			return err
		}
		if inst.State == InstanceTerminated || inst.State == InstanceShuttingDown {
			return awserr.Newf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be modified.", inst.ID)
		}
		switch attr {
		case "instanceType", "kernel", "ramdisk":
			if inst.State != InstanceStopped {
				return awserr.Newf("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", inst.ID)
			}
		case "blockDeviceMapping":
			for dev := range r.DeleteOnTermination {
				if !slices.ContainsFunc(inst.BlockDeviceMappings, func(m BlockDeviceMapping) bool { return m.DeviceName == dev && m.Ebs != nil }) {
					return awserr.Newf("InvalidInstanceAttributeValue", "No device is currently mapped at %s", dev)
				}
			}
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		switch attr {
		case "sriovNetSupport":
			inst.SriovNetSupport = value
		case "enaSupport":
			v := value == "true"
			inst.EnaSupport = &v
		case "instanceType":
			inst.InstanceType = value
		case "kernel":
			inst.KernelID = value
		case "ramdisk":
			inst.RamdiskID = value
		case "blockDeviceMapping":
			for i, m := range inst.BlockDeviceMappings {
				if v, ok := r.DeleteOnTermination[m.DeviceName]; ok && m.Ebs != nil {
					inst.BlockDeviceMappings[i].Ebs.DeleteOnTermination = &v
				}
			}
		}
		return tx.UpdateInstance(ctx, inst)
	})
}

// classifyInstanceChange finds the one attribute a ModifyInstanceAttribute
// request changes and validates its value.
func classifyInstanceChange(r *ModifyInstanceRequest) (attr, value string, err error) {
	type change struct{ attr, value string }
	var changes []change
	if r.Attribute != nil {
		a := *r.Attribute
		if !slices.Contains(instanceAttributes, a) {
			return "", "", awserr.InvalidParameterValue("Value (%s) for parameter attribute is invalid. Unknown attribute.", a)
		}
		if r.Value == nil && a != "blockDeviceMapping" {
			return "", "", awserr.MissingParameter("Value")
		}
		v := ""
		if r.Value != nil {
			v = *r.Value
		}
		changes = append(changes, change{a, v})
	} else if r.Value != nil {
		return "", "", errCombination("The parameter Value can be used only with the Attribute parameter.")
	}
	if r.SriovNetSupport != nil {
		changes = append(changes, change{"sriovNetSupport", *r.SriovNetSupport})
	}
	if r.EnaSupport != nil {
		changes = append(changes, change{"enaSupport", strconv.FormatBool(*r.EnaSupport)})
	}
	if r.InstanceType != nil {
		changes = append(changes, change{"instanceType", *r.InstanceType})
	}
	if r.Kernel != nil {
		changes = append(changes, change{"kernel", *r.Kernel})
	}
	if r.Ramdisk != nil {
		changes = append(changes, change{"ramdisk", *r.Ramdisk})
	}
	if len(r.DeleteOnTermination) > 0 {
		changes = append(changes, change{"blockDeviceMapping", ""})
	}
	for _, o := range r.Others {
		changes = append(changes, change{o, ""})
	}
	var names []string
	for _, ch := range changes {
		if !slices.Contains(names, ch.attr) {
			names = append(names, ch.attr)
		}
	}
	switch len(names) {
	case 0:
		return "", "", errCombination("No attributes specified.")
	case 1:
	default:
		slices.Sort(names)
		return "", "", errCombination("Fields for multiple attribute types specified: %s", strings.Join(names, ", "))
	}
	for _, ch := range changes[1:] {
		if ch.value != "" && changes[0].value != "" && ch.value != changes[0].value {
			return "", "", errCombination("The parameters Value and %s.Value specify different values.", ch.attr)
		}
	}
	attr, value = changes[0].attr, changes[0].value
	switch attr {
	case "sriovNetSupport":
		if value != "simple" {
			return "", "", awserr.InvalidParameterValue("Value (%s) for parameter sriovNetSupport is invalid. Valid values: simple", value)
		}
	case "enaSupport":
		if value != "true" && value != "false" {
			return "", "", awserr.InvalidParameterValue("Value (%s) for parameter enaSupport is invalid. Expecting true or false.", value)
		}
	case "instanceType":
		if !instanceTypePattern.MatchString(value) {
			return "", "", awserr.InvalidParameterValue("Invalid value '%s' for InstanceType.", value)
		}
	case "kernel":
		if !ValidResourceID(value, "aki") {
			return "", "", awserr.Newf("InvalidKernelId.Malformed", "Invalid id: %q (expecting \"aki-...\")", value)
		}
	case "ramdisk":
		if !ValidResourceID(value, "ari") {
			return "", "", awserr.Newf("InvalidRamDiskId.Malformed", "Invalid id: %q (expecting \"ari-...\")", value)
		}
	case "blockDeviceMapping":
		if len(r.DeleteOnTermination) == 0 {
			return "", "", awserr.MissingParameter("BlockDeviceMapping")
		}
	default:
		return "", "", awserr.Newf("UnsupportedOperation", "The instance attribute %s is not supported by this endpoint.", attr)
	}
	return attr, value, nil
}

// GetInstanceUefiData returns the UEFI variable store of the caller's
// instance (amigo keeps none, so it is empty).
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) GetInstanceUefiData(ctx context.Context, c Caller, id string, dryRun bool) (string, error) {
	if err := checkInstanceID(id); err != nil {
		return "", err
	}
	if err := authorize(c, "GetInstanceUefiData", InstanceARN(c.Region, c.Account, id)); err != nil {
		return "", err
	}
	err := s.store.View(ctx, func(tx Tx) error {
		_, err := s.ownedInstance(ctx, tx, c, id)
		if err == nil && dryRun {
			return awserr.DryRunOK()
		}
		return err
	})
	return "", err
}

// CreateImageRequest is CreateImage's input.
type CreateImageRequest struct {
	InstanceID  string
	Name        string
	Description string
	NoReboot    bool
	// BlockDeviceMappings may only change DeleteOnTermination of the
	// instance's volumes or leave one out (NoDevice).
	BlockDeviceMappings []BlockDeviceMapping
	TagSpecifications   []TagSpecification
	DryRun              bool
}

// checkCreateMappings enforces CreateImage's rule on mappings (spec §2.8).
func checkCreateMappings(ms []BlockDeviceMapping) error {
	for _, m := range ms {
		if m.DeviceName == "" {
			return awserr.MissingParameter("BlockDeviceMapping.DeviceName")
		}
		e := m.Ebs
		if m.VirtualName != "" || e != nil && (e.SnapshotID != "" || e.VolumeSize != nil || e.VolumeType != "" ||
			e.Iops != nil || e.Throughput != nil || e.Encrypted != nil || e.KmsKeyID != "" || e.OutpostArn != "" || e.AvailabilityZone != "") {
			return awserr.Newf("InvalidBlockDeviceMapping", "Only DeleteOnTermination and NoDevice can be specified for device %s: the volumes of the instance cannot be changed. Use CopyImage to change encryption.", m.DeviceName)
		}
	}
	return nil
}

// CreateImage makes an EBS image of one of the caller's running or stopped
// instances (spec §2.8): its volumes become the mappings, with new
// snapshots; it takes the instance's architecture, kernel, platform,
// networking flags and boot mode, and the billing codes of the image the
// instance came from; sourceInstanceId is set. NoReboot changes nothing.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// InvalidAMIName.Malformed / .Duplicate, InvalidParameterValue,
// InvalidBlockDeviceMapping, IncorrectInstanceState, UnsupportedOperation
// (instance-store root), UnauthorizedOperation and DryRunOperation.
func (s *Service) CreateImage(ctx context.Context, c Caller, r *CreateImageRequest) (string, error) {
	if err := checkInstanceID(r.InstanceID); err != nil {
		return "", err
	}
	if err := CheckName(r.Name); err != nil {
		return "", err
	}
	if err := CheckDescription(r.Description); err != nil {
		return "", err
	}
	if err := checkCreateMappings(r.BlockDeviceMappings); err != nil {
		return "", err
	}
	tags, err := ImageTags(r.TagSpecifications, "image", "snapshot")
	if err != nil {
		return "", err
	}
	if err := authorize(c, "CreateImage", "arn:aws:ec2:"+c.Region+"::image/*"); err != nil {
		return "", err
	}
	var id string
	err = s.store.Update(ctx, func(tx Tx) error {
		id = ""
		inst, err := s.ownedInstance(ctx, tx, c, r.InstanceID)
		if err != nil {
			return err
		}
		if inst.State != InstanceRunning && inst.State != InstanceStopped {
			return awserr.Newf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be imaged.", inst.ID)
		}
		if inst.RootDeviceType != "" && inst.RootDeviceType != "ebs" {
			return awserr.Newf("UnsupportedOperation", "The instance '%s' is not EBS-backed; CreateImage needs an EBS root volume.", inst.ID)
		}
		for _, m := range r.BlockDeviceMappings {
			if !slices.ContainsFunc(inst.BlockDeviceMappings, func(im BlockDeviceMapping) bool { return im.DeviceName == m.DeviceName }) {
				return awserr.Newf("InvalidBlockDeviceMapping", "The device %s is not mapped on instance %s", m.DeviceName, inst.ID)
			}
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		if err := checkNameFree(ctx, tx, c.Region, c.Account, r.Name); err != nil {
			return err
		}
		img := s.imageOf(c, inst, r)
		// Billing and licensing follow the image the instance came from.
		if src, err := tx.Image(ctx, c.Region, inst.ImageID); err == nil {
			img.PlatformDetails = orDefault(src.PlatformDetails, img.PlatformDetails)
			img.UsageOperation = orDefault(src.UsageOperation, img.UsageOperation)
			img.ProductCodes = append([]ProductCode(nil), src.ProductCodes...)
			img.TpmSupport = src.TpmSupport
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := tx.InsertImage(ctx, img); err != nil {
			return err
		}
		if len(tags) > 0 {
			if err := tx.SetTags(ctx, c.Region, c.Account, img.ID, tags); err != nil {
				return err
			}
		}
		id = img.ID
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// imageOf builds the image of an instance.
func (s *Service) imageOf(c Caller, inst *Instance, r *CreateImageRequest) *Image {
	var ms []BlockDeviceMapping
	for _, m := range cloneMappings(inst.BlockDeviceMappings) {
		i := slices.IndexFunc(r.BlockDeviceMappings, func(o BlockDeviceMapping) bool { return o.DeviceName == m.DeviceName })
		if i >= 0 {
			o := r.BlockDeviceMappings[i]
			if o.NoDevice != "" {
				continue
			}
			if o.Ebs != nil && o.Ebs.DeleteOnTermination != nil && m.Ebs != nil {
				m.Ebs.DeleteOnTermination = clonePtr(o.Ebs.DeleteOnTermination)
			}
		}
		if m.Ebs != nil {
			m.Ebs.SnapshotID = s.opts.NewID("snap")
		}
		ms = append(ms, m)
	}
	platformDetails, usage := "Linux/UNIX", "RunInstances"
	if inst.Platform == "windows" {
		platformDetails, usage = "Windows", "RunInstances:0002"
	}
	img := &Image{
		Region:                   c.Region,
		ID:                       s.opts.NewID("ami"),
		OwnerID:                  c.Account,
		Name:                     r.Name,
		Description:              r.Description,
		Location:                 c.Account + "/" + r.Name,
		CreationDate:             s.now().Truncate(time.Millisecond),
		Architecture:             inst.Architecture,
		ImageType:                "machine",
		KernelID:                 inst.KernelID,
		RamdiskID:                inst.RamdiskID,
		Platform:                 inst.Platform,
		PlatformDetails:          platformDetails,
		UsageOperation:           usage,
		RootDeviceName:           inst.RootDeviceName,
		RootDeviceType:           "ebs",
		VirtualizationType:       inst.VirtualizationType,
		Hypervisor:               orDefault(inst.Hypervisor, "xen"),
		SriovNetSupport:          inst.SriovNetSupport,
		EnaSupport:               clonePtr(inst.EnaSupport),
		BootMode:                 inst.BootMode,
		BlockDeviceMappings:      ms,
		DeregistrationProtection: ProtectionDisabled,
		SourceInstanceID:         inst.ID,
	}
	s.startPending(img)
	return img
}

// ReferenceOption is one ResourceTypeOption of DescribeImageReferences.
type ReferenceOption struct {
	Name   string
	Values []string
}

// ReferenceType is one ResourceType of DescribeImageReferences.
type ReferenceType struct {
	Type    string
	Options []ReferenceOption
}

// ImageReferencesRequest is DescribeImageReferences' input.
type ImageReferencesRequest struct {
	ImageIDs                []string
	IncludeAllResourceTypes bool
	ResourceTypes           []ReferenceType
	MaxResults              *int32
	NextToken               *string
	DryRun                  bool
}

// ImageReference is one of the caller's resources that uses an image.
type ImageReference struct {
	ImageID      string
	ResourceType string
	ARN          string
}

const refInstance = "ec2:Instance"

var referenceTypes = []string{refInstance, "ec2:LaunchTemplate", "ssm:Parameter", "imagebuilder:ImageRecipe", "imagebuilder:ContainerRecipe"}

var instanceStates = []string{InstancePending, InstanceRunning, InstanceShuttingDown, InstanceTerminated, InstanceStopping, InstanceStopped}

// DescribeImageReferences lists the caller's resources that use the given
// images (spec §2.16). amigo has instances only: ec2:Instance references,
// by default for every instance that is not terminated, or for the states
// the state-name option names.
//
// Returns MissingParameter, InvalidParameterValue,
// InvalidParameterCombination, InvalidAMIID.Malformed / .NotFound,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeImageReferences(ctx context.Context, c Caller, r *ImageReferencesRequest) ([]ImageReference, string, error) {
	if len(r.ImageIDs) == 0 {
		return nil, "", awserr.MissingParameter("ImageId")
	}
	if len(r.ImageIDs) > 10 {
		return nil, "", awserr.InvalidParameterValue("The maximum number of image IDs per request (10) has been exceeded.")
	}
	for _, id := range r.ImageIDs {
		if !ValidImageID(id) {
			return nil, "", errMalformedID(id)
		}
	}
	if !r.IncludeAllResourceTypes && len(r.ResourceTypes) == 0 {
		return nil, "", errCombination("Specify either IncludeAllResourceTypes or at least one ResourceType.")
	}
	if m := r.MaxResults; m != nil && (*m < 5 || *m > 1000) {
		return nil, "", awserr.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", *m)
	}
	wantInstances := r.IncludeAllResourceTypes
	states := slices.DeleteFunc(slices.Clone(instanceStates), func(s string) bool { return s == InstanceTerminated })
	for _, rt := range r.ResourceTypes {
		if !slices.Contains(referenceTypes, rt.Type) {
			return nil, "", awserr.InvalidParameterValue("Value (%s) for parameter ResourceType is invalid. Valid values: %s", rt.Type, strings.Join(referenceTypes, ", "))
		}
		for _, o := range rt.Options {
			switch {
			case rt.Type == refInstance && o.Name == "state-name":
				for _, v := range o.Values {
					if !slices.Contains(instanceStates, v) {
						return nil, "", awserr.InvalidParameterValue("Value (%s) for option state-name is invalid. Valid values: %s", v, strings.Join(instanceStates, ", "))
					}
				}
				if len(o.Values) > 0 {
					states = o.Values
				}
			case rt.Type == "ec2:LaunchTemplate" && o.Name == "version-depth":
				for _, v := range o.Values {
					if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 10000 {
						return nil, "", awserr.InvalidParameterValue("Value (%s) for option version-depth is invalid. Expecting a value between 1 and 10000.", v)
					}
				}
			default:
				return nil, "", awserr.InvalidParameterValue("The option '%s' is not valid for resource type %s.", o.Name, rt.Type)
			}
		}
		wantInstances = wantInstances || rt.Type == refInstance
	}
	if err := authorize(c, "DescribeImageReferences", "*"); err != nil {
		return nil, "", err
	}
	ids := slices.Compact(slices.Sorted(slices.Values(r.ImageIDs)))
	fpParts := append([]string{"image-references", c.Account, c.Region, boolStr(wantInstances)}, ids...)
	fp := fingerprint(append(fpParts, states...)...)
	after := ""
	if r.NextToken != nil {
		var err error
		if after, err = s.openToken(*r.NextToken, fp); err != nil {
			return nil, "", err
		}
	}
	var refs []ImageReference
	err := s.store.View(ctx, func(tx Tx) error {
		refs = nil
		var missing []string
		for _, id := range ids {
			if _, err := s.lookup(ctx, tx, c, id); err != nil {
				var ae *awserr.Error
				if errors.As(err, &ae) && ae.Code == "InvalidAMIID.NotFound" {
					missing = append(missing, id)
					continue
				}
				return err
			}
		}
		if len(missing) > 0 {
			return errNotFound(missing...)
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		if !wantInstances {
			return nil
		}
		insts, err := tx.FindInstances(ctx, InstanceQuery{Region: c.Region, OwnerID: c.Account, ImageIDs: ids})
		if err != nil {
			return err
		}
		for _, inst := range insts {
			if inst.OwnerID != c.Account || s.instanceGone(inst) || !slices.Contains(states, inst.State) {
				continue
			}
			refs = append(refs, ImageReference{ImageID: inst.ImageID, ResourceType: refInstance, ARN: InstanceARN(c.Region, c.Account, inst.ID)})
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	// Stable order: by image, then instance; the token is the last ARN.
	slices.SortFunc(refs, func(a, b ImageReference) int {
		return strings.Compare(a.ImageID+" "+a.ARN, b.ImageID+" "+b.ARN)
	})
	if after != "" {
		i := slices.IndexFunc(refs, func(x ImageReference) bool { return x.ImageID+" "+x.ARN > after })
		if i < 0 {
			i = len(refs)
		}
		refs = refs[i:]
	}
	next := ""
	if m := r.MaxResults; m != nil && len(refs) > int(*m) {
		refs = refs[:*m]
		last := refs[len(refs)-1]
		next = s.sealToken(last.ImageID+" "+last.ARN, fp)
	}
	return refs, next, nil
}
