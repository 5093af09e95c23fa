package ec2

import (
	"context"
	"encoding/base64"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// Stop, start and reboot, the instance reads around them
// (DescribeInstanceStatus, DescribeInstanceAttribute) and the
// instance-type and credit reads Terraform makes.

func stateChangesOut(changes []instance.StateChange) []ec2api.InstanceStateChange {
	out := make([]ec2api.InstanceStateChange, len(changes))
	for i, ch := range changes {
		out[i] = ec2api.InstanceStateChange{InstanceId: ptr(ch.InstanceID),
			PreviousState: stateOut(ch.Previous), CurrentState: stateOut(ch.Curr)}
	}
	return out
}

func (h *handlers) stopInstances(ctx context.Context, c resource.Caller, in *ec2api.StopInstancesRequest) (any, error) {
	changes, err := h.instances.StopInstances(ctx, c, &instance.StopRequest{InstanceIDs: in.InstanceIds, Force: flag(in.Force),
		SkipOsShutdown: flag(in.SkipOsShutdown), Hibernate: flag(in.Hibernate), DryRun: flag(in.DryRun)})
	if err != nil {
		return nil, err
	}
	return &ec2api.StopInstancesResult{StoppingInstances: stateChangesOut(changes)}, nil
}

func (h *handlers) startInstances(ctx context.Context, c resource.Caller, in *ec2api.StartInstancesRequest) (any, error) {
	changes, err := h.instances.StartInstances(ctx, c, in.InstanceIds, flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	return &ec2api.StartInstancesResult{StartingInstances: stateChangesOut(changes)}, nil
}

func (h *handlers) rebootInstances(ctx context.Context, c resource.Caller, in *ec2api.RebootInstancesRequest) (any, error) {
	if err := h.instances.RebootInstances(ctx, c, in.InstanceIds, flag(in.DryRun)); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *handlers) describeInstanceStatus(ctx context.Context, c resource.Caller, in *ec2api.DescribeInstanceStatusRequest) (any, error) {
	sts, next, err := h.instances.DescribeInstanceStatus(ctx, c, &instance.StatusRequest{InstanceIDs: in.InstanceIds,
		IncludeAllInstances: flag(in.IncludeAllInstances), Filters: filters(in.Filters), MaxResults: in.MaxResults,
		NextToken: in.NextToken, DryRun: flag(in.DryRun)})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceStatusResult{InstanceStatuses: make([]ec2api.InstanceStatus, len(sts)), NextToken: ptr(next)}
	for i, st := range sts {
		summary := func() *ec2api.InstanceStatusSummary {
			s := &ec2api.InstanceStatusSummary{Status: ptr(st.Summary), Details: []ec2api.InstanceStatusDetails{}}
			if st.Reachability != "" {
				s.Details = append(s.Details, ec2api.InstanceStatusDetails{Name: ptr("reachability"), Status: ptr(st.Reachability)})
			}
			return s
		}
		out.InstanceStatuses[i] = ec2api.InstanceStatus{
			InstanceId: ptr(st.ID), AvailabilityZone: ptr(st.AvailabilityZone()), AvailabilityZoneId: ptr(st.AvailabilityZoneID()),
			InstanceState:  stateOut(st.State),
			InstanceStatus: summary(), SystemStatus: summary(), Events: []ec2api.InstanceStatusEvent{},
		}
	}
	return out, nil
}

func (h *handlers) describeInstanceAttribute(ctx context.Context, c resource.Caller, in *ec2api.DescribeInstanceAttributeRequest) (any, error) {
	a, err := h.instances.DescribeInstanceAttribute(ctx, c, str(in.InstanceId), str(in.Attribute), flag(in.DryRun))
	if err != nil {
		return nil, err
	}
	out := &ec2api.InstanceAttribute{InstanceId: ptr(a.Instance.ID)}
	value := &ec2api.AttributeValue{Value: ptr(a.Value)}
	boolean := &ec2api.AttributeBooleanValue{Value: yes()}
	if a.Value == "false" {
		f := false
		boolean.Value = &f
	}
	switch a.Name {
	case "instanceType":
		out.InstanceType = value
	case "kernel":
		out.KernelId = value
	case "ramdisk":
		out.RamdiskId = value
	case "userData":
		out.UserData = value
	case "instanceInitiatedShutdownBehavior":
		out.InstanceInitiatedShutdownBehavior = value
	case "rootDeviceName":
		out.RootDeviceName = value
	case "sriovNetSupport":
		out.SriovNetSupport = value
	case "disableApiTermination":
		out.DisableApiTermination = boolean
	case "disableApiStop":
		out.DisableApiStop = boolean
	case "sourceDestCheck":
		out.SourceDestCheck = boolean
	case "ebsOptimized":
		out.EbsOptimized = boolean
	case "enaSupport":
		out.EnaSupport = boolean
	case "enclaveOptions":
		enabled := a.Instance.EnclaveEnabled
		out.EnclaveOptions = &ec2api.EnclaveOptions{Enabled: &enabled}
	case "blockDeviceMapping":
		out.BlockDeviceMappings = instanceMappingsOut(a.Instance)
	case "productCodes":
		out.ProductCodes = []ec2api.ProductCode{}
	case "groupSet":
		out.Groups = []ec2api.GroupIdentifier{}
	}
	return out, nil
}

func (h *handlers) describeInstanceTypes(ctx context.Context, c resource.Caller, in *ec2api.DescribeInstanceTypesRequest) (any, error) {
	types, next, err := h.instances.DescribeInstanceTypes(ctx, c, &instance.TypesRequest{InstanceTypes: in.InstanceTypes,
		Filters: filters(in.Filters), MaxResults: in.MaxResults, NextToken: in.NextToken, DryRun: flag(in.DryRun)})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceTypesResult{InstanceTypes: make([]ec2api.InstanceTypeInfo, len(types)), NextToken: ptr(next)}
	for i, t := range types {
		out.InstanceTypes[i] = instanceTypeOut(t)
	}
	return out, nil
}

// instanceTypeOut is what amigo knows of a type, in DescribeInstanceTypes'
// shape; vCPUs and memory only when the table has them.
func instanceTypeOut(t instance.TypeInfo) ec2api.InstanceTypeInfo {
	b := func(v bool) *bool { return &v }
	virt := []string{"hvm"}
	if t.Hypervisor == "xen" {
		virt = []string{"hvm", "paravirtual"}
	}
	boot := []string{"legacy-bios", "uefi"}
	if t.Architecture() == "arm64" || t.Architecture() == "arm64_mac" {
		boot = []string{"uefi"}
	}
	out := ec2api.InstanceTypeInfo{
		InstanceType:                  ptr(t.Name),
		CurrentGeneration:             b(t.CurrentGeneration),
		FreeTierEligible:              b(instance.FreeTierEligible(t.Name)),
		SupportedUsageClasses:         []string{"on-demand", "spot"},
		SupportedRootDeviceTypes:      []string{"ebs"},
		SupportedVirtualizationTypes:  virt,
		BareMetal:                     b(t.BareMetal),
		Hypervisor:                    ptr(t.Hypervisor),
		ProcessorInfo:                 &ec2api.ProcessorInfo{SupportedArchitectures: t.Architectures},
		InstanceStorageSupported:      b(false),
		HibernationSupported:          b(!t.BareMetal),
		BurstablePerformanceSupported: b(t.Burstable),
		DedicatedHostsSupported:       b(!t.Burstable),
		AutoRecoverySupported:         b(true),
		SupportedBootModes:            boot,
	}
	if t.VCPUs > 0 {
		out.VCpuInfo = &ec2api.VCpuInfo{DefaultVCpus: &t.VCPUs, DefaultCores: &t.Cores, DefaultThreadsPerCore: &t.ThreadsPerCore}
		out.MemoryInfo = &ec2api.MemoryInfo{SizeInMiB: &t.MemoryMiB}
	}
	return out
}

func (h *handlers) describeInstanceCreditSpecifications(ctx context.Context, c resource.Caller, in *ec2api.DescribeInstanceCreditSpecificationsRequest) (any, error) {
	specs, next, err := h.instances.DescribeInstanceCreditSpecifications(ctx, c, &instance.CreditsRequest{InstanceIDs: in.InstanceIds,
		Filters: filters(in.Filters), MaxResults: in.MaxResults, NextToken: in.NextToken, DryRun: flag(in.DryRun)})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceCreditSpecificationsResult{
		InstanceCreditSpecifications: make([]ec2api.InstanceCreditSpecification, len(specs)), NextToken: ptr(next)}
	for i, cs := range specs {
		out.InstanceCreditSpecifications[i] = ec2api.InstanceCreditSpecification{InstanceId: ptr(cs.InstanceID), CpuCredits: ptr(cs.CPUCredits)}
	}
	return out, nil
}

// userDataIn is ModifyInstanceAttribute's UserData (a blob: the SDKs send
// it base64-encoded, the decoder hands over the bytes) as the base64 text
// DescribeInstanceAttribute answers.
func userDataIn(v *ec2api.BlobAttributeValue) *string {
	if v == nil {
		return nil
	}
	s := base64.StdEncoding.EncodeToString(v.Value)
	return &s
}
