package image

import (
	"context"
	"slices"
	"strings"

	"github.com/amigo-ec2/amigo/internal/outbox"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

// Store is the durable home of images, launch permissions, tags and
// settings. Two engines implement it (sqlite, postgres); storetest holds
// the conformance suite both must pass.
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
// are regional. Methods return resource.ErrNotFound (only) when asked for
// one record that is absent. Engines keep times to the millisecond, keep
// launch permissions in the order they were stored, and refuse writes
// inside View. The domain hands engines valid records: an image's launch
// permissions never repeat an entry and a tag list never repeats a key, so
// engines store what they are given without checking either.
type Tx interface {
	resource.Tx
	// Enqueue writes an outbox message (a state change event) in the
	// transaction, so it exists exactly when the change does.
	outbox.Writer
	// Snapshots, which image actions check, make and delete (the ties of
	// spec ec2-snapshots §6). Image writes keep the engines' index of the
	// snapshot ids live images name (snapshot.Tx.ImageUsingSnapshot).
	snapshot.Tx

	// Image returns the image with this id, deregistered or not.
	Image(ctx context.Context, region, id string) (*Image, error)
	// InsertImage stores a new image with its launch permissions.
	InsertImage(ctx context.Context, img *Image) error
	// UpdateImage replaces an existing image and its launch permissions.
	// Returns ErrNotFound when it does not exist.
	UpdateImage(ctx context.Context, img *Image) error
	// DeleteImage removes an image, its launch permissions and every
	// account's tags on it. Returns ErrNotFound when it does not exist.
	DeleteImage(ctx context.Context, region, id string) error
	// ImageIDByName returns the id of the owner's image with this name that
	// is not deregistered, or "" when there is none.
	ImageIDByName(ctx context.Context, region, owner, name string) (string, error)
	// CountImages returns how many of owner's images in region are not
	// deregistered (the image quota's count), from an index.
	CountImages(ctx context.Context, region, owner string) (int, error)
	// FindImages returns the images matching q, ordered by id ascending.
	// The images may be shared with other readers (an engine's cache) and
	// must not be changed: copy first (Image.Clone, or a struct copy for
	// top-level fields). Image returns an image the caller may change.
	FindImages(ctx context.Context, q Query) ([]*Image, error)
	// ImageIDAfter returns the id n places after the id after (or after
	// the start, for "") in region's id order, counting every image,
	// deregistered or not; "" when fewer than n follow. It walks the
	// primary key alone, so its cost is n index entries: a long listing
	// uses it to cut the id space into ranges (Query.ThroughID) whose
	// reads stay short however sparse its matches are.
	ImageIDAfter(ctx context.Context, region, after string, n int) (string, error)
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
	VisibleTo *resource.Viewer
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
	// ThroughID: only ids up to and including this one ("" = no bound).
	// With AfterID it makes a range that engines apply inside their
	// index searches too, so a batch of a long listing reads only its
	// range.
	ThroughID string
	// Bulk marks one batch of a long listing: an engine with a read cache
	// may serve it from the cache but does not fill the cache with it,
	// which would evict the hot set for images unlikely to be asked again.
	Bulk bool
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
	if q.ThroughID != "" && img.ID > q.ThroughID {
		return false
	}
	return q.AfterID == "" || img.ID > q.AfterID
}
