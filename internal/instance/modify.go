package instance

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// StateChange is one entry of TerminateInstances' answer.
type StateChange struct {
	InstanceID     string
	Previous, Curr string
}

// TerminateInstances terminates the caller's instances. They are
// terminated at once; the answer says shutting-down for those that were
// running, pending or stopping, as EC2 does. Their deleteOnTermination
// volumes are deleted, the others detached. All or nothing.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// OperationNotPermitted (disableApiTermination), UnauthorizedOperation and
// DryRunOperation.
func (s *Service) TerminateInstances(ctx context.Context, c resource.Caller, ids []string, dryRun bool) ([]StateChange, error) {
	if len(ids) == 0 {
		return nil, awserr.MissingParameter("InstanceId")
	}
	for _, id := range ids {
		if !validID(id) {
			return nil, errMalformed(id)
		}
	}
	ids = uniqueInOrder(ids)
	for _, id := range ids {
		if err := resource.Authorize(c, "TerminateInstances", resource.InstanceARN(c.Region, c.Account, id)); err != nil {
			return nil, err
		}
	}
	var out []StateChange
	err := s.store.UpdateInstances(ctx, func(tx Tx) error {
		out = nil
		var insts []*Instance
		var missing []string
		for _, id := range ids {
			inst, err := s.find(ctx, tx, c, id)
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
			return errNotFound(missing...)
		}
		for _, inst := range insts {
			if inst.DisableAPITermination {
				return awserr.Newf(awserr.CodeOperationNotPermitted, "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", inst.ID)
			}
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		now := s.now()
		for _, inst := range insts {
			was := inst.State
			l, ch := inst.life().Terminate(now)
			if was != StateTerminated {
				inst.setLife(l)
				inst.TerminatedAt = &now
				if err := tx.UpdateInstance(ctx, inst); err != nil {
					return err
				}
				if err := releaseVolumes(ctx, tx, inst); err != nil {
					return err
				}
			}
			out = append(out, StateChange{InstanceID: inst.ID, Previous: ch.Previous, Curr: ch.Current})
		}
		return nil
	})
	return out, err
}

// ModifyRequest is ModifyInstanceAttribute's input: one attribute,
// either as Attribute/Value or as its own parameter.
type ModifyRequest struct {
	InstanceID      string
	Attribute       *string
	Value           *string
	SriovNetSupport *string
	EnaSupport      *bool
	InstanceType    *string
	Kernel, Ramdisk *string
	// DeleteOnTermination changes per device (BlockDeviceMapping.N).
	DeleteOnTermination                   map[string]bool
	DisableAPITermination, DisableAPIStop *bool
	SourceDestCheck, EbsOptimized         *bool
	ShutdownBehavior                      *string
	// UserData is base64, as DescribeInstanceAttribute answers it.
	UserData *string
	// Others names attributes the request sets that amigo does not keep
	// (groupSet…).
	Others []string
	DryRun bool
}

// instanceAttributes is every attribute ModifyInstanceAttribute knows.
var instanceAttributes = []string{"instanceType", "kernel", "ramdisk", "userData", "disableApiTermination",
	"instanceInitiatedShutdownBehavior", "rootDeviceName", "blockDeviceMapping", "productCodes",
	"sourceDestCheck", "groupSet", "ebsOptimized", "sriovNetSupport", "enaSupport", "enclaveOptions", "disableApiStop"}

// ModifyInstanceAttribute changes one attribute amigo keeps: sriovNetSupport
// (simple only, it cannot be turned off), enaSupport, the devices'
// deleteOnTermination, disableApiTermination, disableApiStop,
// sourceDestCheck, instanceInitiatedShutdownBehavior, and — on a stopped
// instance — instanceType (one that runs the instance's architecture),
// kernel, ramdisk, userData and ebsOptimized.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// InvalidParameterCombination, InvalidParameterValue, UnsupportedOperation,
// IncorrectInstanceState, InvalidInstanceAttributeValue,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) ModifyInstanceAttribute(ctx context.Context, c resource.Caller, r *ModifyRequest) error {
	if err := checkID(r.InstanceID); err != nil {
		return err
	}
	attr, value, err := classifyInstanceChange(r)
	if err != nil {
		return err
	}
	if err := resource.Authorize(c, "ModifyInstanceAttribute", resource.InstanceARN(c.Region, c.Account, r.InstanceID)); err != nil {
		return err
	}
	return s.store.UpdateInstances(ctx, func(tx Tx) error {
		inst, err := s.owned(ctx, tx, c, r.InstanceID)
		if err != nil {
			return err
		}
		if inst.State == StateTerminated || inst.State == StateShuttingDown {
			return awserr.Newf(awserr.CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be modified.", inst.ID)
		}
		switch attr {
		case "instanceType", "kernel", "ramdisk", "userData", "ebsOptimized":
			if inst.State != StateStopped {
				return awserr.Newf(awserr.CodeIncorrectInstanceState, "The instance '%s' is not in the 'stopped' state.", inst.ID)
			}
			if attr == "instanceType" {
				t, _ := LookupType(value) // known: classifyInstanceChange checked it
				if err := CheckArchitecture(t, inst.Architecture); err != nil {
					return err
				}
			}
		case "blockDeviceMapping":
			for dev := range r.DeleteOnTermination {
				if !slices.ContainsFunc(inst.BlockDeviceMappings, func(m image.BlockDeviceMapping) bool { return m.DeviceName == dev && m.Ebs != nil }) {
					return awserr.Newf(awserr.CodeInvalidInstanceAttributeValue, "No device is currently mapped at %s", dev)
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
		case "userData":
			inst.UserData = value
		case "ebsOptimized":
			inst.EbsOptimized = value == "true"
		case "disableApiTermination":
			inst.DisableAPITermination = value == "true"
		case "disableApiStop":
			inst.DisableAPIStop = value == "true"
		case "sourceDestCheck":
			inst.SourceDestCheckOff = value == "false"
		case "instanceInitiatedShutdownBehavior":
			inst.ShutdownBehavior = value
		case "blockDeviceMapping":
			for i, m := range inst.BlockDeviceMappings {
				if v, ok := r.DeleteOnTermination[m.DeviceName]; ok && m.Ebs != nil {
					inst.BlockDeviceMappings[i].Ebs.DeleteOnTermination = &v
					if err := setVolumeDeleteOnTermination(ctx, tx, inst, m.DeviceName, v); err != nil {
						return err
					}
				}
			}
		}
		return tx.UpdateInstance(ctx, inst)
	})
}

// classifyInstanceChange finds the one attribute a ModifyInstanceAttribute
// request changes and validates its value.
func classifyInstanceChange(r *ModifyRequest) (attr, value string, err error) {
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
	for _, b := range []struct {
		attr string
		v    *bool
	}{{"disableApiTermination", r.DisableAPITermination}, {"disableApiStop", r.DisableAPIStop},
		{"sourceDestCheck", r.SourceDestCheck}, {"ebsOptimized", r.EbsOptimized}} {
		if b.v != nil {
			changes = append(changes, change{b.attr, strconv.FormatBool(*b.v)})
		}
	}
	if r.ShutdownBehavior != nil {
		changes = append(changes, change{"instanceInitiatedShutdownBehavior", *r.ShutdownBehavior})
	}
	if r.UserData != nil {
		changes = append(changes, change{"userData", *r.UserData})
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
	case "enaSupport", "disableApiTermination", "disableApiStop", "sourceDestCheck", "ebsOptimized":
		if value != "true" && value != "false" {
			return "", "", awserr.InvalidParameterValue("Value (%s) for parameter %s is invalid. Expecting true or false.", value, attr)
		}
	case "instanceInitiatedShutdownBehavior":
		if value != "stop" && value != "terminate" {
			return "", "", awserr.InvalidParameterValue("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values: stop, terminate", value)
		}
	case "userData":
	case "instanceType":
		if _, err := CheckInstanceType(value); err != nil {
			return "", "", err
		}
	case "kernel":
		if !resource.ValidResourceID(value, "aki") {
			return "", "", awserr.Newf(awserr.CodeInvalidKernelIdMalformed, "Invalid id: %q (expecting \"aki-...\")", value)
		}
	case "ramdisk":
		if !resource.ValidResourceID(value, "ari") {
			return "", "", awserr.Newf(awserr.CodeInvalidRamDiskIdMalformed, "Invalid id: %q (expecting \"ari-...\")", value)
		}
	case "blockDeviceMapping":
		if len(r.DeleteOnTermination) == 0 {
			return "", "", awserr.MissingParameter("BlockDeviceMapping")
		}
	default:
		return "", "", awserr.Newf(awserr.CodeUnsupportedOperation, "The instance attribute %s is not supported by this endpoint.", attr)
	}
	return attr, value, nil
}

// GetInstanceUefiData returns the UEFI variable store of the caller's
// instance (amigo keeps none, so it is empty).
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) GetInstanceUefiData(ctx context.Context, c resource.Caller, id string, dryRun bool) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	if err := resource.Authorize(c, "GetInstanceUefiData", resource.InstanceARN(c.Region, c.Account, id)); err != nil {
		return "", err
	}
	err := s.store.ViewInstances(ctx, func(tx Tx) error {
		_, err := s.owned(ctx, tx, c, id)
		if err == nil && dryRun {
			return awserr.DryRunOK()
		}
		return err
	})
	return "", err
}
