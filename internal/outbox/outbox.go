// Package outbox is the durable queue of messages amigo sends out of the
// process: rows written in the same store transaction as the change they
// tell of (so an acknowledged change always has its message, and a failed
// one never does), then delivered by a background Deliverer, at least once
// and in order per key. The first topic is EventBridge's "EC2 AMI State
// Change" (image.TopicStateChange); other writers (an audit trail) can sit
// beside it under topics of their own.
//
// The package holds the message, the store contract both engines implement
// (storetest checks it) and the deliverer; it knows nothing of images.
package outbox

import (
	"context"
	"time"
)

// Message is one outbox row.
type Message struct {
	// ID is unique and stable across retries: the receiver's
	// de-duplication key (the event's id).
	ID string
	// Topic says which deliverer takes the message.
	Topic string
	// Key orders delivery: messages of one topic and key go out one at a
	// time, in the order they were written (an image's region and id).
	Key string
	// NotBefore is when the message becomes due: the time of the change,
	// or, for a change that happens by time alone (an image that becomes
	// available after --pending-delay), the time it happens.
	NotBefore time.Time
	// Supersedes drops, when the message is stored, the undelivered
	// messages of its topic and key that are due after NotBefore and were
	// never attempted: a change now means a transition planned for later
	// (an image's pending → available) will not happen, so its message
	// must not go out. Writers set it only when such a plan may exist,
	// which spares the common write a look-up.
	Supersedes bool
	// Created is the time of the change the message tells of (NotBefore
	// as first written); a message undelivered Options.MaxAge after it is
	// given up.
	Created time.Time
	Body    []byte

	// Set by the store on the messages Claim returns.
	Seq      int64 // the order of writing
	Attempts int   // failed deliveries so far
}

// Writer is what a store transaction offers the domain (image.Tx embeds
// it): Enqueue writes m in the transaction, so it is kept exactly when the
// transaction commits.
type Writer interface {
	// Enqueue stores m (Seq and Attempts are assigned by the store),
	// first dropping what m.Supersedes.
	Enqueue(ctx context.Context, m Message) error
}

// Store is the deliverer's side of the outbox, outside any domain
// transaction. Engines keep times to the millisecond.
type Store interface {
	// Claim returns up to limit messages of topic that are due at now,
	// oldest due first, and leases them until now+lease: each is the
	// first undelivered message of its key, and no Claim (in any process
	// sharing the store) returns it again before the lease ends or Retry
	// gives it back. So one process delivers each message at a time, and
	// a key's next message waits for the one before it.
	Claim(ctx context.Context, topic string, now time.Time, lease time.Duration, limit int) ([]Message, error)
	// Done removes delivered (or given up) messages.
	Done(ctx context.Context, seqs []int64) error
	// Retry ends the lease of message seq, counts a failed attempt and
	// makes it due again at next.
	Retry(ctx context.Context, seq int64, next time.Time) error
	// Backlog counts the undelivered messages of topic, due or not.
	Backlog(ctx context.Context, topic string) (int, error)
}

// Lister is the export's view of the outbox from inside a store
// transaction, so the messages it lists are those of the state the same
// transaction reads: no event of a change the export does not hold, none
// missing for one it does.
type Lister interface {
	// PendingMessages returns up to limit undelivered messages of every
	// topic whose Seq is after afterSeq, in Seq order (the order of
	// writing), with their Attempts; a lease is no part of a message.
	PendingMessages(ctx context.Context, afterSeq int64, limit int) ([]Message, error)
}
