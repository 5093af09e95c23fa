package instance

import (
	"context"
	"slices"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// AttributeValue is DescribeInstanceAttribute's answer: the instance and
// the one attribute asked for (spec §3.9); the transport picks the member
// Name names.
type AttributeValue struct {
	Instance *Instance
	Name     string
	// Value is the attribute of the {value} form, as text ("" is an empty
	// wrapper); lists (blockDeviceMapping, productCodes, groupSet) and
	// enclaveOptions are read from Instance.
	Value string
}

// DescribeInstanceAttribute answers one attribute of the caller's
// instance, in any state while the instance is describable.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// InvalidParameterValue (unknown attribute), UnauthorizedOperation and
// DryRunOperation.
func (s *Service) DescribeInstanceAttribute(ctx context.Context, c resource.Caller, id, attr string, dryRun bool) (*AttributeValue, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if attr == "" {
		return nil, awserr.MissingParameter("Attribute")
	}
	if !slices.Contains(instanceAttributes, attr) {
		return nil, awserr.InvalidParameterValue("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	if err := resource.Authorize(c, "DescribeInstanceAttribute", resource.InstanceARN(c.Region, c.Account, id)); err != nil {
		return nil, err
	}
	var out *AttributeValue
	err := s.store.ViewInstances(ctx, func(tx Tx) error {
		inst, err := s.owned(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		out = &AttributeValue{Instance: inst, Name: attr, Value: attributeText(inst, attr)}
		return nil
	})
	return out, err
}

// attributeText is an attribute of the {value} form, as text.
func attributeText(inst *Instance, attr string) string {
	switch attr {
	case "instanceType":
		return inst.InstanceType
	case "kernel":
		return inst.KernelID
	case "ramdisk":
		return inst.RamdiskID
	case "userData":
		return inst.UserData
	case "disableApiTermination":
		return boolText(inst.DisableAPITermination)
	case "disableApiStop":
		return boolText(inst.DisableAPIStop)
	case "instanceInitiatedShutdownBehavior":
		if inst.ShutdownBehavior == "" {
			return "stop"
		}
		return inst.ShutdownBehavior
	case "rootDeviceName":
		return inst.RootDeviceName
	case "sourceDestCheck":
		return boolText(!inst.SourceDestCheckOff)
	case "ebsOptimized":
		return boolText(inst.EbsOptimized)
	case "sriovNetSupport":
		return inst.SriovNetSupport
	case "enaSupport":
		return boolText(inst.EnaSupport != nil && *inst.EnaSupport)
	}
	return ""
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
