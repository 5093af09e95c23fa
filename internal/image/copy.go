package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// Images that take time: RegisterImage, CopyImage and CreateImage make an
// image pending for Options.PendingDelay. The moment it becomes available
// is kept on the image (AvailableAt), so a restart does not lose it; reads
// settle a due image (Image.Settle) and the next write of it persists that.

// startPending gives a new image its first state: pending until
// PendingDelay has passed, or available at once.
func (s *Service) startPending(img *Image) {
	if s.opts.PendingDelay <= 0 {
		img.State = StateAvailable
		img.AvailableAt = nil
		return
	}
	at := img.CreationDate.Add(s.opts.PendingDelay)
	img.State = StatePending
	img.AvailableAt = &at
}

// settled is settle for a read-only image (FindImages'): img itself, or a
// copy when it is pending.
func (s *Service) settled(img *Image) *Image {
	if img.State != StatePending {
		return img
	}
	c := *img
	s.settle(&c)
	return &c
}

// settle applies Image.Settle with the service's clock. A pending image
// whose AvailableAt a store did not keep becomes available PendingDelay
// after its creation.
func (s *Service) settle(img *Image) bool {
	if img.State == StatePending && img.AvailableAt == nil {
		at := img.CreationDate.Add(s.opts.PendingDelay)
		img.AvailableAt = &at
	}
	return img.Settle(s.now())
}

// CopyRequest is CopyImage's input. The destination is the caller's region.
type CopyRequest struct {
	SourceImageID     string
	SourceRegion      string
	Name              string
	Description       string
	ClientToken       string
	Encrypted         *bool
	KmsKeyID          string
	CopyImageTags     bool
	TagSpecifications []resource.TagSpecification
	// Destination placement: at most one may be given; amigo records none.
	DestinationOutpostArn, DestinationAvailabilityZone, DestinationAvailabilityZoneID string
	SnapshotCopyCompletionDurationMinutes                                             *int64
	DryRun                                                                            bool
}

// regionPattern is the shape of a region code (us-east-1, us-gov-west-1,
// eu-central-2, us-isob-east-1…).
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)

// ValidRegion reports whether s has the shape of a region code.
func ValidRegion(s string) bool { return regionPattern.MatchString(s) }

const (
	maxClientToken     = 128
	copyTokenSetting   = "copy-image-token:"
	msgIdempotencyFail = "Arguments on this idempotent request are inconsistent with arguments used in previous request(s)."
)

// CopyImage copies an image the caller may launch from SourceRegion into
// the caller's region (spec §2.7). The copy is the caller's, private,
// pending for PendingDelay, and records its source. It keeps the
// technical attributes, block devices (with new snapshot records in the
// caller's region) and product
// codes; it never inherits launch permissions, deprecation, protection or
// a disabled state. With CopyImageTags the caller's own tags on the source
// come along. A ClientToken makes the call idempotent.
//
// Returns MissingParameter, InvalidAMIID.Malformed, InvalidRegion,
// InvalidAMIName.Malformed / .Duplicate, InvalidParameterValue,
// InvalidParameterCombination, UnauthorizedOperation,
// InvalidAMIID.NotFound (unknown, deregistered, or not launchable by the
// caller), InvalidRequest (another account's Marketplace image, or
// snapshots the caller may not use: spec ec2-snapshots §6.4),
// InvalidAMIID.Unavailable (source not available),
// IdempotentParameterMismatch, TagLimitExceeded, ResourceLimitExceeded
// (the image quota, in the destination region) and DryRunOperation.
func (s *Service) CopyImage(ctx context.Context, c resource.Caller, r *CopyRequest) (string, error) {
	if r.SourceImageID == "" {
		return "", awserr.MissingParameter("SourceImageId")
	}
	if !ValidImageID(r.SourceImageID) {
		return "", errMalformedID(r.SourceImageID)
	}
	if r.SourceRegion == "" {
		return "", awserr.MissingParameter("SourceRegion")
	}
	if !ValidRegion(r.SourceRegion) {
		return "", awserr.Newf(awserr.CodeInvalidRegion, "Invalid region: %s", r.SourceRegion)
	}
	if err := CheckName(r.Name); err != nil {
		return "", err
	}
	if err := CheckDescription(r.Description); err != nil {
		return "", err
	}
	if utf8.RuneCountInString(r.ClientToken) > maxClientToken {
		return "", awserr.InvalidParameterValue("Value for parameter ClientToken is invalid. The client token must be at most %d characters long.", maxClientToken)
	}
	if r.KmsKeyID != "" && (r.Encrypted == nil || !*r.Encrypted) {
		return "", errCombination("The parameter KmsKeyId requires the parameter Encrypted to be set to true.")
	}
	placements := 0
	for _, v := range []string{r.DestinationOutpostArn, r.DestinationAvailabilityZone, r.DestinationAvailabilityZoneID} {
		if v != "" {
			placements++
		}
	}
	if placements > 1 {
		return "", errCombination("Specify at most one of DestinationOutpostArn, DestinationAvailabilityZone and DestinationAvailabilityZoneId.")
	}
	if m := r.SnapshotCopyCompletionDurationMinutes; m != nil && (*m < 15 || *m%15 != 0) {
		return "", awserr.InvalidParameterValue("Value (%d) for parameter SnapshotCopyCompletionDurationMinutes is invalid. Specify a multiple of 15 minutes.", *m)
	}
	tags, err := ImageTags(r.TagSpecifications, "image", "snapshot")
	if err != nil {
		return "", err
	}
	snapTags, err := resource.TagsFor(r.TagSpecifications, "snapshot", "image", "snapshot")
	if err != nil {
		return "", err
	}
	if err := resource.Authorize(c, "CopyImage", resource.ImageARN(c.Region, "*")); err != nil {
		return "", err
	}
	fingerprint := copyFingerprint(r)

	var id string
	err = s.store.Update(ctx, func(tx Tx) error {
		id = ""
		if r.ClientToken != "" {
			prev, err := tx.Setting(ctx, c.Region, c.Account, copyTokenSetting+r.ClientToken)
			if err == nil {
				fp, prevID, _ := strings.Cut(prev, " ")
				if fp != fingerprint {
					return awserr.New(awserr.CodeIdempotentParameterMismatch, msgIdempotencyFail)
				}
				if r.DryRun {
					return awserr.DryRunOK()
				}
				id = prevID
				return nil
			}
			if !errors.Is(err, resource.ErrNotFound) {
				return err
			}
		}
		src, err := s.launchable(ctx, tx, c, r.SourceRegion, r.SourceImageID)
		if err != nil {
			return err
		}
		// Marketplace images stay in the account that subscribed
		// (spec ec2-snapshots §6.4), checked before the storage.
		if src.OwnerID != c.Account && src.HasMarketplaceCode() {
			return errMarketplaceCopy()
		}
		srcSnaps, err := s.sourceSnapshots(ctx, tx, c, src)
		if err != nil {
			return err
		}
		if src.State != StateAvailable {
			return errStateUnavailable(src.ID, src.State)
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		if err := checkNameFree(ctx, tx, c.Region, c.Account, r.Name); err != nil {
			return err
		}
		// The copy counts in the destination region, the caller's.
		if err := s.checkImageQuota(ctx, tx, c); err != nil {
			return err
		}
		img := s.copyOf(c, src, r)
		audit.Created(ctx, "imageId", img.ID)
		planOutcome(ctx, img)
		imgTags := tags
		if r.CopyImageTags {
			own, err := tx.Tags(ctx, r.SourceRegion, c.Account, []string{src.ID})
			if err != nil {
				return err
			}
			var user []resource.Tag
			for _, t := range own[src.ID] {
				if !strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
					user = append(user, t)
				}
			}
			// Tags the request names win over copied ones.
			if imgTags, err = resource.MergeTags(user, tags); err != nil {
				return err
			}
		}
		if err := s.copySnapshots(ctx, tx, c, src, img, srcSnaps, r, snapTags); err != nil {
			return err
		}
		if err := tx.InsertImage(ctx, img); err != nil {
			return err
		}
		if err := s.emitCreated(ctx, tx, img); err != nil {
			return err
		}
		if len(imgTags) > 0 {
			if err := tx.SetTags(ctx, c.Region, c.Account, img.ID, imgTags); err != nil {
				return err
			}
		}
		if r.ClientToken != "" {
			if err := tx.SetSetting(ctx, c.Region, c.Account, copyTokenSetting+r.ClientToken, fingerprint+" "+img.ID); err != nil {
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

// copyOf builds the caller's copy of src.
func (s *Service) copyOf(c resource.Caller, src *Image, r *CopyRequest) *Image {
	now := s.now().Truncate(1e6)
	img := &Image{
		Region:             c.Region,
		ID:                 s.newID("ami"),
		OwnerID:            c.Account,
		Name:               r.Name,
		Description:        r.Description,
		Location:           c.Account + "/" + r.Name,
		CreationDate:       now,
		Architecture:       src.Architecture,
		ImageType:          src.ImageType,
		KernelID:           src.KernelID,
		RamdiskID:          src.RamdiskID,
		Platform:           src.Platform,
		PlatformDetails:    src.PlatformDetails,
		UsageOperation:     src.UsageOperation,
		RootDeviceName:     src.RootDeviceName,
		RootDeviceType:     src.RootDeviceType,
		VirtualizationType: src.VirtualizationType,
		Hypervisor:         src.Hypervisor,
		SriovNetSupport:    src.SriovNetSupport,
		EnaSupport:         clonePtr(src.EnaSupport),
		BootMode:           src.BootMode,
		TpmSupport:         src.TpmSupport,
		UefiData:           src.UefiData,
		ImdsSupport:        src.ImdsSupport,
		// Marketplace codes travel with every copy: they are what keeps a
		// paid image from being made public.
		ProductCodes:             append([]ProductCode(nil), src.ProductCodes...),
		BlockDeviceMappings:      src.Clone().BlockDeviceMappings, // copySnapshots gives them new snapshots
		DeregistrationProtection: ProtectionDisabled,
		SourceImageID:            src.ID,
		SourceImageRegion:        src.Region,
	}
	if r.Encrypted != nil && *r.Encrypted {
		for _, m := range img.BlockDeviceMappings {
			if m.Ebs != nil {
				t := true
				m.Ebs.Encrypted = &t
				if r.KmsKeyID != "" {
					m.Ebs.KmsKeyID = r.KmsKeyID
				}
			}
		}
	}
	s.startPending(img)
	return img
}

// launchable returns the image in region if the caller may launch it (the
// owner, a grant, or public): InvalidAMIID.NotFound otherwise, as for an
// image that does not exist, and for a deregistered one.
func (s *Service) launchable(ctx context.Context, tx Tx, c resource.Caller, region, id string) (*Image, error) {
	in := c
	in.Region = region
	img, err := s.lookup(ctx, tx, in, id)
	if err != nil {
		return nil, err
	}
	if img.State == StateDeregistered {
		return nil, errNotFound(id)
	}
	return img, nil
}

// copyFingerprint condenses the parameters a ClientToken binds.
func copyFingerprint(r *CopyRequest) string {
	v := *r
	v.DryRun = false
	b, _ := json.Marshal(&v) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
