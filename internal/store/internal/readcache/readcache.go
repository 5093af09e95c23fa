// Package readcache is the read cache both store engines keep in front of
// their database: decoded images, snapshots with their permissions, each
// account's tags on a resource, and settings, in shards, each stamped with the number of the latest
// invalidation that touched it.
//
// The rule that keeps it exact is the same in both engines, and lives here:
// a reader notes Now before its snapshot is taken, and a value it read may
// enter the cache only if no invalidation since touched the value's shard
// (otherwise the value could predate that write and stay stale forever).
// What differs is who invalidates: the sqlite engine's writer, after each
// of its transactions, and the postgres engine's listener, on each
// notification of a commit from any process. Each engine's documentation
// says why that is every write.
//
// Lookups return the cached values themselves, which the image.Tx contract
// makes read-only; Frozen makes the copy the cache keeps safe against a
// caller that appends to a shared slice anyway.
package readcache

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

// Shards is how many independently locked parts the cache has.
const Shards = 64

// Key names a resource (an image, or the resource tags are on).
type Key struct{ Region, ID string }

// SettingKey names one setting of an account.
type SettingKey struct{ Region, Account, Name string }

// SettingVal is a setting as read: Found is false for "not set", which is
// cached too.
type SettingVal struct {
	Value string
	Found bool
}

// An Invalidation is one key a write touched: an image, every account's
// tags on a resource, or one setting.
type Invalidation struct {
	Res     Key
	Image   bool
	Snap    bool
	Tags    bool
	Setting *SettingKey
	// Version, when not 0, is the version of the image the write left:
	// an entry of exactly that version is what the write wrote, and stays.
	Version uint64
}

// Cache is the read cache. Its methods are safe for concurrent use.
type Cache struct {
	seq    atomic.Uint64 // last published invalidation number
	seed   maphash.Seed
	shards [Shards]shard
	// per-shard bounds
	maxImages, maxTagged, maxSettings int
}

type shard struct {
	mu sync.Mutex
	// dirty is the invalidation number of the latest invalidation in this
	// shard.
	dirty    uint64
	images   map[Key]entry
	snaps    map[Key]SnapEntry
	tags     map[Key]map[string][]resource.Tag // by account; an empty list is "no tags"
	settings map[SettingKey]SettingVal
	// hits and misses count lookups, under mu (per shard, so counting adds
	// no shared cache line to the read path); Stats sums them.
	hits, misses uint64
}

// New returns an empty cache for about maxImages images, and as many
// resources' tags.
func New(maxImages int) *Cache {
	c := &Cache{seed: maphash.MakeSeed()}
	per := max(maxImages/Shards, 1)
	c.maxImages, c.maxTagged, c.maxSettings = per, per, max(per/8, 16)
	for i := range c.shards {
		s := &c.shards[i]
		s.images = make(map[Key]entry)
		s.snaps = make(map[Key]SnapEntry)
		s.tags = make(map[Key]map[string][]resource.Tag)
		s.settings = make(map[SettingKey]SettingVal)
	}
	return c
}

// RoomFor reports whether n entries read together should be cached: not
// when they would fill more than half of it (scan resistance).
func (c *Cache) RoomFor(n int) bool {
	return n <= c.maxImages*Shards/2
}

func (c *Cache) shard(key string) *shard {
	return &c.shards[maphash.String(c.seed, key)%Shards]
}

// Now is the invalidation number a reader notes before its snapshot, to
// pass to the Put methods.
func (c *Cache) Now() uint64 { return c.seq.Load() }

// An entry is a cached image and the version its engine read it at (0 for
// none).
type entry struct {
	img     *image.Image
	version uint64
	// writerOnly marks an image Written although an invalidation of its
	// shard may have come after the write: readers must not trust it, a
	// writer that checks the version may (see Written).
	writerOnly bool
}

// Image returns the cached image itself, or nil: read-only, clone it to
// change it.
func (c *Cache) Image(region, id string) *image.Image {
	s := c.shard(id)
	s.mu.Lock()
	e := s.images[Key{region, id}]
	if e.writerOnly {
		e.img = nil
	}
	s.count(e.img != nil)
	s.mu.Unlock()
	return e.img
}

// ImageVersion is Image for a writer that checks, in its transaction, that
// the row is still at the version returned (as PutImageVersion or Written
// stored it): it may also get an image Written for writers only.
func (c *Cache) ImageVersion(region, id string) (*image.Image, uint64) {
	s := c.shard(id)
	s.mu.Lock()
	e := s.images[Key{region, id}]
	s.count(e.img != nil)
	s.mu.Unlock()
	return e.img, e.version
}

// count counts one lookup; the caller holds s.mu.
func (s *shard) count(hit bool) {
	if hit {
		s.hits++
	} else {
		s.misses++
	}
}

// Stats returns how many lookups found their value (hits) and how many did
// not (misses).
func (c *Cache) Stats() (hits, misses uint64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		hits += s.hits
		misses += s.misses
		s.mu.Unlock()
	}
	return hits, misses
}

// PutImage caches img, which the cache then owns (see Frozen), as read by a
// reader that noted seen.
func (c *Cache) PutImage(seen uint64, img *image.Image) {
	c.PutImageVersion(seen, img, 0)
}

// PutImageVersion is PutImage for an engine that can tell one version of
// a row from another (PostgreSQL's xmin): a writer may then use the cached
// image if it checks, in its transaction, that the row is still that
// version.
func (c *Cache) PutImageVersion(seen uint64, img *image.Image, version uint64) {
	s := c.shard(img.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty > seen {
		return
	}
	k := Key{img.Region, img.ID}
	if _, ok := s.images[k]; !ok && len(s.images) >= c.maxImages {
		evictOne(s.images)
	}
	s.images[k] = entry{img: img, version: version}
}

// A SnapEntry is a snapshot with its createVolumePermission entries, read
// in one transaction: DescribeSnapshots needs both for every snapshot.
type SnapEntry struct {
	Snap  *snapshot.Snapshot
	Perms []snapshot.Permission
}

// Snapshot returns the cached snapshot and permissions themselves:
// read-only.
func (c *Cache) Snapshot(region, id string) (SnapEntry, bool) {
	s := c.shard(id)
	s.mu.Lock()
	e, ok := s.snaps[Key{region, id}]
	s.count(ok)
	s.mu.Unlock()
	return e, ok
}

// PutSnapshot caches e (which the cache then owns) as read by a reader
// that noted seen. Snapshots share the images' bound.
func (c *Cache) PutSnapshot(seen uint64, e SnapEntry) {
	s := c.shard(e.Snap.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty > seen {
		return
	}
	k := Key{e.Snap.Region, e.Snap.ID}
	if _, ok := s.snaps[k]; !ok && len(s.snaps) >= c.maxImages {
		evictOne(s.snaps)
	}
	e.Perms = slices.Clip(e.Perms)
	s.snaps[k] = e
}

// Tags returns account's cached tags on a resource; ok is false when they
// are not cached.
func (c *Cache) Tags(region, account, id string) (tags []resource.Tag, ok bool) {
	s := c.shard(id)
	s.mu.Lock()
	tags, ok = s.tags[Key{region, id}][account]
	s.count(ok)
	s.mu.Unlock()
	return tags, ok
}

// PutTags caches account's tags on each resource of ids (none when absent
// from byID), as read by a reader that noted seen.
func (c *Cache) PutTags(seen uint64, region, account string, ids []string, byID map[string][]resource.Tag) {
	for _, id := range ids {
		s := c.shard(id)
		s.mu.Lock()
		if s.dirty <= seen {
			k := Key{region, id}
			m := s.tags[k]
			if m == nil {
				if len(s.tags) >= c.maxTagged {
					evictOne(s.tags)
				}
				m = make(map[string][]resource.Tag, 1)
				s.tags[k] = m
			}
			m[account] = slices.Clip(slices.Clone(byID[id]))
		}
		s.mu.Unlock()
	}
}

// Setting returns a cached setting; ok is false when it is not cached.
func (c *Cache) Setting(k SettingKey) (SettingVal, bool) {
	s := c.shard(k.Account)
	s.mu.Lock()
	v, ok := s.settings[k]
	s.count(ok)
	s.mu.Unlock()
	return v, ok
}

// PutSetting caches a setting as read by a reader that noted seen.
func (c *Cache) PutSetting(seen uint64, k SettingKey, v SettingVal) {
	s := c.shard(k.Account)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty > seen {
		return
	}
	if _, ok := s.settings[k]; !ok && len(s.settings) >= c.maxSettings {
		evictOne(s.settings)
	}
	s.settings[k] = v
}

// Invalidate drops what one write (or one transaction) touched, after it
// committed, and stamps the shards with a new invalidation number. A
// reader that noted Now before that number was taken read before the
// write committed, so its values for those shards are refused.
// Invalidations may run concurrently (several committers, a listener):
// numbers are taken atomically and a shard keeps the highest.
func (c *Cache) Invalidate(keys ...Invalidation) {
	if len(keys) == 0 {
		return
	}
	n := c.seq.Add(1)
	for _, k := range keys {
		var s *shard
		if k.Setting != nil {
			s = c.shard(k.Setting.Account)
		} else {
			s = c.shard(k.Res.ID)
		}
		s.mu.Lock()
		s.dirty = max(s.dirty, n)
		if k.Setting != nil {
			delete(s.settings, *k.Setting)
		}
		if k.Image && (k.Version == 0 || s.images[k.Res].version != k.Version) {
			delete(s.images, k.Res)
		}
		if k.Snap {
			delete(s.snaps, k.Res)
		}
		if k.Tags {
			delete(s.tags, k.Res)
		}
		s.mu.Unlock()
	}
}

// Written caches an image a writer has just committed, at the version it
// wrote. If an invalidation of its shard came after seen, noted before the
// commit, a later write of the image may have been heard of first, so the
// image is kept for writers only (ImageVersion), whose version check
// catches that. Either way the shard is stamped as by Invalidate, so a
// reader that read before the commit cannot put the older value back.
func (c *Cache) Written(seen uint64, img *image.Image, version uint64) {
	n := c.seq.Add(1)
	s := c.shard(img.ID)
	k := Key{img.Region, img.ID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.images[k]; !ok && len(s.images) >= c.maxImages {
		evictOne(s.images)
	}
	s.images[k] = entry{img: img, version: version, writerOnly: s.dirty > seen}
	s.dirty = max(s.dirty, n)
}

// DropAll empties the cache and refuses every value read before it: for
// when invalidations may have been missed.
func (c *Cache) DropAll() {
	n := c.seq.Add(1)
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.dirty = max(s.dirty, n)
		clear(s.images)
		clear(s.snaps)
		clear(s.tags)
		clear(s.settings)
		s.mu.Unlock()
	}
}

// Frozen returns the copy of img the cache keeps: deep, and with every
// slice at full capacity, so that even a caller breaking the read-only rule
// by appending to a shared image cannot write into the cached one.
func Frozen(img *image.Image) *image.Image {
	c := img.Clone()
	c.BlockDeviceMappings = slices.Clip(c.BlockDeviceMappings)
	c.ProductCodes = slices.Clip(c.ProductCodes)
	c.LaunchPermissions = slices.Clip(c.LaunchPermissions)
	return c
}

// evictOne drops an arbitrary entry (Go's map order is randomised), which
// keeps a full shard bounded at no bookkeeping cost per hit.
func evictOne[K comparable, V any](m map[K]V) {
	for k := range m {
		delete(m, k)
		return
	}
}
