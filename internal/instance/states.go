package instance

import (
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// The instance state machine (spec §3.1, §3.4–3.6) as pure functions over
// Life, the part of an instance that says where it is in it. Transitional
// states (pending, stopping) end by time: the moment a state began is kept,
// and reads settle an instance whose delay has passed, so a restart loses
// nothing and no timer runs.

// Delays are how long the transitional states last; zero settles at once.
type Delays struct {
	Pending  time.Duration // pending → running, after launch and start
	Stopping time.Duration // stopping → stopped
}

// StateReason is InstanceStateReason: why the instance is in its state.
type StateReason struct {
	Code    string
	Message string
}

// Life is an instance's place in the state machine.
type Life struct {
	State string
	// Since is when State began; for running, when the instance got there.
	Since time.Time
	// Booted is set once the instance has been running: EC2 refuses to stop
	// an instance that never reached running.
	Booted bool
	// TransitionReason is StateTransitionReason; Reason is StateReason
	// (nil when there is none).
	TransitionReason string
	Reason           *StateReason
}

// Change is one InstanceStateChange of StopInstances, StartInstances or
// TerminateInstances: the state before and the one the answer shows.
type Change struct {
	Previous, Current string
}

// Launched is the Life of an instance RunInstances just started.
func Launched(now time.Time, d Delays) Life {
	l := Life{State: StatePending, Since: now}
	return l.Settle(now, d)
}

// Settle moves a transitional state on when its delay has passed; the new
// state begins at the moment the old one ended.
func (l Life) Settle(now time.Time, d Delays) Life {
	switch l.State {
	case StatePending:
		if due := l.Since.Add(d.Pending); !now.Before(due) {
			l.State, l.Since, l.Booted = StateRunning, due, true
		}
	case StateStopping:
		if due := l.Since.Add(d.Stopping); !now.Before(due) {
			l.State, l.Since = StateStopped, due
		}
	}
	return l
}

// userInitiated is the StateTransitionReason of a change the user asked for.
func userInitiated(now time.Time) string {
	return "User initiated (" + now.UTC().Format("2006-01-02 15:04:05") + " GMT)"
}

var shutdownReason = &StateReason{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}

// Stop is StopInstances for one settled instance: running goes to stopping
// (stopped at once with force, or when there is no delay); stopping and
// stopped answer their own state (force ends a stop in progress).
//
// Returns IncorrectInstanceState for an instance that is pending, shutting
// down or terminated.
func (l Life) Stop(id string, now time.Time, d Delays, force bool) (Life, Change, error) {
	ch := Change{Previous: l.State, Current: l.State}
	switch l.State {
	case StateRunning:
		ch.Current = StateStopping
		l.State, l.Since = StateStopping, now
		l.TransitionReason, l.Reason = userInitiated(now), shutdownReason
		if force {
			l.State = StateStopped
		}
		return l.Settle(now, d), ch, nil
	case StateStopping:
		if force {
			l.State, l.Since = StateStopped, now
		}
		return l, ch, nil
	case StateStopped:
		return l, ch, nil
	case StatePending:
		if !l.Booted {
			return l, ch, awserr.Newf(awserr.CodeIncorrectInstanceState, "Instance '%s' cannot be stopped as it has never reached the 'running' state.", id)
		}
	}
	return l, ch, awserr.Newf(awserr.CodeIncorrectInstanceState, "This instance '%s' is not in a state from which it can be stopped.", id)
}

// Start is StartInstances for one settled instance: stopped goes to
// pending, then running after the pending delay; pending and running
// answer their own state.
//
// Returns IncorrectInstanceState for an instance that is stopping, shutting
// down or terminated.
func (l Life) Start(id string, now time.Time, d Delays) (Life, Change, error) {
	ch := Change{Previous: l.State, Current: l.State}
	switch l.State {
	case StateStopped:
		ch.Current = StatePending
		l.State, l.Since = StatePending, now
		l.TransitionReason, l.Reason = "", nil
		return l.Settle(now, d), ch, nil
	case StatePending, StateRunning:
		return l, ch, nil
	}
	return l, ch, awserr.Newf(awserr.CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be started.", id)
}

// Reboot is RebootInstances for one settled instance: a running instance
// stays running, a terminated one is ignored.
//
// Returns IncorrectInstanceState in the other states.
func (l Life) Reboot(id string) error {
	if l.State == StateRunning || l.State == StateTerminated {
		return nil
	}
	return awserr.Newf(awserr.CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be rebooted.", id)
}

// Terminate is TerminateInstances for one settled instance: it is
// terminated at once, and the answer shows shutting-down, as EC2's does,
// unless it was stopped (EC2 answers 80 → 48) or already terminated.
func (l Life) Terminate(now time.Time) (Life, Change) {
	ch := Change{Previous: l.State, Current: StateShuttingDown}
	switch l.State {
	case StateTerminated:
		ch.Current = StateTerminated
		return l, ch
	case StateStopped:
		ch.Current = StateTerminated
	}
	l.State, l.Since = StateTerminated, now
	l.TransitionReason, l.Reason = userInitiated(now), shutdownReason
	return l, ch
}

// Status values of DescribeInstanceStatus summaries and details.
const (
	StatusOK            = "ok"
	StatusInitializing  = "initializing"
	StatusNotApplicable = "not-applicable"
	DetailPassed        = "passed"
)

// Checks is the instance and system status DescribeInstanceStatus shows:
// initializing for checkDelay after the instance reached running, then ok
// with reachability passed; not-applicable (no detail) in other states.
func (l Life) Checks(now time.Time, checkDelay time.Duration) (summary, reachability string) {
	switch {
	case l.State != StateRunning:
		return StatusNotApplicable, ""
	case now.Before(l.Since.Add(checkDelay)):
		return StatusInitializing, StatusInitializing
	}
	return StatusOK, DetailPassed
}
