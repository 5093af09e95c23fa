package instance

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// StopInstances, StartInstances and RebootInstances (spec §3.4–3.7): the
// state machine of states.go applied to several instances at once, all or
// nothing, answers in request order.

// StopRequest is StopInstances' input.
type StopRequest struct {
	InstanceIDs []string
	// Force and SkipOsShutdown end the stopping delay at once.
	Force, SkipOsShutdown bool
	Hibernate             bool
	DryRun                bool
}

// StopInstances stops the caller's instances: running ones go through
// stopping to stopped; stopping and stopped ones answer their state.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// IncorrectInstanceState, OperationNotPermitted (disableApiStop),
// UnsupportedOperation (instance-store root),
// UnsupportedHibernationConfiguration, UnauthorizedOperation and
// DryRunOperation.
func (s *Service) StopInstances(ctx context.Context, c resource.Caller, r *StopRequest) ([]StateChange, error) {
	force := r.Force || r.SkipOsShutdown
	return s.changeStates(ctx, c, "StopInstances", r.InstanceIDs, r.DryRun, func(inst *Instance) (Life, Change, error) {
		if inst.RootDeviceType == "instance-store" {
			return Life{}, Change{}, awserr.Newf(awserr.CodeUnsupportedOperation, "The instance '%s' does not have an 'ebs' root device type and cannot be stopped.", inst.ID)
		}
		if inst.DisableAPIStop && inst.State == StateRunning {
			return Life{}, Change{}, awserr.Newf(awserr.CodeOperationNotPermitted, "The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", inst.ID)
		}
		if r.Hibernate && !inst.Hibernation {
			return Life{}, Change{}, awserr.Newf(awserr.CodeUnsupportedHibernation, "The instance can't be hibernated because it was not configured at launch for hibernation: %s", inst.ID)
		}
		return inst.life().Stop(inst.ID, s.now(), s.opts.Delays, force)
	})
}

// StartInstances starts the caller's stopped instances: pending, then
// running after the pending delay; pending and running ones answer their
// state.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// IncorrectInstanceState, UnauthorizedOperation and DryRunOperation.
func (s *Service) StartInstances(ctx context.Context, c resource.Caller, ids []string, dryRun bool) ([]StateChange, error) {
	return s.changeStates(ctx, c, "StartInstances", ids, dryRun, func(inst *Instance) (Life, Change, error) {
		return inst.life().Start(inst.ID, s.now(), s.opts.Delays)
	})
}

// RebootInstances reboots the caller's running instances; they stay
// running. Terminated instances are ignored.
//
// Returns MissingParameter, InvalidInstanceID.Malformed / .NotFound,
// IncorrectInstanceState, UnauthorizedOperation and DryRunOperation.
func (s *Service) RebootInstances(ctx context.Context, c resource.Caller, ids []string, dryRun bool) error {
	_, err := s.changeStates(ctx, c, "RebootInstances", ids, dryRun, func(inst *Instance) (Life, Change, error) {
		l := inst.life()
		return l, Change{Previous: l.State, Current: l.State}, l.Reboot(inst.ID)
	})
	return err
}

// changeStates is what the three actions share: check and authorize the
// ids, then in one transaction find every instance (NotFound names all the
// missing ones), answer DryRun, apply change to each — the first refusal
// fails the call and changes nothing — and store the instances whose state
// moved.
func (s *Service) changeStates(ctx context.Context, c resource.Caller, action string, ids []string, dryRun bool,
	change func(*Instance) (Life, Change, error)) ([]StateChange, error) {
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
		if err := resource.Authorize(c, action, resource.InstanceARN(c.Region, c.Account, id)); err != nil {
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
		if dryRun {
			return awserr.DryRunOK()
		}
		lives := make([]Life, len(insts))
		for i, inst := range insts {
			l, ch, err := change(inst)
			if err != nil {
				return err
			}
			lives[i] = l
			out = append(out, StateChange{InstanceID: inst.ID, Previous: ch.Previous, Curr: ch.Current})
		}
		for i, inst := range insts {
			if lives[i] == inst.life() {
				continue
			}
			inst.setLife(lives[i])
			if err := tx.UpdateInstance(ctx, inst); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
