package image_test

import (
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
)

// Deregistration protection (spec §2.11): while enabled DeregisterImage is
// refused; disabling a protection enabled WithCooldown keeps refusing it
// for 24 hours after the Disable call.
func TestDeregistrationProtectionCooldown(t *testing.T) {
	owner := it.Caller(it.Owner)
	type step func(t *testing.T, e *it.Env, id string)
	enable := func(cooldown bool) step {
		return func(t *testing.T, e *it.Env, id string) {
			want := image.ProtectionWithoutCooldown
			if cooldown {
				want = image.ProtectionWithCooldown
			}
			got, err := e.Svc.EnableImageDeregistrationProtection(ctx, owner, id, cooldown, false)
			if err != nil || got != want {
				t.Fatalf("enable: %q %v, want %q", got, err, want)
			}
		}
	}
	disable := func(t *testing.T, e *it.Env, id string) {
		got, err := e.Svc.DisableImageDeregistrationProtection(ctx, owner, id, false)
		if err != nil || got != image.ProtectionDisabled {
			t.Fatalf("disable: %q %v", got, err)
		}
	}
	wait := func(d time.Duration) step {
		return func(_ *testing.T, e *it.Env, _ string) { e.Clock.Advance(d) }
	}
	cases := []struct {
		name      string
		steps     []step
		protected bool
	}{
		{"never protected", nil, false},
		{"enabled without cooldown", []step{enable(false)}, true},
		{"enabled with cooldown", []step{enable(true)}, true},
		{"enabled with cooldown, a day later", []step{enable(true), wait(48 * time.Hour)}, true},
		{"disabled, no cooldown", []step{enable(false), disable}, false},
		{"disabled, cooldown running", []step{enable(true), disable}, true},
		{"disabled, a second before the cooldown ends", []step{enable(true), disable, wait(24*time.Hour - time.Second)}, true},
		{"disabled, cooldown over", []step{enable(true), disable, wait(24 * time.Hour)}, false},
		{"disabled, long after", []step{enable(true), disable, wait(72 * time.Hour)}, false},
		{"the cooldown counts from Disable, not Enable", []step{enable(true), wait(30 * time.Hour), disable, wait(23 * time.Hour)}, true},
		{"disabling again does not restart the cooldown", []step{enable(true), disable, wait(12 * time.Hour), disable, wait(12 * time.Hour)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := it.New(t, image.Options{})
			id := e.Register(t, owner, "protected")
			for _, s := range tc.steps {
				s(t, e, id)
			}
			// DryRun answers from the same decision and changes nothing.
			_, err := e.Svc.DeregisterImage(ctx, owner, id, false, true)
			if tc.protected {
				msg := "Image " + id + " has deregistration protection enabled. Disable deregistration protection and try again."
				it.WantError(t, err, "OperationNotPermitted", 400, msg)
				_, err = e.Svc.DeregisterImage(ctx, owner, id, false, false)
				it.WantError(t, err, "OperationNotPermitted", 400, msg)
				if st := e.Image(t, it.Region, id).State; st != image.StateAvailable {
					t.Fatalf("refused deregistration left the image %s", st)
				}
				return
			}
			it.WantError(t, err, "DryRunOperation", 412, "Request would have succeeded, but DryRun flag is set.")
			if _, err := e.Svc.DeregisterImage(ctx, owner, id, false, false); err != nil {
				t.Fatal(err)
			}
			if st := e.Image(t, it.Region, id).State; st != image.StateDeregistered {
				t.Fatalf("deregistered image is %s", st)
			}
		})
	}
}

// While the cooldown runs the image records when it ends (DescribeImages
// shows it as "disabled after <time>").
func TestCooldownEnd(t *testing.T) {
	e := it.New(t, image.Options{})
	owner := it.Caller(it.Owner)
	id := e.Register(t, owner, "protected")
	if _, err := e.Svc.EnableImageDeregistrationProtection(ctx, owner, id, true, false); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(90 * time.Minute)
	if _, err := e.Svc.DisableImageDeregistrationProtection(ctx, owner, id, false); err != nil {
		t.Fatal(err)
	}
	img := e.Image(t, it.Region, id)
	want := it.Epoch.Add(90*time.Minute + 24*time.Hour)
	if img.DeregistrationProtection != image.ProtectionDisabled || img.ProtectedUntil == nil || !img.ProtectedUntil.Equal(want) {
		t.Fatalf("after Disable: %s until %v, want disabled until %v", img.DeregistrationProtection, img.ProtectedUntil, want)
	}
}
