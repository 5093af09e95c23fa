package image

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// PermissionItem is one LaunchPermission.Add.N / Remove.N item as sent: any
// subset of its fields may be set.
type PermissionItem struct {
	UserID, Group, OrganizationArn, OrganizationalUnitArn *string
}

// ModifyRequest is ModifyImageAttribute's input in every form clients send
// it (spec §2.1.1): the structured launch permission, the flat lists with
// OperationType, and Attribute/Value or X.Value for value attributes.
type ModifyRequest struct {
	ImageID       string
	Attribute     *string
	OperationType *string
	Value         *string
	// Description and ImdsSupport are Description.Value and ImdsSupport.Value;
	// DescriptionSet / ImdsSupportSet say the structure was sent at all.
	Description    *string
	DescriptionSet bool
	ImdsSupport    *string
	ImdsSupportSet bool
	// Structured form.
	Add, Remove []PermissionItem
	// Flat form.
	UserIDs, UserGroups, OrganizationArns, OrganizationalUnitArns []string
	ProductCodes                                                  []string
	DryRun                                                        bool
}

// Attribute names, as EC2 spells them.
const (
	AttrDescription              = "description"
	AttrKernel                   = "kernel"
	AttrRamdisk                  = "ramdisk"
	AttrLaunchPermission         = "launchPermission"
	AttrProductCodes             = "productCodes"
	AttrBlockDeviceMapping       = "blockDeviceMapping"
	AttrSriovNetSupport          = "sriovNetSupport"
	AttrBootMode                 = "bootMode"
	AttrTpmSupport               = "tpmSupport"
	AttrUefiData                 = "uefiData"
	AttrLastLaunchedTime         = "lastLaunchedTime"
	AttrImdsSupport              = "imdsSupport"
	AttrDeregistrationProtection = "deregistrationProtection"
)

// attributeNames is every attribute DescribeImageAttribute knows.
var attributeNames = []string{AttrDescription, AttrKernel, AttrRamdisk, AttrLaunchPermission,
	AttrProductCodes, AttrBlockDeviceMapping, AttrSriovNetSupport, AttrBootMode, AttrTpmSupport,
	AttrUefiData, AttrLastLaunchedTime, AttrImdsSupport, AttrDeregistrationProtection}

// change is a validated ModifyImageAttribute: exactly one attribute.
type change struct {
	attribute   string
	value       string // description or imdsSupport
	add, remove []LaunchPermission
}

// classify decides which attribute a request modifies and validates every
// value before anything is looked up (spec §2.1.2, §2.1.3): all or nothing.
func classify(r *ModifyRequest) (*change, error) {
	if len(r.ProductCodes) > 0 {
		return nil, awserr.New(awserr.CodeUnsupportedOperation, "The productCodes attribute cannot be modified: ProductCode is not supported.")
	}
	attr := ""
	if r.Attribute != nil {
		attr = *r.Attribute
		switch attr {
		case AttrDescription, AttrImdsSupport, AttrLaunchPermission:
		default:
			if slices.Contains(attributeNames, attr) {
				return nil, awserr.Newf(awserr.CodeInvalidParameter, "Parameter %s is invalid. The attribute is not supported.", attr)
			}
			attr = "" // EC2 ignores a name it does not know and finds no attribute.
		}
	}
	structured := len(r.Add) > 0 || len(r.Remove) > 0
	flat := len(r.UserIDs) > 0 || len(r.UserGroups) > 0 || len(r.OrganizationArns) > 0 || len(r.OrganizationalUnitArns) > 0

	var families []string
	if attr == AttrDescription || r.DescriptionSet {
		families = append(families, AttrDescription)
	}
	if attr == AttrImdsSupport || r.ImdsSupportSet {
		families = append(families, AttrImdsSupport)
	}
	if attr == AttrLaunchPermission || structured || flat {
		families = append(families, AttrLaunchPermission)
	}
	switch len(families) {
	case 0:
		return nil, errCombination("No attributes specified.")
	case 1:
	default:
		slices.Sort(families)
		return nil, errCombination("Fields for multiple attribute types specified: %s", strings.Join(families, ", "))
	}

	switch families[0] {
	case AttrDescription:
		v, err := attributeValue(r, "Description", attr == AttrDescription, r.Description, r.DescriptionSet)
		if err != nil {
			return nil, err
		}
		if len([]rune(v)) > 255 {
			return nil, awserr.InvalidParameterValue("Value for parameter description is invalid. The description must be at most 255 characters long.")
		}
		return &change{attribute: AttrDescription, value: v}, nil
	case AttrImdsSupport:
		v, err := attributeValue(r, "ImdsSupport", attr == AttrImdsSupport, r.ImdsSupport, r.ImdsSupportSet)
		if err != nil {
			return nil, err
		}
		if v != "v2.0" {
			return nil, awserr.InvalidParameterValue("Value (%s) for parameter imdsSupport is invalid. Valid values: v2.0", v)
		}
		return &change{attribute: AttrImdsSupport, value: v}, nil
	}
	return classifyLaunchPermission(r, attr, structured, flat)
}

// attributeValue picks the value of a value attribute from Value or
// param.Value (param is "Description" or "ImdsSupport").
func attributeValue(r *ModifyRequest, param string, named bool, structured *string, structuredSet bool) (string, error) {
	if r.OperationType != nil {
		return "", errCombination("The parameter OperationType can be used only with the launchPermission attribute.")
	}
	var v *string
	if named && r.Value != nil {
		v = r.Value
	}
	if !named && r.Value != nil {
		return "", errCombination("The parameter Value can be used only with the Attribute parameter.")
	}
	if structuredSet {
		if structured == nil {
			structured = new(string) // Description={} clears, as an empty value does.
		}
		if v != nil && *v != *structured {
			return "", errCombination("The parameters Value and %s.Value specify different values.", param)
		}
		v = structured
	}
	if v == nil {
		return "", awserr.MissingParameter("Value")
	}
	return *v, nil
}

func classifyLaunchPermission(r *ModifyRequest, attr string, structured, flat bool) (*change, error) {
	if r.Value != nil {
		return nil, errCombination("The parameter Value cannot be used with the launchPermission attribute.")
	}
	if !structured && !flat {
		return nil, errCombination("No operation specified for launchPermission attribute.")
	}
	op := ""
	if r.OperationType != nil {
		op = *r.OperationType
		if op != "add" && op != "remove" {
			return nil, awserr.InvalidParameterValue("Value (%s) for parameter OperationType is invalid. Valid values: add, remove", op)
		}
	}
	if flat && !structured && attr == "" && op == "" {
		return nil, awserr.MissingParameter("LaunchPermission")
	}
	if flat && !structured && op == "" {
		return nil, awserr.MissingParameter("OperationType")
	}
	c := &change{attribute: AttrLaunchPermission}
	for _, it := range r.Add {
		ps, err := itemPermissions(it)
		if err != nil {
			return nil, err
		}
		c.add = append(c.add, ps...)
	}
	for _, it := range r.Remove {
		ps, err := itemPermissions(it)
		if err != nil {
			return nil, err
		}
		c.remove = append(c.remove, ps...)
	}
	var flatPerms []LaunchPermission
	for _, v := range r.UserIDs {
		p, err := userPermission(v)
		if err != nil {
			return nil, err
		}
		flatPerms = append(flatPerms, p)
	}
	for _, v := range r.UserGroups {
		if v != "all" {
			return nil, errItemValue(v, "UserGroup")
		}
		flatPerms = append(flatPerms, Public)
	}
	for _, v := range r.OrganizationArns {
		p, err := orgPermission(v)
		if err != nil {
			return nil, err
		}
		flatPerms = append(flatPerms, p)
	}
	for _, v := range r.OrganizationalUnitArns {
		p, err := ouPermission(v)
		if err != nil {
			return nil, err
		}
		flatPerms = append(flatPerms, p)
	}
	// Flat lists join the structured form (Packer sends both for one grant);
	// OperationType says which side.
	if op == "remove" {
		c.remove = append(c.remove, flatPerms...)
	} else {
		c.add = append(c.add, flatPerms...)
	}
	c.add, c.remove = dedupe(c.add), dedupe(c.remove)
	if len(c.add)+len(c.remove) > 10000 {
		return nil, awserr.InvalidParameterValue("The request names more than 10000 launch permission entries.")
	}
	return c, nil
}

// itemPermissions turns one structured item into its entries: each field
// set is an entry of its own.
func itemPermissions(it PermissionItem) ([]LaunchPermission, error) {
	var out []LaunchPermission
	if it.UserID != nil {
		p, err := userPermission(*it.UserID)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if it.Group != nil {
		if *it.Group != "all" {
			return nil, errItemValue(*it.Group, "UserGroup")
		}
		out = append(out, Public)
	}
	if it.OrganizationArn != nil {
		p, err := orgPermission(*it.OrganizationArn)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if it.OrganizationalUnitArn != nil {
		p, err := ouPermission(*it.OrganizationalUnitArn)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, awserr.InvalidParameterValue("A launch permission must specify one of UserId, Group, OrganizationArn or OrganizationalUnitArn.")
	}
	return out, nil
}

func userPermission(v string) (LaunchPermission, error) {
	if !resource.ValidAccountID(v) {
		return LaunchPermission{}, errItemValue(v, "userId")
	}
	return LaunchPermission{Kind: PermUser, Value: v}, nil
}

func orgPermission(v string) (LaunchPermission, error) {
	if !ValidOrgARN(v) {
		return LaunchPermission{}, errItemValue(v, "OrganizationArn")
	}
	return LaunchPermission{Kind: PermOrg, Value: v}, nil
}

func ouPermission(v string) (LaunchPermission, error) {
	if !ValidOUARN(v) {
		return LaunchPermission{}, errItemValue(v, "OrganizationalUnitArn")
	}
	return LaunchPermission{Kind: PermOU, Value: v}, nil
}

func dedupe(ps []LaunchPermission) []LaunchPermission {
	if len(ps) < 2 {
		return ps
	}
	seen := make(map[LaunchPermission]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// ModifyImageAttribute changes one attribute of an image the caller owns.
//
// Returns InvalidParameterCombination, MissingParameter, InvalidParameter,
// InvalidParameterValue, InvalidAMIAttributeItemValue or UnsupportedOperation
// for a bad request; UnauthorizedOperation when the policy denies it;
// InvalidAMIID.NotFound, AuthFailure (not the owner) or
// InvalidAMIID.Unavailable for the image; DryRunOperation when DryRun is set;
// OperationNotPermitted, UnsupportedOperation or ResourceLimitExceeded when
// the image may not be made public.
func (s *Service) ModifyImageAttribute(ctx context.Context, c resource.Caller, r *ModifyRequest) error {
	if err := CheckImageID(r.ImageID); err != nil {
		return err
	}
	ch, err := classify(r)
	if err != nil {
		return err
	}
	if err := resource.Authorize(c, "ModifyImageAttribute", resource.ImageARN(c.Region, r.ImageID)); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		img, err := s.owned(ctx, tx, c, r.ImageID)
		if err != nil {
			return err
		}
		if err := checkModifiableState(img, ch); err != nil {
			return err
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		switch ch.attribute {
		case AttrDescription:
			img.Description = ch.value
		case AttrImdsSupport:
			img.ImdsSupport = ch.value // v2.0 is final: it can only be set again.
		case AttrLaunchPermission:
			if err := s.applyLaunchPermissions(ctx, tx, c, img, ch); err != nil {
				return err
			}
		}
		return tx.UpdateImage(ctx, img)
	})
}

func checkModifiableState(img *Image, ch *change) error {
	switch img.State {
	case StateAvailable:
		return nil
	case StateDisabled:
		// A disabled image cannot be shared; revoking and describing still work.
		if len(ch.add) > 0 {
			return errStateUnavailable(img.ID, img.State)
		}
		return nil
	default:
		return errStateUnavailable(img.ID, img.State)
	}
}

func (s *Service) applyLaunchPermissions(ctx context.Context, tx Tx, c resource.Caller, img *Image, ch *change) error {
	wasPublic := img.IsPublic()
	addsPublic := slices.Contains(ch.add, Public) && !wasPublic
	if addsPublic {
		if err := s.checkCanBePublic(ctx, tx, c, img); err != nil {
			return err
		}
	}
	perms := slices.DeleteFunc(img.LaunchPermissions, func(p LaunchPermission) bool {
		return slices.Contains(ch.remove, p)
	})
	for _, p := range ch.add {
		// The owner's permission is implicit and never listed.
		if p.Kind == PermUser && p.Value == img.OwnerID {
			continue
		}
		if !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
	}
	shared := 0
	for _, p := range perms {
		if p != Public {
			shared++
		}
	}
	if shared > sharingQuota {
		return awserr.Newf(awserr.CodeResourceLimitExceeded, "You have reached your quota of %d for the number of entities that an image can be shared with.", sharingQuota)
	}
	img.LaunchPermissions = perms
	if addsPublic {
		img.CapDeprecation()
	}
	return nil
}

// checkCanBePublic holds the gates on making an image public (spec §2.1.4 step 8).
func (s *Service) checkCanBePublic(ctx context.Context, tx Tx, c resource.Caller, img *Image) error {
	if blocked, err := s.publicAccessBlocked(ctx, tx, c.Region, img.OwnerID); err != nil {
		return err
	} else if blocked {
		return awserr.New(awserr.CodeOperationNotPermitted, "You can\u2019t publicly share this image because block public access for AMIs is enabled for this account. To publicly share the image, you must call the DisableImageBlockPublicAccess API.")
	}
	if img.HasMarketplaceCode() {
		return awserr.New(awserr.CodeOperationNotPermitted, "Images with marketplace product codes may not be made public.")
	}
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.Encrypted != nil && *m.Ebs.Encrypted {
			return awserr.New(awserr.CodeUnsupportedOperation, "Encrypted snapshots can\u2019t be shared publicly. Specify another snapshot.")
		}
	}
	if q := s.opts.PublicImageQuota; q >= 0 {
		public, err := tx.FindImages(ctx, Query{Region: c.Region, OwnerIDs: []string{img.OwnerID}, GrantedAny: []LaunchPermission{Public}})
		if err != nil {
			return err
		}
		if len(public) >= q {
			return awserr.Newf(awserr.CodeResourceLimitExceeded, "You have reached your quota of %d for the number of public images allowed in this Region. Deregister unused public images or make them private, or request an increase in your public AMIs quota.", q)
		}
	}
	return nil
}

// checkImageQuota refuses a new image in the caller's region once the
// account has ImageQuota images there that are not deregistered. It runs
// in the transaction that inserts the image, so concurrent registrations
// cannot overshoot (the store serialises the count with the insert).
//
// Returns ResourceLimitExceeded. EC2 publishes no wording for this quota;
// the message follows its public-AMIs one.
func (s *Service) checkImageQuota(ctx context.Context, tx Tx, c resource.Caller) error {
	q := s.opts.ImageQuota
	if q < 0 {
		return nil
	}
	n, err := tx.CountImages(ctx, c.Region, c.Account)
	if err != nil {
		return err
	}
	if n >= q {
		return awserr.Newf(awserr.CodeResourceLimitExceeded, "You have reached your quota of %d for the number of images allowed in this Region. Deregister unused images, or request an increase in your AMIs quota.", q)
	}
	return nil
}

// Setting names kept per account and region.
const (
	SettingBlockPublicAccess = "image-block-public-access"
)

func (s *Service) publicAccessBlocked(ctx context.Context, tx Tx, region, account string) (bool, error) {
	v, err := tx.Setting(ctx, region, account, SettingBlockPublicAccess)
	if errors.Is(err, resource.ErrNotFound) {
		return false, nil
	}
	return v == "block-new-sharing", err
}
