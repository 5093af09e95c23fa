package instance

import (
	"errors"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

func asErr(err error, target **awserr.Error) bool { return errors.As(err, target) }

var t0 = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func TestStateCodes(t *testing.T) {
	want := []int32{0, 16, 32, 48, 64, 80}
	for i, s := range states {
		if StateCode(s) != want[i] {
			t.Errorf("%s: %d", s, StateCode(s))
		}
	}
}

func TestLaunchAndSettle(t *testing.T) {
	d := Delays{Pending: 5 * time.Second, Stopping: 3 * time.Second}
	l := Launched(t0, d)
	if l.State != StatePending || l.Booted {
		t.Fatalf("launched %+v", l)
	}
	if got := l.Settle(t0.Add(4*time.Second), d); got.State != StatePending {
		t.Fatalf("before the delay: %s", got.State)
	}
	got := l.Settle(t0.Add(time.Minute), d)
	if got.State != StateRunning || !got.Booted || !got.Since.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("after the delay: %+v", got)
	}
	if l := Launched(t0, Delays{}); l.State != StateRunning || !l.Booted {
		t.Fatalf("no delay: %+v", l)
	}
}

func TestStop(t *testing.T) {
	d := Delays{Pending: 5 * time.Second, Stopping: 5 * time.Second}
	running := Life{State: StateRunning, Since: t0, Booted: true}
	tests := []struct {
		name          string
		life          Life
		delays        Delays
		force         bool
		stored        string
		prev, current string
		err           string
	}{
		{"running", running, d, false, StateStopping, StateRunning, StateStopping, ""},
		{"running, no delay", running, Delays{}, false, StateStopped, StateRunning, StateStopping, ""},
		{"running, force", running, d, true, StateStopped, StateRunning, StateStopping, ""},
		{"stopping", Life{State: StateStopping, Since: t0, Booted: true}, d, false, StateStopping, StateStopping, StateStopping, ""},
		{"stopping, force", Life{State: StateStopping, Since: t0, Booted: true}, d, true, StateStopped, StateStopping, StateStopping, ""},
		{"stopped", Life{State: StateStopped, Booted: true}, d, false, StateStopped, StateStopped, StateStopped, ""},
		{"never ran", Life{State: StatePending, Since: t0}, d, false, StatePending, "", "",
			"Instance 'i-1' cannot be stopped as it has never reached the 'running' state."},
		{"starting again", Life{State: StatePending, Since: t0, Booted: true}, d, false, StatePending, "", "",
			"This instance 'i-1' is not in a state from which it can be stopped."},
		{"terminated", Life{State: StateTerminated}, d, false, StateTerminated, "", "",
			"This instance 'i-1' is not in a state from which it can be stopped."},
		{"shutting down", Life{State: StateShuttingDown}, d, false, StateShuttingDown, "", "",
			"This instance 'i-1' is not in a state from which it can be stopped."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ch, err := tt.life.Stop("i-1", t0.Add(time.Second), tt.delays, tt.force)
			if tt.err != "" {
				var ae *awserr.Error
				if !asErr(err, &ae) || ae.Code != "IncorrectInstanceState" || ae.Status != 400 || ae.Message != tt.err {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err != nil || got.State != tt.stored || ch.Previous != tt.prev || ch.Current != tt.current {
				t.Fatalf("got %+v %+v %v", got, ch, err)
			}
		})
	}
	stopped, _, _ := running.Stop("i-1", t0, d, false)
	if stopped.TransitionReason != "User initiated (2026-12-02 09:00:00 GMT)" || stopped.Reason.Code != "Client.UserInitiatedShutdown" {
		t.Fatalf("reasons %+v", stopped)
	}
	if later := stopped.Settle(t0.Add(5*time.Second), d); later.State != StateStopped {
		t.Fatalf("stopping after the delay: %s", later.State)
	}
}

func TestStart(t *testing.T) {
	d := Delays{Pending: 5 * time.Second}
	stopped := Life{State: StateStopped, Since: t0, Booted: true, TransitionReason: "x", Reason: shutdownReason}
	got, ch, err := stopped.Start("i-1", t0, d)
	if err != nil || got.State != StatePending || ch != (Change{StateStopped, StatePending}) || got.Reason != nil || got.TransitionReason != "" {
		t.Fatalf("start: %+v %+v %v", got, ch, err)
	}
	if got.Settle(t0.Add(5*time.Second), d).State != StateRunning {
		t.Fatal("not running after the delay")
	}
	if got, ch, _ := stopped.Start("i-1", t0, Delays{}); got.State != StateRunning || ch.Current != StatePending {
		t.Fatalf("no delay: %+v %+v", got, ch)
	}
	for _, s := range []string{StatePending, StateRunning} {
		if _, ch, err := (Life{State: s}).Start("i-1", t0, d); err != nil || ch != (Change{s, s}) {
			t.Errorf("%s: %+v %v", s, ch, err)
		}
	}
	for _, s := range []string{StateStopping, StateShuttingDown, StateTerminated} {
		_, _, err := (Life{State: s}).Start("i-1", t0, d)
		var ae *awserr.Error
		if !asErr(err, &ae) || ae.Message != "The instance 'i-1' is not in a state from which it can be started." {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestReboot(t *testing.T) {
	for _, s := range states {
		err := (Life{State: s}).Reboot("i-1")
		ok := s == StateRunning || s == StateTerminated
		if (err == nil) != ok {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestTerminate(t *testing.T) {
	tests := []struct{ from, shown string }{
		{StateRunning, StateShuttingDown}, {StatePending, StateShuttingDown}, {StateStopping, StateShuttingDown},
		{StateStopped, StateTerminated}, {StateTerminated, StateTerminated},
	}
	for _, tt := range tests {
		got, ch := (Life{State: tt.from}).Terminate(t0)
		if got.State != StateTerminated || ch != (Change{tt.from, tt.shown}) {
			t.Errorf("%s: %+v %+v", tt.from, got, ch)
		}
	}
}

func TestChecks(t *testing.T) {
	running := Life{State: StateRunning, Since: t0}
	if s, r := running.Checks(t0.Add(time.Second), 10*time.Second); s != StatusInitializing || r != StatusInitializing {
		t.Fatalf("early: %s %s", s, r)
	}
	if s, r := running.Checks(t0.Add(10*time.Second), 10*time.Second); s != StatusOK || r != DetailPassed {
		t.Fatalf("later: %s %s", s, r)
	}
	if s, r := (Life{State: StateStopped}).Checks(t0, 0); s != StatusNotApplicable || r != "" {
		t.Fatalf("stopped: %s %s", s, r)
	}
}
