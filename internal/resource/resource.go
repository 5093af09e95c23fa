// Package resource holds what every kind of EC2 resource amigo keeps
// (images, instances, and the kinds to come) shares: who is asking (Caller),
// ids and ARNs, per-account tags, the filter compiler, the clock, the
// listing pipeline (MaxResults, sealed NextToken, over-fetch) and the part
// of a store transaction every kind uses (tags, settings). It knows no
// kind: image, instance and their siblings import it, never the reverse.
package resource

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Viewer is the account asking, with the organization and OUs it sits in:
// everything visibility needs to know about a caller.
type Viewer struct {
	Account string
	// OrgARN is the ARN of the caller's organization, or "".
	OrgARN string
	// OUARNs are the ARNs of every OU above the caller, nearest last.
	OUARNs []string
}

// Caller is who is asking, in which region, under which policy.
type Caller struct {
	Viewer
	Region string
	// Authorize applies the access key's IAM policy to an action
	// ("ec2:ModifyImageAttribute") on a resource ARN: nil when allowed,
	// else the UnauthorizedOperation to return, which names the principal
	// (internal/iam Denial). A nil Authorize allows everything.
	Authorize func(action, resource string) error
}

// Authorize applies the caller's IAM policy to an action on a resource
// ARN ("*" for actions on no resource). Every action calls it once the
// request is known to be well formed and before any resource is looked at
// (spec §2.1.4 step 4), so DryRun answers come from the same decision.
func Authorize(c Caller, action, resource string) error {
	if c.Authorize != nil {
		return c.Authorize("ec2:"+action, resource)
	}
	return nil
}

// ErrNotFound is returned (itself, unwrapped) by Tx methods when a record
// does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned (itself, unwrapped) by Insert methods when a record
// with that key already exists.
var ErrExists = errors.New("already exists")

// Tx is the part of a store transaction every kind uses: the accounts'
// tags and settings. Each kind's Tx embeds it (image.Tx, instance.Tx).
type Tx interface {
	// Tags returns account's tags on each of the resources, by resource id;
	// resources without tags are absent from the map. Tags are sorted by key.
	// The lists may be shared with other readers and must not be changed.
	Tags(ctx context.Context, region, account string, resourceIDs []string) (map[string][]Tag, error)
	// SetTags replaces account's tags on one resource (an empty list removes
	// them all). The keys are distinct: the domain merges repeated keys
	// (MergeTags, last value wins) before it calls, so engines store the
	// list as given.
	SetTags(ctx context.Context, region, account, resourceID string, tags []Tag) error
	// ListTags returns the tags matching q (DescribeTags, export).
	ListTags(ctx context.Context, q TagQuery) ([]ResourceTag, error)

	// Setting returns one per-account, per-region setting (block public
	// access, allowed AMIs…) or ErrNotFound when it was never set.
	Setting(ctx context.Context, region, account, name string) (string, error)
	// SetSetting stores a setting, replacing any earlier value.
	SetSetting(ctx context.Context, region, account, name, value string) error
	// Settings lists every setting of every account and region (export).
	Settings(ctx context.Context) ([]Setting, error)
}

// Setting is one per-account, per-region setting.
type Setting struct {
	Region  string
	Account string
	Name    string
	Value   string
}

// Clock tells a service the time; tests inject a fixed or offset one.
// The zero Clock is the system's.
type Clock func() time.Time

// Now is the time in UTC.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now().UTC()
	}
	return c().UTC()
}

// CheckEnum refuses a value outside an enumerated parameter's allowed
// values ("" means the parameter was not given).
func CheckEnum(param, value string, allowed []string) error {
	if value != "" && !slices.Contains(allowed, value) {
		return awserr.InvalidParameterValue("Value (%s) for parameter %s is invalid. Valid values: %s", value, param, strings.Join(allowed, ", "))
	}
	return nil
}
