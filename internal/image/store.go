package image

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// ErrNotFound is returned (itself, unwrapped) by Tx methods when a record
// does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned (itself, unwrapped) by Insert methods when a record
// with that key already exists.
var ErrExists = errors.New("already exists")

// Store is the durable home of images, launch permissions and tags. Two
// engines implement it (sqlite, postgres); storetest holds the conformance
// suite both must pass.
type Store interface {
	// View runs fn in a read-only transaction with a consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction and returns once the
	// change is durable. Concurrent updates are serialisable: an update
	// that reads an image and writes it back never loses a concurrent
	// writer's change. fn may run more than once (group commit retries a
	// failed batch one function at a time), so it must have no effect
	// outside tx. When fn returns an error, nothing it wrote is kept and
	// that error is returned unchanged.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close flushes and closes the store.
	Close() error
}

// Tx is one transaction. Every method is scoped to a region, because images
// are regional. Methods return ErrNotFound (only) when asked for one record
// that is absent. Engines keep times to the millisecond, keep launch
// permissions in the order they were stored, and refuse writes inside View.
//
// Engines store what they are given; the rules about what is valid live in
// this package, once. In particular callers pass sets as lists without
// repeats: an image's launch permissions are distinct (ModifyImageAttribute
// drops repeated entries) and the tags of one resource have distinct keys
// (mergeTags keeps a repeated key's last value). An engine may refuse a
// repeat with an error, but need not detect it.
type Tx interface {
	// Image returns the image with this id, deregistered or not.
	Image(ctx context.Context, region, id string) (*Image, error)
	// InsertImage stores a new image with its launch permissions, which
	// are distinct (no entry twice).
	InsertImage(ctx context.Context, img *Image) error
	// UpdateImage replaces an existing image and its launch permissions,
	// which are distinct. Returns ErrNotFound when it does not exist.
	UpdateImage(ctx context.Context, img *Image) error
	// DeleteImage removes an image, its launch permissions and every
	// account's tags on it. Returns ErrNotFound when it does not exist.
	DeleteImage(ctx context.Context, region, id string) error
	// ImageIDByName returns the id of the owner's image with this name that
	// is not deregistered, or "" when there is none.
	ImageIDByName(ctx context.Context, region, owner, name string) (string, error)
	// FindImages returns the images matching q, ordered by id ascending.
	// The images may be shared with other readers (an engine's cache) and
	// must not be changed: copy first (Image.Clone, or a struct copy for
	// top-level fields). Image returns an image the caller may change.
	FindImages(ctx context.Context, q Query) ([]*Image, error)

	// Tags returns account's tags on each of the resources, by resource id;
	// resources without tags are absent from the map. Tags are sorted by key.
	// The lists may be shared with other readers and must not be changed.
	Tags(ctx context.Context, region, account string, resourceIDs []string) (map[string][]Tag, error)
	// SetTags replaces account's tags on one resource (an empty list removes
	// them all). The keys are distinct.
	SetTags(ctx context.Context, region, account, resourceID string, tags []Tag) error

	// Setting returns one per-account, per-region setting (block public
	// access, allowed AMIs…) or ErrNotFound when it was never set.
	Setting(ctx context.Context, region, account, name string) (string, error)
	// SetSetting stores a setting, replacing any earlier value.
	SetSetting(ctx context.Context, region, account, name, value string) error
	// Settings lists every setting of every account and region (export).
	Settings(ctx context.Context) ([]Setting, error)

	// ListTags returns the tags matching q (DescribeTags, export).
	ListTags(ctx context.Context, q TagQuery) ([]ResourceTag, error)

	// Instance returns one instance.
	Instance(ctx context.Context, region, id string) (*Instance, error)
	// InsertInstance stores a new instance.
	InsertInstance(ctx context.Context, inst *Instance) error
	// UpdateInstance replaces an existing instance; ErrNotFound if absent.
	UpdateInstance(ctx context.Context, inst *Instance) error
	// FindInstances returns the instances matching q, ordered by id.
	FindInstances(ctx context.Context, q InstanceQuery) ([]*Instance, error)
}

// Query selects candidate images through indexes. The image package applies
// the remaining EC2 semantics (filters, deprecation, disabled) itself; every
// field below narrows the result and the zero value does not narrow.
type Query struct {
	// Region "" means every region (export only).
	Region string
	// IDs: only these image ids.
	IDs []string
	// OwnerIDs and OwnerAliases: owner id in OwnerIDs OR alias in
	// OwnerAliases (when either is non-empty).
	OwnerIDs     []string
	OwnerAliases []string
	// VisibleTo: only images the viewer may see, by Image.VisibleTo.
	VisibleTo *Viewer
	// GrantedAny: only images whose launch permissions contain at least one
	// of these entries exactly (ExecutableBy).
	GrantedAny []LaunchPermission
	// Name: only images with exactly this name; NamePrefix: names starting
	// with this prefix.
	Name       string
	NamePrefix string
	// IncludeDeregistered keeps images with State deregistered; otherwise
	// they are left out.
	IncludeDeregistered bool
	// AfterID: only ids greater than this (pagination). Limit: at most this
	// many (0 = no limit).
	AfterID string
	Limit   int
}

// Matches reports whether img satisfies every field of q: the meaning of a
// Query in Go, for engines that answer part of one from memory.
func (q *Query) Matches(img *Image) bool {
	if q.Region != "" && img.Region != q.Region {
		return false
	}
	if len(q.IDs) > 0 && !slices.Contains(q.IDs, img.ID) {
		return false
	}
	if len(q.OwnerIDs) > 0 || len(q.OwnerAliases) > 0 {
		if !slices.Contains(q.OwnerIDs, img.OwnerID) && !(img.OwnerAlias != "" && slices.Contains(q.OwnerAliases, img.OwnerAlias)) {
			return false
		}
	}
	if q.VisibleTo != nil && !img.VisibleTo(*q.VisibleTo) {
		return false
	}
	if len(q.GrantedAny) > 0 && !slices.ContainsFunc(img.LaunchPermissions, func(p LaunchPermission) bool {
		return slices.Contains(q.GrantedAny, p)
	}) {
		return false
	}
	if q.Name != "" && img.Name != q.Name {
		return false
	}
	if q.NamePrefix != "" && !strings.HasPrefix(img.Name, q.NamePrefix) {
		return false
	}
	if !q.IncludeDeregistered && img.State == StateDeregistered {
		return false
	}
	return q.AfterID == "" || img.ID > q.AfterID
}
