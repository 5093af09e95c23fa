package snapshot

import (
	"context"
	"slices"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// The snapshot attributes (spec §4).
const (
	AttrCreateVolumePermission = "createVolumePermission"
	AttrProductCodes           = "productCodes"
)

// maxModifications is EC2's limit of permission changes per request.
const maxModifications = 500

// ModifyRequest is ModifySnapshotAttribute's input in every form clients
// send (spec §4.1.2): the structured Add/Remove lists and the flat
// UserId.N/UserGroup.N lists with OperationType.
type ModifyRequest struct {
	SnapshotID    string
	Attribute     string
	OperationType string
	UserIDs       []string
	Groups        []string
	Add, Remove   []Permission
	DryRun        bool
}

// plan decides what a request changes (spec §4.1.3 and the value rules
// of §4.1.4): add reports the side, perms the entries.
func (r *ModifyRequest) plan() (add bool, perms []Permission, err error) {
	flat := make([]Permission, 0, len(r.UserIDs)+len(r.Groups))
	for _, u := range r.UserIDs {
		flat = append(flat, Permission{UserID: u})
	}
	for _, g := range r.Groups {
		flat = append(flat, Permission{Group: g})
	}
	switch r.Attribute {
	case "", AttrCreateVolumePermission:
	case AttrProductCodes:
		return false, nil, awserr.New(awserr.CodeInvalidParameter, "Parameter productCodes is invalid. The attribute is not supported.")
	default:
		return false, nil, awserr.Newf(awserr.CodeInvalidParameterCombination, "The attribute %s is not valid for this operation.", r.Attribute)
	}
	if err := resource.CheckEnum("OperationType", r.OperationType, []string{"add", "remove"}); err != nil {
		return false, nil, err
	}
	switch {
	case len(flat) == 0 && len(r.Add) == 0 && len(r.Remove) == 0:
		if r.Attribute == AttrCreateVolumePermission {
			return false, nil, awserr.New(awserr.CodeInvalidParameterCombination, "No operation specified for createVolumePermission attribute.")
		}
		return false, nil, awserr.New(awserr.CodeInvalidParameterCombination, "No attributes specified.")
	case len(r.Add) > 0 && len(r.Remove) > 0,
		r.OperationType == "add" && len(r.Remove) > 0,
		r.OperationType == "remove" && len(r.Add) > 0:
		return false, nil, awserr.New(awserr.CodeInvalidParameterCombination, "Cannot add and remove create volume permissions in the same request.")
	case len(flat) > 0 && r.OperationType == "" && len(r.Add) == 0 && len(r.Remove) == 0:
		if r.Attribute == "" {
			return false, nil, awserr.MissingParameter("CreateVolumePermission")
		}
		return false, nil, awserr.MissingParameter("OperationType")
	}
	// Flat entries join the side OperationType names, else the side the
	// structured list is on (Packer sends both forms, no OperationType).
	add = r.OperationType == "add" || r.OperationType == "" && len(r.Remove) == 0
	perms = append(slices.Clone(r.Add), r.Remove...)
	perms = append(perms, flat...)
	if len(perms) > maxModifications {
		return false, nil, awserr.InvalidParameterValue("The maximum number of modifications per request (%d) has been exceeded.", maxModifications)
	}
	for _, p := range perms {
		switch {
		case p.UserID == "" && p.Group == "":
			return false, nil, awserr.InvalidParameterValue("A createVolumePermission entry must name a userId or a group.")
		case p.UserID != "" && !resource.ValidAccountID(p.UserID):
			return false, nil, awserr.Newf(awserr.CodeInvalidUserIDMalformed, "User ID '%s' is invalid", p.UserID)
		case p.Group != "" && p.Group != GroupAll:
			return false, nil, awserr.InvalidParameterValue("Value (%s) for parameter group is invalid. The only valid value is all.", p.Group)
		}
	}
	return add, split(perms), nil
}

// split turns entries that carry both a userId and a group (the API
// Reference's sample, form 5) into one entry each.
func split(perms []Permission) []Permission {
	var out []Permission
	for _, p := range perms {
		if p.Group != "" {
			out = append(out, Permission{Group: p.Group})
		}
		if p.UserID != "" {
			out = append(out, Permission{UserID: p.UserID})
		}
	}
	return out
}

// ModifyAttribute adds or removes createVolumePermission entries of one of
// the caller's snapshots (spec §4.1). The list is a set; the owner's own
// id is stored and listed like any other, as EC2 does.
//
// Returns MissingParameter, InvalidSnapshotID.Malformed,
// InvalidParameterCombination, InvalidParameter, InvalidParameterValue,
// InvalidUserID.Malformed, UnauthorizedOperation, InvalidSnapshot.NotFound,
// AuthFailure, DryRunOperation and OperationNotPermitted.
func (s *Service) ModifyAttribute(ctx context.Context, c resource.Caller, r *ModifyRequest) error {
	if err := checkID("SnapshotId", r.SnapshotID); err != nil {
		return err
	}
	add, changes, err := r.plan()
	if err != nil {
		return err
	}
	if err := resource.Authorize(c, "ModifySnapshotAttribute", resource.SnapshotARN(c.Region, r.SnapshotID)); err != nil {
		return err
	}
	return s.store.UpdateSnapshots(ctx, func(tx Tx) error {
		snap, perms, err := s.owned(ctx, tx, c, r.SnapshotID)
		if err != nil {
			return err
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		next := slices.Clone(perms)
		if add {
			if err := s.gate(ctx, tx, c, snap, changes); err != nil {
				return err
			}
			for _, p := range changes {
				if !slices.Contains(next, p) {
					next = append(next, p)
				}
			}
		} else {
			next = slices.DeleteFunc(next, func(p Permission) bool { return slices.Contains(changes, p) })
		}
		if slices.Equal(next, perms) {
			return nil
		}
		return s.setPermissions(ctx, tx, snap, next)
	})
}

// gate applies the sharing gates to additions (spec §4.1.4, in order).
func (s *Service) gate(ctx context.Context, tx Tx, c resource.Caller, snap *Snapshot, adds []Permission) error {
	if slices.Contains(adds, Permission{Group: GroupAll}) {
		state, err := BlockPublicAccess(ctx, tx, c.Region, c.Account)
		if err != nil {
			return err
		}
		if state != Unblocked {
			return awserr.New(awserr.CodeOperationNotPermitted, "You can\u2019t publicly share this snapshot because block public access for snapshots is enabled for this account. To publicly share the snapshot, you must call the DisableSnapshotBlockPublicAccess API.")
		}
		if snap.Encrypted {
			return awserr.New(awserr.CodeOperationNotPermitted, "Encrypted snapshots cannot be shared publicly")
		}
	}
	if snap.Encrypted && volume.IsDefaultKey(snap.Region, snap.OwnerID, snap.KmsKeyID) &&
		slices.ContainsFunc(adds, func(p Permission) bool { return p.UserID != "" }) {
		return awserr.New(awserr.CodeOperationNotPermitted, "Encrypted snapshots with EBS default key cannot be shared")
	}
	return nil
}

// setPermissions stores a snapshot's permissions and keeps its public
// flag in step with them.
func (s *Service) setPermissions(ctx context.Context, tx Tx, snap *Snapshot, perms []Permission) error {
	if err := tx.SetSnapshotPermissions(ctx, snap.Region, snap.ID, perms); err != nil {
		return err
	}
	if public := slices.Contains(perms, Permission{Group: GroupAll}); public != snap.Public {
		snap.Public = public
		return tx.UpdateSnapshot(ctx, snap)
	}
	return nil
}

// Attribute is DescribeSnapshotAttribute's answer: exactly one of the
// lists is meant (the other stays nil).
type Attribute struct {
	SnapshotID             string
	CreateVolumePermission []Permission
	// ProductCodes is always empty: amigo's volumes carry none.
	ProductCodes bool
}

func checkAttribute(name string) error {
	if name == "" {
		return awserr.MissingParameter("Attribute")
	}
	if name != AttrCreateVolumePermission && name != AttrProductCodes {
		return awserr.New(awserr.CodeInvalidRequest, "The request received was invalid.")
	}
	return nil
}

// DescribeAttribute answers one attribute of one of the caller's
// snapshots (spec §4.2).
//
// Returns MissingParameter, InvalidSnapshotID.Malformed, InvalidRequest,
// UnauthorizedOperation, InvalidSnapshot.NotFound, AuthFailure and
// DryRunOperation.
func (s *Service) DescribeAttribute(ctx context.Context, c resource.Caller, id, attr string, dryRun bool) (*Attribute, error) {
	if err := checkID("SnapshotId", id); err != nil {
		return nil, err
	}
	if err := checkAttribute(attr); err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "DescribeSnapshotAttribute", resource.SnapshotARN(c.Region, id)); err != nil {
		return nil, err
	}
	var out *Attribute
	err := s.store.ViewSnapshots(ctx, func(tx Tx) error {
		_, perms, err := s.owned(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		out = &Attribute{SnapshotID: id}
		if attr == AttrProductCodes {
			out.ProductCodes = true
		} else {
			out.CreateVolumePermission = perms
		}
		return nil
	})
	return out, err
}

// ResetAttribute removes every createVolumePermission entry (spec §4.3).
//
// Returns MissingParameter, InvalidSnapshotID.Malformed, InvalidRequest
// (productCodes or an unknown name), UnauthorizedOperation,
// InvalidSnapshot.NotFound, AuthFailure and DryRunOperation.
func (s *Service) ResetAttribute(ctx context.Context, c resource.Caller, id, attr string, dryRun bool) error {
	if err := checkID("SnapshotId", id); err != nil {
		return err
	}
	if attr == "" {
		return awserr.MissingParameter("Attribute")
	}
	if attr != AttrCreateVolumePermission {
		return awserr.New(awserr.CodeInvalidRequest, "The request received was invalid.")
	}
	if err := resource.Authorize(c, "ResetSnapshotAttribute", resource.SnapshotARN(c.Region, id)); err != nil {
		return err
	}
	return s.store.UpdateSnapshots(ctx, func(tx Tx) error {
		snap, perms, err := s.owned(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		if len(perms) == 0 {
			return nil
		}
		return s.setPermissions(ctx, tx, snap, nil)
	})
}
