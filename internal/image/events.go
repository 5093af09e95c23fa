package image

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/amigo-ec2/amigo/internal/outbox"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// TopicStateChange is the outbox topic of EventBridge's "EC2 AMI State
// Change" events (spec around-images §7).
const TopicStateChange = "ec2-ami-state-change"

// StateChangeEvent is the event, field for field as EventBridge sends it
// (§7.1).
type StateChangeEvent struct {
	Version    string            `json:"version"`
	ID         string            `json:"id"`
	DetailType string            `json:"detail-type"`
	Source     string            `json:"source"`
	Account    string            `json:"account"`
	Time       string            `json:"time"`
	Region     string            `json:"region"`
	Resources  []string          `json:"resources"`
	Detail     StateChangeDetail `json:"detail"`
}

// StateChangeDetail is the event's detail.
type StateChangeDetail struct {
	RequestID    string `json:"RequestId"`
	ImageID      string `json:"ImageId"`
	State        string `json:"State"`
	ErrorMessage string `json:"ErrorMessage"`
}

// emit writes, in tx (when Options.Events is on), the state change event of img reaching state at
// at: now for the changes an action makes, later for the ones that
// happen by time. Only the transitions of §7.2 call it: available,
// failed, deregistered and disabled. An image created pending has its
// event (available or failed) written at creation, due when the image
// settles, so the transition needs no writer when it happens; a later
// change of the image (DeregisterImage) drops it, as the outbox does for
// any message due after a newer one of the same key.
func (s *Service) emit(ctx context.Context, tx Tx, img *Image, state string, at time.Time) error {
	return s.emitAfter(ctx, tx, img, state, at, false)
}

// emitAfter is emit; wasPending says img was pending before this change,
// so the event planned for the end of pending must be dropped.
func (s *Service) emitAfter(ctx context.Context, tx Tx, img *Image, state string, at time.Time, wasPending bool) error {
	if !s.opts.Events {
		return nil
	}
	ev := StateChangeEvent{
		Version:    "0",
		ID:         uuid.NewString(),
		DetailType: "EC2 AMI State Change",
		Source:     "aws.ec2",
		Account:    img.OwnerID,
		Time:       at.UTC().Format(time.RFC3339),
		Region:     img.Region,
		Resources:  []string{resource.ImageARN(img.Region, img.ID)},
		Detail:     StateChangeDetail{RequestID: resource.RequestID(ctx), ImageID: img.ID, State: state},
	}
	if state == StateFailed && img.StateReason != nil {
		ev.Detail.ErrorMessage = img.StateReason.Message
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return tx.Enqueue(ctx, outbox.Message{ID: ev.ID, Topic: TopicStateChange, Key: img.Region + "/" + img.ID,
		NotBefore: at, Created: at, Body: body, Supersedes: wasPending})
}

// emitCreated writes the event of a new image: available now, or the
// available or failed it reaches when its pending time is over.
func (s *Service) emitCreated(ctx context.Context, tx Tx, img *Image) error {
	switch {
	case img.State == StateAvailable:
		return s.emit(ctx, tx, img, StateAvailable, s.now())
	case img.State == StatePending && img.AvailableAt != nil:
		settled := *img
		settled.Settle(*img.AvailableAt)
		return s.emit(ctx, tx, &settled, settled.State, *img.AvailableAt)
	}
	return nil
}
