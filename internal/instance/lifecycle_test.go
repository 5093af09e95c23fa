package instance_test

import (
	"context"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/instance"
)

// The instance rules that read the clock, driven by the harness's fake
// clock: transitions end when their delay has passed, status checks
// initialize, and client tokens are kept a day after their instances end.

var ctx = context.Background()

type env struct {
	*it.Env
	insts *instance.Service
}

func newEnv(t *testing.T, d instance.Delays) *env {
	t.Helper()
	e := it.New(t, image.Options{})
	st, ok := e.Store.(instance.Store)
	if !ok {
		t.Fatal("the test store holds no instances")
	}
	return &env{Env: e, insts: instance.NewService(st, e.Svc, instance.Options{Now: e.Clock.Now, NewID: e.IDs.Next, Delays: d})}
}

func (e *env) run(t *testing.T, r *instance.RunRequest) (*instance.Reservation, error) {
	t.Helper()
	one := int32(1)
	if r.MinCount == nil {
		r.MinCount, r.MaxCount = &one, &one
	}
	return e.insts.RunInstances(ctx, it.Caller(it.Owner), r)
}

func (e *env) state(t *testing.T, id string) string {
	t.Helper()
	res, _, err := e.insts.DescribeInstances(ctx, it.Caller(it.Owner), &instance.DescribeRequest{InstanceIDs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].Instances[0].State
}

func TestStatesFollowTheClock(t *testing.T) {
	e := newEnv(t, instance.Delays{Pending: 5 * time.Second, Stopping: 3 * time.Second})
	owner := it.Caller(it.Owner)
	img := e.Register(t, owner, "clocked")
	res, err := e.run(t, &instance.RunRequest{ImageID: img})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Instances[0].ID
	checks := func() string {
		t.Helper()
		sts, _, err := e.insts.DescribeInstanceStatus(ctx, owner, &instance.StatusRequest{InstanceIDs: []string{id}, IncludeAllInstances: true})
		if err != nil {
			t.Fatal(err)
		}
		return sts[0].Summary
	}
	steps := []struct {
		name    string
		advance time.Duration
		do      func() error
		state   string
		checks  string
	}{
		{name: "launched", state: "pending", checks: "not-applicable"},
		{name: "not yet", advance: 4 * time.Second, state: "pending", checks: "not-applicable"},
		{name: "running", advance: time.Second, state: "running", checks: "initializing"},
		{name: "checks pass", advance: 5 * time.Second, state: "running", checks: "ok"},
		{name: "stop", do: func() error {
			_, err := e.insts.StopInstances(ctx, owner, &instance.StopRequest{InstanceIDs: []string{id}})
			return err
		}, state: "stopping", checks: "not-applicable"},
		{name: "stopped", advance: 3 * time.Second, state: "stopped", checks: "not-applicable"},
		{name: "start", do: func() error {
			_, err := e.insts.StartInstances(ctx, owner, []string{id}, false)
			return err
		}, state: "pending", checks: "not-applicable"},
		{name: "running again", advance: 5 * time.Second, state: "running", checks: "initializing"},
	}
	for _, s := range steps {
		e.Clock.Advance(s.advance)
		if s.do != nil {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if got := e.state(t, id); got != s.state {
			t.Fatalf("%s: state %s, want %s", s.name, got, s.state)
		}
		if got := checks(); got != s.checks {
			t.Fatalf("%s: checks %s, want %s", s.name, got, s.checks)
		}
	}
}

func TestClientTokenLifetime(t *testing.T) {
	e := newEnv(t, instance.Delays{})
	owner := it.Caller(it.Owner)
	img := e.Register(t, owner, "tokens")
	req := func() *instance.RunRequest {
		return &instance.RunRequest{ImageID: img, ClientToken: "tok", InstanceType: "t3.micro"}
	}
	first, err := e.run(t, req())
	if err != nil {
		t.Fatal(err)
	}
	id := first.Instances[0].ID

	// The image going away does not stop a repeat: it is answered from
	// the record, before any image rule.
	if _, err := e.Svc.DeregisterImage(ctx, owner, img, false, false); err != nil {
		t.Fatal(err)
	}
	again, err := e.run(t, req())
	if err != nil || again.ID != first.ID || again.Instances[0].ID != id || again.Instances[0].State != "running" {
		t.Fatalf("repeat: %+v %v", again, err)
	}

	if _, err := e.insts.TerminateInstances(ctx, owner, []string{id}, false); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(23 * time.Hour)
	_, err = e.run(t, req())
	it.WantError(t, err, "IdempotentInstanceTerminated", 400,
		"The client token you have provided is associated with a terminated instance. Please use a different client token.")

	// A day after the last instance ended the token is free again (here
	// the image is gone, so the new launch fails on the image).
	e.Clock.Advance(2 * time.Hour)
	_, err = e.run(t, req())
	it.WantError(t, err, "InvalidAMIID.NotFound", 400, "The image id '["+img+"]' does not exist")
}
