// Package throttle applies EC2's request throttling (spec around-images §5):
// token buckets per account, Region and action, sized by the action's
// category. A Limiter lives in one process; processes sharing a PostgreSQL
// store each keep their own buckets.
package throttle

import (
	"strings"
	"sync"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// A Bucket is a capacity and a refill rate in tokens per second.
type Bucket struct {
	Capacity float64
	Refill   float64
}

// The categories of spec §5.2.
var (
	NonMutating   = Bucket{100, 20}
	Unfiltered    = Bucket{50, 10} // unfiltered and unpaginated Describe* of listed kinds
	Mutating      = Bucket{50, 5}
	ResourceHeavy = Bucket{50, 5}
)

// uncategorized are the actions with numbers of their own (§5.2).
var uncategorized = map[string]Bucket{
	"CopyImage":                        {100, 1},
	"CreateRestoreImageTask":           {50, 0.1},
	"CreateStoreImageTask":             {50, 0.1},
	"DescribeStoreImageTasks":          {50, 0.5},
	"DeregisterImage":                  {100, 5},
	"ModifyImageAttribute":             {100, 5},
	"EnableImageBlockPublicAccess":     {1, 0.1},
	"DisableImageBlockPublicAccess":    {1, 0.1},
	"EnableSnapshotBlockPublicAccess":  {1, 0.1},
	"DisableSnapshotBlockPublicAccess": {1, 0.1},
	"CreateTags":                       {100, 10},
	"DeleteTags":                       {100, 10},
	"CreateSnapshot":                   {100, 5},
	"DeleteSnapshot":                   {100, 5},
	"ModifySnapshotAttribute":          {100, 5},
	"CreateVolume":                     {100, 5},
	"DeleteVolume":                     {100, 5},
	"RunInstances":                     {5, 2},
	"StartInstances":                   {5, 2},
	"TerminateInstances":               {100, 5},
	"AcceptVpcPeeringConnection":       ResourceHeavy,
	"AuthorizeSecurityGroupIngress":    ResourceHeavy,
	"CancelSpotInstanceRequests":       ResourceHeavy,
	"CreateKeyPair":                    ResourceHeavy,
	"CreateVpcPeeringConnection":       ResourceHeavy,
	"DeleteVpcPeeringConnection":       ResourceHeavy,
	"RejectVpcPeeringConnection":       ResourceHeavy,
	"RevokeSecurityGroupIngress":       ResourceHeavy,
	"RequestSpotInstances":             ResourceHeavy,
}

// resourceRate are the instance actions' second buckets, counting
// instances rather than calls (§5.1, §5.2).
var resourceRate = map[string]Bucket{
	"RunInstances":       {1000, 2},
	"StartInstances":     {1000, 2},
	"StopInstances":      {1000, 20},
	"TerminateInstances": {1000, 20},
}

// EC2Resources returns EC2's resource-rate bucket of action, if it has one.
func EC2Resources(action string) (Bucket, bool) {
	b, ok := resourceRate[action]
	return b, ok
}

// unfilteredKinds take the smaller bucket when called with neither filters
// nor pagination.
var unfilteredKinds = map[string]bool{
	"DescribeInstances": true, "DescribeInstanceStatus": true, "DescribeNetworkInterfaces": true,
	"DescribeSecurityGroups": true, "DescribeSnapshots": true, "DescribeSpotInstanceRequests": true,
	"DescribeVolumes": true,
}

// LookupEvents names CloudTrail's LookupEvents in a Limiter: its own
// bucket per account and Region, apart from every EC2 action's.
const LookupEvents = "cloudtrail:LookupEvents"

// LookupEventsBucket is CloudTrail's documented rate for LookupEvents:
// "two per second, per account, per Region" (CloudTrail API Reference,
// LookupEvents; spec around-images §6.7). A burst of two, then two a second.
var LookupEventsBucket = Bucket{2, 2}

// EC2 returns EC2's bucket for action (and LookupEvents' for LookupEvents); plain says the call has neither
// filters nor pagination (it matters only for the listed Describe* kinds).
func EC2(action string, plain bool) Bucket {
	if action == LookupEvents {
		return LookupEventsBucket
	}
	if b, ok := uncategorized[action]; ok {
		return b
	}
	if plain && unfilteredKinds[action] {
		return Unfiltered
	}
	for _, p := range []string{"Describe", "List", "Search", "Get"} {
		if strings.HasPrefix(action, p) {
			return NonMutating
		}
	}
	return Mutating
}

// Options tune a Limiter.
type Options struct {
	// Buckets sizes an action's bucket; nil is EC2's table. Tests pass a
	// small one so a burst past it is quick.
	Buckets func(action string, plain bool) Bucket
	// Resources sizes an action's resource-rate bucket, if it has one;
	// nil is EC2's table.
	Resources func(action string) (Bucket, bool)
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Limiter holds the buckets of one process.
type Limiter struct {
	buckets   func(string, bool) Bucket
	resources func(string) (Bucket, bool)
	now       func() time.Time

	mu    sync.Mutex
	state map[key]*level
}

// key names one bucket. The smaller bucket of a plain Describe* is its own
// (EC2 meters the two kinds of call apart), and so is an action's
// resource-rate bucket.
type key struct {
	account, region, action string
	plain, resources        bool
}

type level struct {
	tokens float64
	at     time.Time
}

// New returns a Limiter with every bucket full.
func New(opts Options) *Limiter {
	l := &Limiter{buckets: opts.Buckets, resources: opts.Resources, now: opts.Now, state: map[key]*level{}}
	if l.buckets == nil {
		l.buckets = EC2
	}
	if l.resources == nil {
		l.resources = EC2Resources
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// Allow takes a token from the bucket of (account, region, action), and
// for the instance actions one per instance (n) from its resource-rate
// bucket; it returns RequestLimitExceeded, taking nothing, when either is
// short. Buckets are created on first use: accounts are the directory's
// (the caller is authenticated), regions the served ones and actions the
// known ones, so the map is bounded.
func (l *Limiter) Allow(account, region, action string, plain bool, n int) error {
	b := l.buckets(action, plain)
	plain = plain && b == Unfiltered
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	calls := l.level(key{account, region, action, plain, false}, b, now)
	if calls.tokens < 1 {
		return ErrLimited()
	}
	if rb, ok := l.resources(action); ok && n > 0 {
		res := l.level(key{account, region, action, false, true}, rb, now)
		if res.tokens < float64(n) {
			return ErrLimited()
		}
		res.tokens -= float64(n)
	}
	calls.tokens--
	return nil
}

// AllowLookup takes a token from LookupEvents' bucket of (account,
// region); it returns CloudTrail's ThrottlingException, taking nothing,
// when the bucket is empty.
func (l *Limiter) AllowLookup(account, region string) error {
	if err := l.Allow(account, region, LookupEvents, false, 0); err != nil {
		return ErrLookupLimited()
	}
	return nil
}

// ErrLookupLimited is CloudTrail's answer to a throttled LookupEvents: the
// code of CloudTrail's model and the text JSON services send with it
// (spec around-images §6.7, Appendix).
func ErrLookupLimited() *awserr.Error {
	return awserr.CloudTrail.New(awserr.CodeThrottlingException, "Rate exceeded")
}

// level returns the bucket of k, refilled up to now; l.mu is held.
func (l *Limiter) level(k key, b Bucket, now time.Time) *level {
	lv := l.state[k]
	if lv == nil {
		lv = &level{tokens: b.Capacity, at: now}
		l.state[k] = lv
	}
	// Refill continuously: fractional tokens, capped at capacity.
	if d := now.Sub(lv.at); d > 0 {
		lv.tokens = min(b.Capacity, lv.tokens+d.Seconds()*b.Refill)
		lv.at = now
	}
	return lv
}

// ErrLimited is EC2's answer to a throttled call (spec §5.4).
func ErrLimited() *awserr.Error {
	return awserr.New(awserr.CodeRequestLimitExceeded, "Request limit exceeded.")
}
