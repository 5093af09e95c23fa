package volume

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// CreateRequest is CreateVolume's input.
type CreateRequest struct {
	AvailabilityZone   string
	AvailabilityZoneID string
	Size               *int32
	SnapshotID         string
	VolumeType         string
	Iops               *int32
	Throughput         *int32
	Encrypted          *bool
	KmsKeyID           string
	MultiAttach        bool
	InitRate           *int32
	OutpostArn         string
	ClientToken        string
	TagSpecifications  []resource.TagSpecification
	DryRun             bool
}

// Source is the snapshot a volume is restored from, as snapshot resolved
// it (existence and the caller's right to use it are its rules).
type Source struct {
	ID        string
	Size      int32
	Encrypted bool
	KmsKeyID  string
}

// limits are each type's size range in GiB and, for provisioned types,
// IOPS range and IOPS-per-GiB ceiling (spec §2.1.3, [model]).
type limits struct {
	minSize, maxSize int32
	minIops, maxIops int32
	ratio            int32
}

var typeLimits = map[string]limits{
	"gp2":      {1, 16384, 0, 0, 0},
	"gp3":      {1, 65536, 3000, 80000, 500},
	"io1":      {4, 16384, 100, 64000, 50},
	"io2":      {4, 65536, 100, 256000, 1000},
	"st1":      {125, 16384, 0, 0, 0},
	"sc1":      {125, 16384, 0, 0, 0},
	"standard": {1, 1024, 0, 0, 0},
}

// Check applies the rules that need nothing but the request (spec
// §2.1.3, top to bottom) and returns the tags to apply.
func (r *CreateRequest) Check() ([]resource.Tag, error) {
	switch {
	case r.AvailabilityZone == "" && r.AvailabilityZoneID == "":
		return nil, awserr.MissingParameter("AvailabilityZone")
	case r.AvailabilityZone != "" && r.AvailabilityZoneID != "":
		return nil, awserr.New(awserr.CodeInvalidParameterCombination, "Only one of AvailabilityZone or AvailabilityZoneId can be specified")
	case r.Size == nil && r.SnapshotID == "":
		return nil, awserr.MissingParameter("size/snapshot")
	}
	if r.VolumeType == "" {
		r.VolumeType = "gp2"
	}
	lim, ok := typeLimits[r.VolumeType]
	if !ok {
		return nil, awserr.InvalidParameterValue("Value (%s) for parameter volumeType is invalid. Expecting one of: %s.", r.VolumeType, strings.Join(Types, ", "))
	}
	if r.Size != nil {
		if err := checkSize(*r.Size, r.VolumeType, lim); err != nil {
			return nil, err
		}
	}
	provisioned := r.VolumeType == "io1" || r.VolumeType == "io2"
	switch {
	case provisioned && r.Iops == nil:
		return nil, awserr.Newf(awserr.CodeInvalidParameterCombination, "The parameter iops must be specified for %s volumes.", r.VolumeType)
	case r.Iops != nil && lim.maxIops == 0:
		return nil, awserr.Newf(awserr.CodeInvalidParameterCombination, "The parameter iops is not supported for %s volumes.", r.VolumeType)
	case r.Iops != nil && *r.Iops < lim.minIops:
		return nil, awserr.InvalidParameterValue("Volume iops of %d is too low; minimum is %d.", *r.Iops, lim.minIops)
	case r.Iops != nil && *r.Iops > lim.maxIops:
		return nil, awserr.InvalidParameterValue("Volume iops of %d is too high; maximum is %d.", *r.Iops, lim.maxIops)
	}
	if r.Throughput != nil {
		if r.VolumeType != "gp3" {
			return nil, awserr.New(awserr.CodeInvalidParameterCombination, "throughput can only be specified for volumeType gp3.")
		}
		if *r.Throughput < 125 || *r.Throughput > 2000 {
			return nil, awserr.InvalidParameterValue("Volume throughput of %d is invalid; valid range is 125-2000.", *r.Throughput)
		}
	}
	if r.KmsKeyID != "" && (r.Encrypted == nil || !*r.Encrypted) {
		return nil, awserr.New(awserr.CodeInvalidParameterDependency, "The parameter KmsKeyId requires the parameter Encrypted to be set.")
	}
	if r.MultiAttach && !provisioned {
		return nil, awserr.New(awserr.CodeInvalidParameterCombination, "Multi-Attach is supported only on io1 and io2 volumes.")
	}
	if r.InitRate != nil {
		if r.SnapshotID == "" {
			return nil, awserr.New(awserr.CodeInvalidParameterCombination, "The parameter VolumeInitializationRate can only be specified with the parameter SnapshotId.")
		}
		if *r.InitRate < 100 || *r.InitRate > 300 {
			return nil, awserr.InvalidParameterValue("Value (%d) for parameter VolumeInitializationRate is invalid. Valid values are 100-300.", *r.InitRate)
		}
	}
	if r.SnapshotID != "" && !resource.ValidResourceID(r.SnapshotID, "snap") {
		return nil, awserr.Newf(awserr.CodeInvalidSnapshotIDMalformed, "Invalid id: %q (expecting \"snap-...\")", r.SnapshotID)
	}
	if r.OutpostArn != "" {
		return nil, awserr.New(awserr.CodeUnsupportedOperation, "amigo does not model Outposts.")
	}
	if utf8.RuneCountInString(r.ClientToken) > maxClientToken {
		return nil, awserr.InvalidParameterValue("Value for parameter ClientToken is invalid. The client token must be at most %d characters long.", maxClientToken)
	}
	return resource.TagsFor(r.TagSpecifications, "volume", "volume")
}

func checkSize(size int32, typ string, lim limits) error {
	if size < lim.minSize {
		return awserr.InvalidParameterValue("Volume of %dGiB is too small; minimum is %dGiB.", size, lim.minSize)
	}
	if size > lim.maxSize {
		return awserr.InvalidParameterValue("Volume of %dGiB is too large for volume type %s; maximum is %dGiB", size, typ, lim.maxSize)
	}
	return nil
}

// maxClientToken is EC2's longest idempotency token.
const maxClientToken = 64

// tokenSetting prefixes the per-account setting that remembers which
// volume a ClientToken made, as CopyImage remembers its tokens.
const tokenSetting = "create-volume-token:"

// Fingerprint is what a ClientToken replay must repeat: every parameter
// but DryRun and the token itself.
func (r *CreateRequest) Fingerprint() string {
	h := sha256.New()
	num := func(p *int32) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	enc := "-"
	if r.Encrypted != nil {
		enc = fmt.Sprint(*r.Encrypted)
	}
	fmt.Fprintf(h, "%q %q %s %q %q %s %s %s %q %v %s %q", r.AvailabilityZone, r.AvailabilityZoneID, num(r.Size), r.SnapshotID,
		r.VolumeType, num(r.Iops), num(r.Throughput), enc, r.KmsKeyID, r.MultiAttach, num(r.InitRate), r.OutpostArn)
	for _, ts := range r.TagSpecifications {
		fmt.Fprintf(h, " %q", ts.ResourceType)
		for _, t := range ts.Tags {
			fmt.Fprintf(h, " %q=%q", t.Key, t.Value)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Replay returns the volume an earlier request with the same ClientToken
// made, nil when the token is new (or its volume is gone), and
// IdempotentParameterMismatch when the earlier request differed.
func Replay(ctx context.Context, tx Tx, c resource.Caller, r *CreateRequest) (*Volume, error) {
	if r.ClientToken == "" {
		return nil, nil
	}
	prev, err := tx.Setting(ctx, c.Region, c.Account, tokenSetting+r.ClientToken)
	if errors.Is(err, resource.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	fp, id, _ := strings.Cut(prev, " ")
	if fp != r.Fingerprint() {
		return nil, awserr.New(awserr.CodeIdempotentParameterMismatch, "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
	}
	v, err := tx.Volume(ctx, c.Region, id)
	if errors.Is(err, resource.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// Zone resolves the request's zone in the caller's region:
// InvalidZone.NotFound for a zone of another region or none at all.
func (r *CreateRequest) Zone(region string) (resource.Zone, error) {
	reg, _ := resource.LookupRegion(region)
	for _, z := range reg.Zones {
		if r.AvailabilityZone != "" && z.Name == r.AvailabilityZone || r.AvailabilityZoneID != "" && z.ID == r.AvailabilityZoneID {
			return z, nil
		}
	}
	if r.AvailabilityZone != "" {
		return resource.Zone{}, awserr.Newf(awserr.CodeInvalidZoneNotFound, "The zone '%s' does not exist.", r.AvailabilityZone)
	}
	return resource.Zone{}, awserr.Newf(awserr.CodeInvalidZoneNotFound, "The zone ID '%s' does not exist.", r.AvailabilityZoneID)
}

// Create builds and stores the caller's new volume in tx: the request
// checked (Check), its zone resolved, restored from src when not nil.
// The answer shows it creating.
//
// Returns InvalidParameterValue for the size rules that need the
// snapshot's size, and DryRunOperation.
func (s *Service) Create(ctx context.Context, tx Tx, c resource.Caller, r *CreateRequest, zone resource.Zone, src *Source, tags []resource.Tag) (*Volume, error) {
	v, err := build(c, r, zone, src)
	if err != nil {
		return nil, err
	}
	if r.DryRun {
		return nil, awserr.DryRunOK()
	}
	now := s.now()
	v.CreateTime, v.AvailableAt = now, now.Add(s.delay)
	for {
		v.ID = s.ids.New("vol")
		err := tx.InsertVolume(ctx, v)
		if err == resource.ErrExists {
			continue // an id collision: draw again
		}
		if err != nil {
			return nil, err
		}
		break
	}
	audit.Created(ctx, "volumeId", v.ID)
	if len(tags) > 0 {
		if err := tx.SetTags(ctx, c.Region, c.Account, v.ID, tags); err != nil {
			return nil, err
		}
	}
	if r.ClientToken != "" {
		if err := tx.SetSetting(ctx, c.Region, c.Account, tokenSetting+r.ClientToken, r.Fingerprint()+" "+v.ID); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// build is the caller's new volume as a checked request (Check) makes it,
// restored from src when not nil: size, encryption and performance
// settled, no id or times yet.
func build(c resource.Caller, r *CreateRequest, zone resource.Zone, src *Source) (*Volume, error) {
	v := &Volume{Region: c.Region, OwnerID: c.Account, AvailabilityZone: zone.Name, ZoneID: zone.ID,
		VolumeType: r.VolumeType, Iops: r.Iops, Throughput: r.Throughput, MultiAttach: r.MultiAttach, InitRate: r.InitRate}
	lim := typeLimits[r.VolumeType]
	if src != nil {
		v.SnapshotID = src.ID
		v.Size = src.Size
		v.Encrypted, v.KmsKeyID = src.Encrypted, src.KmsKeyID
		if r.Size != nil {
			if *r.Size < src.Size {
				return nil, awserr.InvalidParameterValue("Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", *r.Size, src.ID, src.Size)
			}
			v.Size = *r.Size
		} else if err := checkSize(v.Size, r.VolumeType, lim); err != nil {
			return nil, err
		}
	} else {
		v.Size = *r.Size
	}
	if r.Encrypted != nil && *r.Encrypted {
		v.Encrypted = true
		if r.KmsKeyID != "" {
			v.KmsKeyID = KeyARN(c.Region, c.Account, r.KmsKeyID)
		} else if v.KmsKeyID == "" {
			v.KmsKeyID = DefaultKeyARN(c.Region, c.Account)
		}
	}
	if err := performance(v, lim); err != nil {
		return nil, err
	}
	return v, nil
}

// performance fills the IOPS and throughput defaults (spec §2.1.2) and
// checks the ratios that need the final size.
func performance(v *Volume, lim limits) error {
	switch v.VolumeType {
	case "gp2":
		iops := min(max(3*v.Size, 100), 16000)
		v.Iops = &iops
	case "gp3":
		if v.Iops == nil {
			iops := int32(3000)
			v.Iops = &iops
		}
		if v.Throughput == nil {
			tp := int32(125)
			v.Throughput = &tp
		}
	}
	// gp3's 3,000 IOPS baseline holds at any size; only more is bound
	// to the size.
	if lim.ratio > 0 && v.Iops != nil && (v.VolumeType != "gp3" || *v.Iops > 3000) {
		if r := float64(*v.Iops) / float64(v.Size); r > float64(lim.ratio) {
			return awserr.InvalidParameterValue("Iops to volume size ratio of %f is too high; maximum is %d", r, lim.ratio)
		}
	}
	if v.VolumeType == "gp3" && *v.Throughput > 125 {
		if r := float64(*v.Throughput) / float64(*v.Iops); r > 0.25 {
			return awserr.InvalidParameterValue("Throughput (MiBps) to iops ratio of %f is too high; maximum is 0.250000 MiBps per iops", r)
		}
	}
	return nil
}

// DefaultKeyARN is the account's AWS-managed EBS key in a region (spec
// §1.5): amigo has no KMS, so a stable made-up key ARN stands for it.
func DefaultKeyARN(region, account string) string {
	return keyARN(region, account, "aws/ebs")
}

// KeyARN turns a key id, alias, alias ARN or key ARN into the key ARN
// responses carry (spec §1.5).
func KeyARN(region, account, key string) string {
	switch {
	case strings.HasPrefix(key, "arn:") && strings.Contains(key, ":key/"):
		return key
	case key == "alias/aws/ebs":
		return DefaultKeyARN(region, account)
	case strings.HasPrefix(key, "alias/") || strings.HasPrefix(key, "arn:"):
		return keyARN(region, account, key)
	}
	return "arn:aws:kms:" + region + ":" + account + ":key/" + key
}

func keyARN(region, account, seed string) string {
	h := sha256.Sum256([]byte(region + "\x00" + account + "\x00" + seed))
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%x-%x-%x-%x-%x", region, account, h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// IsDefaultKey reports whether a key ARN is the account's AWS-managed key.
func IsDefaultKey(region, account, arn string) bool { return arn == DefaultKeyARN(region, account) }
