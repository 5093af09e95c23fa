package e2e

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/instance"
)

func TestInstanceTypeChecks(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	x86 := e.register(owner, "x86")
	arm := *must[*ec2.RegisterImageOutput](t)(c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("arm"), RootDeviceName: aws.String("/dev/xvda"),
		Architecture: ec2types.ArchitectureValuesArm64, VirtualizationType: aws.String("hvm"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture())}}}})).ImageId
	run := func(image string, itype ec2types.InstanceType) error {
		_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: itype, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		return err
	}
	if msg := apiErr(t, run(x86, "t3.mcro"), "InvalidParameterValue", 400); msg != "Invalid value 't3.mcro' for InstanceType." {
		t.Fatalf("message %q", msg)
	}
	// The type is checked before the image.
	apiErr(t, run("ami-0123456789abcdef0", "t3.mcro"), "InvalidParameterValue", 400)
	apiErr(t, run("ami-0123456789abcdef0", "t4g.micro"), "InvalidAMIID.NotFound", 400)

	msg := apiErr(t, run(x86, "t4g.micro"), "InvalidParameterValue", 400)
	if want := "The architecture 'arm64' of the specified instance type does not match the architecture 'x86_64' of the specified AMI. " +
		"Specify an instance type and an AMI that have matching architectures, and try again. " +
		"You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI."; msg != want {
		t.Fatalf("message %q", msg)
	}
	apiErr(t, run(arm, "m5.large"), "InvalidParameterValue", 400)
	for _, ok := range []struct {
		image string
		itype ec2types.InstanceType
	}{{arm, "t4g.micro"}, {arm, "c7gn.large"}, {x86, "m5.large"}, {x86, "t2.micro"}} {
		if err := run(ok.image, ok.itype); err != nil {
			t.Fatalf("%s on %s: %v", ok.itype, ok.image, err)
		}
	}

	// DescribeInstanceTypes answers from the same table.
	out := must[*ec2.DescribeInstanceTypesOutput](t)(c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{
		InstanceTypes: []ec2types.InstanceType{"t4g.micro", "m5.large"}}))
	if len(out.InstanceTypes) != 2 {
		t.Fatalf("%d types", len(out.InstanceTypes))
	}
	for _, it := range out.InstanceTypes {
		switch it.InstanceType {
		case "t4g.micro":
			if it.ProcessorInfo.SupportedArchitectures[0] != ec2types.ArchitectureTypeArm64 || !aws.ToBool(it.BurstablePerformanceSupported) ||
				aws.ToInt32(it.VCpuInfo.DefaultVCpus) != 2 || aws.ToInt64(it.MemoryInfo.SizeInMiB) != 1024 {
				t.Fatalf("t4g.micro %+v", it)
			}
		case "m5.large":
			if aws.ToBool(it.BurstablePerformanceSupported) || aws.ToInt64(it.MemoryInfo.SizeInMiB) != 8192 {
				t.Fatalf("m5.large %+v", it)
			}
		}
	}
	_, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{"t3.mcro"}})
	apiErr(t, err, "InvalidInstanceType", 400)
}

// stateOf is the instance's current state name.
func stateOf(t *testing.T, c *ec2.Client, id string) string {
	t.Helper()
	out := must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}))
	return string(out.Reservations[0].Instances[0].State.Name)
}

func fastRunning(o *ec2.InstanceRunningWaiterOptions) {
	o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
}
func fastStopped(o *ec2.InstanceStoppedWaiterOptions) {
	o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
}
func fastTerminated(o *ec2.InstanceTerminatedWaiterOptions) {
	o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
}

// delayedEnv gives instances EC2-like delays on the harness's standing
// clock: a transitional state lasts until the test moves the clock, so what
// the test sees does not depend on how busy the machine is.
func delayedEnv(t *testing.T) *env {
	return startEnv(t, func(c *app.Config) {
		c.Instance.Delays = instance.Delays{Pending: 5 * time.Second, Stopping: 5 * time.Second}
	})
}

func TestStopStartReboot(t *testing.T) {
	e := delayedEnv(t)
	c := e.client(owner)
	img := e.register(owner, "states")
	id := e.launch(owner, img, 1)[0]
	ids := &ec2.DescribeInstancesInput{InstanceIds: []string{id}}
	change := func(chs []ec2types.InstanceStateChange) string {
		t.Helper()
		if len(chs) != 1 || aws.ToString(chs[0].InstanceId) != id {
			t.Fatalf("changes %+v", chs)
		}
		return string(chs[0].PreviousState.Name) + "/" + string(chs[0].CurrentState.Name)
	}
	stop := func(force bool) (string, error) {
		out, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}, Force: aws.Bool(force)})
		if err != nil {
			return "", err
		}
		return change(out.StoppingInstances), nil
	}
	start := func() (string, error) {
		out, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			return "", err
		}
		return change(out.StartingInstances), nil
	}
	reboot := func() error {
		_, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}})
		return err
	}

	if s := stateOf(t, c, id); s != "pending" {
		t.Fatalf("new instance %s", s)
	}
	_, err := stop(false)
	if msg := apiErr(t, err, "IncorrectInstanceState", 400); msg != "Instance '"+id+"' cannot be stopped as it has never reached the 'running' state." {
		t.Fatalf("message %q", msg)
	}
	apiErr(t, reboot(), "IncorrectInstanceState", 400)
	e.clock.Advance(5 * time.Second)
	if err := ec2.NewInstanceRunningWaiter(c, fastRunning).Wait(ctx, ids, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := reboot(); err != nil || stateOf(t, c, id) != "running" {
		t.Fatalf("reboot: %v", err)
	}
	if ch, err := start(); err != nil || ch != "running/running" {
		t.Fatalf("start of a running instance: %s %v", ch, err)
	}
	if ch, err := stop(false); err != nil || ch != "running/stopping" {
		t.Fatalf("stop: %s %v", ch, err)
	}
	inst := must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, ids)).Reservations[0].Instances[0]
	if !strings.HasPrefix(aws.ToString(inst.StateTransitionReason), "User initiated (") || inst.StateReason == nil ||
		aws.ToString(inst.StateReason.Code) != "Client.UserInitiatedShutdown" || aws.ToInt32(inst.State.Code) != 64 {
		t.Fatalf("stopping instance %+v", inst)
	}
	if ch, err := stop(false); err != nil || ch != "stopping/stopping" {
		t.Fatalf("second stop: %s %v", ch, err)
	}
	_, err = start()
	if msg := apiErr(t, err, "IncorrectInstanceState", 400); msg != "The instance '"+id+"' is not in a state from which it can be started." {
		t.Fatalf("message %q", msg)
	}
	e.clock.Advance(5 * time.Second)
	if err := ec2.NewInstanceStoppedWaiter(c, fastStopped).Wait(ctx, ids, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if ch, err := stop(false); err != nil || ch != "stopped/stopped" {
		t.Fatalf("stop of a stopped instance: %s %v", ch, err)
	}
	apiErr(t, reboot(), "IncorrectInstanceState", 400)
	if ch, err := start(); err != nil || ch != "stopped/pending" {
		t.Fatalf("start: %s %v", ch, err)
	}
	if ch, err := start(); err != nil || ch != "pending/pending" {
		t.Fatalf("second start: %s %v", ch, err)
	}
	e.clock.Advance(5 * time.Second)
	if err := ec2.NewInstanceRunningWaiter(c, fastRunning).Wait(ctx, ids, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if inst := must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, ids)).Reservations[0].Instances[0]; inst.StateReason != nil ||
		aws.ToString(inst.StateTransitionReason) != "" {
		t.Fatalf("running again, still shows the stop: %+v", inst)
	}
	// Force ends the stop at once.
	if ch, err := stop(true); err != nil || ch != "running/stopping" || stateOf(t, c, id) != "stopped" {
		t.Fatalf("forced stop: %s %v", ch, err)
	}

	// All or nothing, in request order.
	other := e.launch(owner, img, 1)[0]
	_, err = c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{other, "i-0123456789abcdef0"}})
	if msg := apiErr(t, err, "InvalidInstanceID.NotFound", 400); msg != "The instance ID 'i-0123456789abcdef0' does not exist" {
		t.Fatalf("message %q", msg)
	}
	_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{"i-0123456789abcdef0", "i-0123456789abcdef1"}})
	if msg := apiErr(t, err, "InvalidInstanceID.NotFound", 400); msg != "The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist" {
		t.Fatalf("message %q", msg)
	}
	gone := e.launch(owner, img, 1)[0]
	must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}))
	_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id, gone}})
	apiErr(t, err, "IncorrectInstanceState", 400)
	if s := stateOf(t, c, id); s != "stopped" {
		t.Fatalf("failed start changed %s to %s", id, s)
	}
	_, err = c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{"i-nope"}})
	apiErr(t, err, "InvalidInstanceID.Malformed", 400)
	_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}, DryRun: aws.Bool(true)})
	apiErr(t, err, "DryRunOperation", 412)
	_, err = e.client(member).StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{other}})
	apiErr(t, err, "InvalidInstanceID.NotFound", 400)

	// Terminated: stop and start refuse, reboot is ignored.
	term := must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}))
	if ch := change(term.TerminatingInstances); ch != "stopped/terminated" {
		t.Fatalf("terminate of a stopped instance: %s", ch)
	}
	if err := ec2.NewInstanceTerminatedWaiter(c, fastTerminated).Wait(ctx, ids, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = stop(false)
	if msg := apiErr(t, err, "IncorrectInstanceState", 400); msg != "This instance '"+id+"' is not in a state from which it can be stopped." {
		t.Fatalf("message %q", msg)
	}
	_, err = start()
	apiErr(t, err, "IncorrectInstanceState", 400)
	if err := reboot(); err != nil {
		t.Fatalf("reboot of a terminated instance: %v", err)
	}
}

func TestDisableAPIStopAndTermination(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	img := e.register(owner, "protected")
	out := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		DisableApiStop: aws.Bool(true), DisableApiTermination: aws.Bool(true)}))
	id := aws.ToString(out.Instances[0].InstanceId)
	_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	if msg := apiErr(t, err, "OperationNotPermitted", 400); msg != "The instance '"+id+"' may not be stopped. Modify its 'disableApiStop' instance attribute and try again." {
		t.Fatalf("message %q", msg)
	}
	_, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if msg := apiErr(t, err, "OperationNotPermitted", 400); msg != "The instance '"+id+"' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again." {
		t.Fatalf("message %q", msg)
	}
	for _, in := range []*ec2.ModifyInstanceAttributeInput{
		{InstanceId: aws.String(id), DisableApiStop: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}},
		{InstanceId: aws.String(id), DisableApiTermination: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}},
	} {
		must[*ec2.ModifyInstanceAttributeOutput](t)(c.ModifyInstanceAttribute(ctx, in))
	}
	must[*ec2.StopInstancesOutput](t)(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}))
	must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}))
}

func TestDescribeInstanceStatus(t *testing.T) {
	e := delayedEnv(t)
	c := e.client(owner)
	img := e.register(owner, "status")
	ids := e.launch(owner, img, 2)
	running, stopped := ids[0], ids[1]

	// A pending instance is not listed by default; the waiter keeps polling.
	out := must[*ec2.DescribeInstanceStatusOutput](t)(c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids}))
	if len(out.InstanceStatuses) != 0 {
		t.Fatalf("pending instances listed: %+v", out.InstanceStatuses)
	}
	fastOK := func(o *ec2.InstanceStatusOkWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	}
	// Running after the pending delay, checks initializing for as long again.
	e.clock.Advance(5 * time.Second)
	out = must[*ec2.DescribeInstanceStatusOutput](t)(c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids}))
	if len(out.InstanceStatuses) != 2 || out.InstanceStatuses[0].InstanceStatus.Status != ec2types.SummaryStatusInitializing {
		t.Fatalf("just running: %+v", out.InstanceStatuses)
	}
	e.clock.Advance(5 * time.Second)
	if err := ec2.NewInstanceStatusOkWaiter(c, fastOK).Wait(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	must[*ec2.StopInstancesOutput](t)(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}, Force: aws.Bool(true)}))

	out = must[*ec2.DescribeInstanceStatusOutput](t)(c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids}))
	if len(out.InstanceStatuses) != 1 {
		t.Fatalf("statuses %+v", out.InstanceStatuses)
	}
	st := out.InstanceStatuses[0]
	if aws.ToString(st.InstanceId) != running || st.InstanceState.Name != "running" || aws.ToInt32(st.InstanceState.Code) != 16 ||
		st.InstanceStatus.Status != ec2types.SummaryStatusOk || st.SystemStatus.Status != ec2types.SummaryStatusOk ||
		len(st.InstanceStatus.Details) != 1 || st.InstanceStatus.Details[0].Name != "reachability" || st.InstanceStatus.Details[0].Status != "passed" ||
		aws.ToString(st.AvailabilityZone) != region+"a" {
		t.Fatalf("running status %+v", st)
	}
	all := must[*ec2.DescribeInstanceStatusOutput](t)(c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true)}))
	if len(all.InstanceStatuses) != 2 {
		t.Fatalf("all statuses %+v", all.InstanceStatuses)
	}
	for _, st := range all.InstanceStatuses {
		if aws.ToString(st.InstanceId) == stopped && (st.InstanceState.Name != "stopped" || st.InstanceStatus.Status != ec2types.SummaryStatusNotApplicable ||
			len(st.InstanceStatus.Details) != 0) {
			t.Fatalf("stopped status %+v", st)
		}
	}
	filtered := must[*ec2.DescribeInstanceStatusOutput](t)(c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true),
		Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"stopped"}}}}))
	if len(filtered.InstanceStatuses) != 1 || aws.ToString(filtered.InstanceStatuses[0].InstanceId) != stopped {
		t.Fatalf("filtered %+v", filtered.InstanceStatuses)
	}
	_, err := c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	apiErr(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids, MaxResults: aws.Int32(5)})
	apiErr(t, err, "InvalidParameterCombination", 400)
	_, err = c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{Filters: []ec2types.Filter{{Name: aws.String("nope"), Values: []string{"x"}}}})
	apiErr(t, err, "InvalidParameterValue", 400)
}

func TestDescribeInstanceAttribute(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	img := e.register(owner, "attrs")
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n"))
	out := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: "t3.small", UserData: aws.String(userData), InstanceInitiatedShutdownBehavior: ec2types.ShutdownBehaviorTerminate,
		EbsOptimized: aws.Bool(true), DisableApiTermination: aws.Bool(false)}))
	id := aws.ToString(out.Instances[0].InstanceId)
	attr := func(name ec2types.InstanceAttributeName) *ec2.DescribeInstanceAttributeOutput {
		t.Helper()
		out, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if aws.ToString(out.InstanceId) != id {
			t.Fatalf("%s: instance %q", name, aws.ToString(out.InstanceId))
		}
		return out
	}
	if v := attr("instanceType").InstanceType; aws.ToString(v.Value) != "t3.small" {
		t.Fatalf("instanceType %+v", v)
	}
	if v := attr("userData").UserData; aws.ToString(v.Value) != userData {
		t.Fatalf("userData %+v", v)
	}
	if v := attr("instanceInitiatedShutdownBehavior").InstanceInitiatedShutdownBehavior; aws.ToString(v.Value) != "terminate" {
		t.Fatalf("shutdown behaviour %+v", v)
	}
	if v := attr("ebsOptimized").EbsOptimized; !aws.ToBool(v.Value) {
		t.Fatalf("ebsOptimized %+v", v)
	}
	for _, name := range []ec2types.InstanceAttributeName{"disableApiTermination", "disableApiStop"} {
		o := attr(name)
		if v := o.DisableApiTermination; name == "disableApiTermination" && (v == nil || aws.ToBool(v.Value)) {
			t.Fatalf("%s %+v", name, v)
		}
		if v := o.DisableApiStop; name == "disableApiStop" && (v == nil || aws.ToBool(v.Value)) {
			t.Fatalf("%s %+v", name, v)
		}
	}
	if v := attr("rootDeviceName").RootDeviceName; aws.ToString(v.Value) != "/dev/xvda" {
		t.Fatalf("rootDeviceName %+v", v)
	}
	if v := attr("sourceDestCheck").SourceDestCheck; !aws.ToBool(v.Value) {
		t.Fatalf("sourceDestCheck %+v", v)
	}
	bdm := attr("blockDeviceMapping").BlockDeviceMappings
	if len(bdm) != 1 || aws.ToString(bdm[0].DeviceName) != "/dev/xvda" || !strings.HasPrefix(aws.ToString(bdm[0].Ebs.VolumeId), "vol-") ||
		bdm[0].Ebs.Status != ec2types.AttachmentStatusAttached {
		t.Fatalf("blockDeviceMapping %+v", bdm)
	}
	if v := attr("enaSupport").EnaSupport; v == nil {
		t.Fatal("enaSupport missing")
	}
	attr("kernel")
	attr("ramdisk")
	attr("productCodes")
	attr("groupSet")
	attr("sriovNetSupport")
	if v := attr("enclaveOptions").EnclaveOptions; v == nil || aws.ToBool(v.Enabled) {
		t.Fatalf("enclaveOptions %+v", v)
	}

	_, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: "nope"})
	if msg := apiErr(t, err, "InvalidParameterValue", 400); msg != "Value (nope) for parameter attribute is invalid. Unknown attribute." {
		t.Fatalf("message %q", msg)
	}
	_, err = c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String("i-0123456789abcdef0"), Attribute: "userData"})
	apiErr(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = e.client(member).DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: "userData"})
	apiErr(t, err, "InvalidInstanceID.NotFound", 400)

	// Changes made through ModifyInstanceAttribute read back.
	must[*ec2.ModifyInstanceAttributeOutput](t)(c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		InstanceInitiatedShutdownBehavior: &ec2types.AttributeValue{Value: aws.String("stop")}}))
	if v := attr("instanceInitiatedShutdownBehavior").InstanceInitiatedShutdownBehavior; aws.ToString(v.Value) != "stop" {
		t.Fatalf("after modify %+v", v)
	}
}

// A zone must be one of the region's; without one the instance is in the
// region's first zone.
func TestRunInstancesPlacement(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	img := e.register(owner, "placed")
	run := func(zone string) (*ec2.RunInstancesOutput, error) {
		return c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			Placement: &ec2types.Placement{AvailabilityZone: aws.String(zone)}})
	}
	_, err := run("us-east-1z")
	if msg := apiErr(t, err, "InvalidParameterValue", 400); msg != "Invalid availability zone: [us-east-1z]" {
		t.Fatalf("message %q", msg)
	}
	_, err = run("eu-west-1a")
	apiErr(t, err, "InvalidParameterValue", 400)
	out := must[*ec2.RunInstancesOutput](t)(run("us-east-1c"))
	if z := aws.ToString(out.Instances[0].Placement.AvailabilityZone); z != "us-east-1c" {
		t.Fatalf("zone %q", z)
	}
	st := must[*ec2.DescribeInstanceStatusOutput](t)(c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{
		InstanceIds: []string{aws.ToString(out.Instances[0].InstanceId)}}))
	if len(st.InstanceStatuses) != 1 || aws.ToString(st.InstanceStatuses[0].AvailabilityZoneId) != "use1-az2" {
		t.Fatalf("status %+v", st.InstanceStatuses)
	}
	west := e.clientIn(owner, "us-west-1")
	wimg := *must[*ec2.RegisterImageOutput](t)(west.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("west"),
		RootDeviceName: aws.String("/dev/xvda"), BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture())}}}})).ImageId
	wout := must[*ec2.RunInstancesOutput](t)(west.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(wimg), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}))
	if z := aws.ToString(wout.Instances[0].Placement.AvailabilityZone); z != "us-west-1b" {
		t.Fatalf("default zone in us-west-1: %q (the region has no 'a')", z)
	}
}
