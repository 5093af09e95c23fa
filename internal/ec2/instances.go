package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/volume"
)

func (h *handlers) runInstances(ctx context.Context, c resource.Caller, in *ec2api.RunInstancesRequest) (any, error) {
	r := &instance.RunRequest{
		ImageID:               str(in.ImageId),
		MinCount:              in.MinCount,
		MaxCount:              in.MaxCount,
		InstanceType:          str(in.InstanceType),
		BlockDeviceMappings:   overridesIn(in.BlockDeviceMappings),
		TagSpecifications:     tagSpecs(in.TagSpecifications),
		ClientToken:           str(in.ClientToken),
		UserData:              str(in.UserData),
		ShutdownBehavior:      str(in.InstanceInitiatedShutdownBehavior),
		DisableAPITermination: flag(in.DisableApiTermination),
		DisableAPIStop:        flag(in.DisableApiStop),
		EbsOptimized:          flag(in.EbsOptimized),
		DryRun:                flag(in.DryRun),
	}
	if p := in.Placement; p != nil {
		r.Zone = str(p.AvailabilityZone)
	}
	if cs := in.CreditSpecification; cs != nil {
		r.CPUCredits = str(cs.CpuCredits)
	}
	if ho := in.HibernationOptions; ho != nil {
		r.Hibernation = flag(ho.Configured)
	}
	if eo := in.EnclaveOptions; eo != nil {
		r.EnclaveEnabled = flag(eo.Enabled)
	}
	if mo := in.MetadataOptions; mo != nil {
		r.MetadataOptions = &instance.MetadataOptions{HttpTokens: str(mo.HttpTokens),
			HttpPutResponseHopLimit: mo.HttpPutResponseHopLimit, HttpEndpoint: str(mo.HttpEndpoint)}
	}
	res, err := h.instances.RunInstances(ctx, c, r)
	if err != nil {
		return nil, err
	}
	out := reservationOut(*res)
	return &out, nil
}

func (h *handlers) describeInstances(ctx context.Context, c resource.Caller, in *ec2api.DescribeInstancesRequest) (any, error) {
	r := &instance.DescribeRequest{InstanceIDs: in.InstanceIds, MaxResults: in.MaxResults,
		NextToken: in.NextToken, DryRun: flag(in.DryRun)}
	r.Filters = filters(in.Filters)
	if r.Streams() {
		st, err := h.instances.StreamInstances(c, r)
		if err != nil {
			return nil, err
		}
		return streamOf(&ec2api.DescribeInstancesResult{}, "Reservations", st, reservationOut), nil
	}
	res, next, err := h.instances.DescribeInstances(ctx, c, r)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstancesResult{Reservations: make([]ec2api.Reservation, len(res)), NextToken: ptr(next)}
	for i := range res {
		out.Reservations[i] = reservationOut(res[i])
	}
	return out, nil
}

func (h *handlers) terminateInstances(ctx context.Context, c resource.Caller, in *ec2api.TerminateInstancesRequest) (any, error) {
	changes, err := h.instances.TerminateInstances(ctx, c, in.InstanceIds, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	out := &ec2api.TerminateInstancesResult{TerminatingInstances: make([]ec2api.InstanceStateChange, len(changes))}
	for i, ch := range changes {
		out.TerminatingInstances[i] = ec2api.InstanceStateChange{InstanceId: ptr(ch.InstanceID),
			PreviousState: stateOut(ch.Previous), CurrentState: stateOut(ch.Curr)}
	}
	return out, nil
}

func (h *handlers) createImage(ctx context.Context, c resource.Caller, in *ec2api.CreateImageRequest) (any, error) {
	id, err := h.instances.CreateImage(ctx, c, &instance.CreateImageRequest{
		InstanceID: str(in.InstanceId),
		CreateRequest: image.CreateRequest{
			Name:                str(in.Name),
			Description:         str(in.Description),
			NoReboot:            flag(in.NoReboot),
			BlockDeviceMappings: overridesIn(in.BlockDeviceMappings),
			TagSpecifications:   tagSpecs(in.TagSpecifications),
			DryRun:              flag(in.DryRun),
		},
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateImageResult{ImageId: &id}, nil
}

// overridesIn converts the block device overrides of RunInstances and
// CreateImage. NoDevice travels empty on the wire: its presence is what counts.
func overridesIn(ms []ec2api.BlockDeviceMapping) []image.BlockDeviceMapping {
	out := mappingsIn(ms)
	for i, m := range ms {
		if m.NoDevice != nil {
			out[i].NoDevice = image.NoDeviceSet
		}
	}
	return out
}

func (h *handlers) modifyInstanceAttribute(ctx context.Context, c resource.Caller, in *ec2api.ModifyInstanceAttributeRequest) (any, error) {
	r := &instance.ModifyRequest{InstanceID: str(in.InstanceId), Attribute: in.Attribute, Value: in.Value, DryRun: flag(in.DryRun)}
	value := func(v *ec2api.AttributeValue) *string {
		if v == nil {
			return nil
		}
		s := str(v.Value)
		return &s
	}
	r.SriovNetSupport, r.InstanceType = value(in.SriovNetSupport), value(in.InstanceType)
	r.Kernel, r.Ramdisk = value(in.Kernel), value(in.Ramdisk)
	boolean := func(v *ec2api.AttributeBooleanValue) *bool {
		if v == nil {
			return nil
		}
		b := flag(v.Value)
		return &b
	}
	r.EnaSupport = boolean(in.EnaSupport)
	r.DisableAPITermination, r.DisableAPIStop = boolean(in.DisableApiTermination), boolean(in.DisableApiStop)
	r.SourceDestCheck, r.EbsOptimized = boolean(in.SourceDestCheck), boolean(in.EbsOptimized)
	r.ShutdownBehavior, r.UserData = value(in.InstanceInitiatedShutdownBehavior), userDataIn(in.UserData)
	for _, m := range in.BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.DeleteOnTermination != nil {
			if r.DeleteOnTermination == nil {
				r.DeleteOnTermination = map[string]bool{}
			}
			r.DeleteOnTermination[str(m.DeviceName)] = *m.Ebs.DeleteOnTermination
		}
	}
	if len(in.Groups) > 0 {
		r.Others = append(r.Others, "groupSet")
	}
	if err := h.instances.ModifyInstanceAttribute(ctx, c, r); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *handlers) getInstanceUefiData(ctx context.Context, c resource.Caller, in *ec2api.GetInstanceUefiDataRequest) (any, error) {
	data, err := h.instances.GetInstanceUefiData(ctx, c, str(in.InstanceId), flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.GetInstanceUefiDataResult{InstanceId: in.InstanceId, UefiData: ptr(data)}, nil
}

func (h *handlers) describeImageReferences(ctx context.Context, c resource.Caller, in *ec2api.DescribeImageReferencesRequest) (any, error) {
	r := &instance.ImageReferencesRequest{ImageIDs: in.ImageIds, IncludeAllResourceTypes: flag(in.IncludeAllResourceTypes),
		MaxResults: in.MaxResults, NextToken: in.NextToken, DryRun: flag(in.DryRun)}
	for _, rt := range in.ResourceTypes {
		t := instance.ReferenceType{Type: str(rt.ResourceType)}
		for _, o := range rt.ResourceTypeOptions {
			t.Options = append(t.Options, instance.ReferenceOption{Name: str(o.OptionName), Values: o.OptionValues})
		}
		r.ResourceTypes = append(r.ResourceTypes, t)
	}
	refs, next, err := h.instances.DescribeImageReferences(ctx, c, r)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeImageReferencesResult{ImageReferences: make([]ec2api.ImageReference, len(refs)), NextToken: ptr(next)}
	for i, ref := range refs {
		out.ImageReferences[i] = ec2api.ImageReference{ImageId: ptr(ref.ImageID), ResourceType: ptr(ref.ResourceType), Arn: ptr(ref.ARN)}
	}
	return out, nil
}

func stateOut(state string) *ec2api.InstanceState {
	code := instance.StateCode(state)
	return &ec2api.InstanceState{Code: &code, Name: ptr(state)}
}

func reservationOut(res instance.Reservation) ec2api.Reservation {
	out := ec2api.Reservation{ReservationId: ptr(res.ID), OwnerId: ptr(res.OwnerID),
		Groups: []ec2api.GroupIdentifier{}, Instances: make([]ec2api.Instance, len(res.Instances))}
	for i, d := range res.Instances {
		out.Instances[i] = instanceOut(d.Instance, d.Tags, i)
	}
	return out
}

// instanceOut renders one instance as RunInstances and DescribeInstances show it.
func instanceOut(inst *instance.Instance, tags []resource.Tag, launchIndex int) ec2api.Instance {
	launched := inst.LaunchTime
	index := int32(launchIndex)
	out := ec2api.Instance{
		InstanceId:            ptr(inst.ID),
		ImageId:               ptr(inst.ImageID),
		State:                 stateOut(inst.State),
		InstanceType:          ptr(inst.InstanceType),
		LaunchTime:            &launched,
		AmiLaunchIndex:        &index,
		Placement:             &ec2api.Placement{AvailabilityZone: ptr(inst.AvailabilityZone()), Tenancy: ptr("default")},
		Monitoring:            &ec2api.Monitoring{State: ptr("disabled")},
		Architecture:          ptr(inst.Architecture),
		Platform:              ptr(inst.Platform),
		KernelId:              ptr(inst.KernelID),
		RamdiskId:             ptr(inst.RamdiskID),
		RootDeviceName:        ptr(inst.RootDeviceName),
		RootDeviceType:        ptr(inst.RootDeviceType),
		VirtualizationType:    ptr(inst.VirtualizationType),
		Hypervisor:            ptr(inst.Hypervisor),
		SriovNetSupport:       ptr(inst.SriovNetSupport),
		EnaSupport:            inst.EnaSupport,
		BootMode:              ptr(inst.BootMode),
		Tags:                  tagsOut(tags),
		StateTransitionReason: ptr(inst.TransitionReason),
		EbsOptimized:          &inst.EbsOptimized,
		EnclaveOptions:        &ec2api.EnclaveOptions{Enabled: &inst.EnclaveEnabled},
		HibernationOptions:    &ec2api.HibernationOptions{Configured: &inst.Hibernation},
		MetadataOptions: &ec2api.InstanceMetadataOptionsResponse{
			State:                   ptr("applied"),
			HttpTokens:              ptr(inst.HttpTokens),
			HttpPutResponseHopLimit: &inst.HttpPutResponseHopLimit,
			HttpEndpoint:            ptr(inst.HttpEndpoint),
		},
	}
	if r := inst.StateReason; r != nil {
		out.StateReason = &ec2api.StateReason{Code: ptr(r.Code), Message: ptr(r.Message)}
	}
	if t, ok := instance.LookupType(inst.InstanceType); ok && t.Cores > 0 {
		out.CpuOptions = &ec2api.CpuOptions{CoreCount: &t.Cores, ThreadsPerCore: &t.ThreadsPerCore}
	}
	out.BlockDeviceMappings = instanceMappingsOut(inst)
	return out
}

// instanceMappingsOut is the instance's EBS volumes, as DescribeInstances
// and DescribeInstanceAttribute show them; instance-store devices are not
// listed, as on EC2.
func instanceMappingsOut(inst *instance.Instance) []ec2api.InstanceBlockDeviceMapping {
	out := []ec2api.InstanceBlockDeviceMapping{}
	for _, v := range inst.Volumes() {
		at, dot := v.AttachTime, v.DeleteOnTermination // false is sent too
		out = append(out, ec2api.InstanceBlockDeviceMapping{
			DeviceName: ptr(v.Device),
			Ebs: &ec2api.EbsInstanceBlockDevice{
				VolumeId:            ptr(v.VolumeID),
				Status:              ptr(volume.AttachmentAttached),
				AttachTime:          &at,
				DeleteOnTermination: &dot,
			},
		})
	}
	return out
}
