package instance_test

import (
	"testing"

	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/instance"
)

// An instance stored before RunInstances made volumes (or restored from an
// export without them) has mappings but no volume rows: it still
// terminates, and ModifyInstanceAttribute still changes its flags.
func TestInstanceWithoutVolumeRows(t *testing.T) {
	e := newEnv(t, instance.Delays{})
	owner := it.Caller(it.Owner)
	res, err := e.run(t, &instance.RunRequest{ImageID: e.Register(t, owner, "old")})
	if err != nil {
		t.Fatal(err)
	}
	inst := res.Instances[0]
	st := e.Store.(instance.Store)
	err = st.UpdateInstances(ctx, func(tx instance.Tx) error {
		for _, v := range inst.Volumes() {
			if err := tx.DeleteVolume(ctx, inst.Region, v.VolumeID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	no := false
	dev := inst.Volumes()[0].Device
	if err := e.insts.ModifyInstanceAttribute(ctx, owner, &instance.ModifyRequest{InstanceID: inst.ID, DeleteOnTermination: map[string]bool{dev: no}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.insts.TerminateInstances(ctx, owner, []string{inst.ID}, false); err != nil {
		t.Fatal(err)
	}
	if got := e.state(t, inst.ID); got != instance.StateTerminated {
		t.Fatalf("state %s", got)
	}
}
