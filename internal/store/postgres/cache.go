package postgres

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// readCache holds decoded images, each account's tags on a resource, and
// settings, so that a View whose reads it answers needs no transaction, and
// no statement, at all. It has the sqlite engine's contract: never a stale
// read after an acknowledged write, from any process. Unlike SQLite, other
// processes write the database too, so invalidation comes from the database
// itself (see listener for how and for the proof of exactness):
//
//   - Every write statement that changes an image, tags or a setting
//     queues pg_notify with its key inside the writing transaction:
//     PostgreSQL delivers it to every listening process if and only if the
//     transaction commits, in commit order.
//   - The listener of each process drops the keys it hears of and stamps
//     their shards with the next invalidation number (seq). A lost
//     connection drops everything (dropAll).
//   - A View notes seq before its first statement; its snapshot is taken
//     later, so it includes every commit whose notification had been
//     applied. A value it read from the database may enter the cache only
//     if no invalidation since touched the shard: otherwise the value could
//     predate that commit and stay stale forever.
//   - A View reads from the cache only after a sync (listener.sync) proved
//     that every commit acknowledged before the View began has been applied.
//
// Lookups hand out copies (Image) or the cached values themselves
// (FindImages, Tags), which the image.Tx contract makes read-only.
type readCache struct {
	seq    atomic.Uint64 // last invalidation number; written by the listener only
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	// per-shard bounds
	maxImages, maxTagged, maxSettings int
}

const cacheShards = 64

// DefaultCacheImages is the read cache's default bound, ~64 MB of images
// (the sqlite engine's).
const DefaultCacheImages = 32768

type cacheShard struct {
	mu sync.Mutex
	// dirty is the invalidation number of the latest invalidation in this
	// shard.
	dirty    uint64
	images   map[resKey]*image.Image
	tags     map[resKey]map[string][]resource.Tag // by account; an empty list is "no tags"
	settings map[settingKey]settingVal
	// hits and misses count lookups, under mu.
	hits, misses uint64
}

type resKey struct{ region, id string }

type settingKey struct{ region, account, name string }

type settingVal struct {
	value string
	found bool
}

func newReadCache(maxImages int) *readCache {
	c := &readCache{seed: maphash.MakeSeed()}
	per := max(maxImages/cacheShards, 1)
	c.maxImages, c.maxTagged, c.maxSettings = per, per, max(per/8, 16)
	for i := range c.shards {
		s := &c.shards[i]
		s.images = make(map[resKey]*image.Image)
		s.tags = make(map[resKey]map[string][]resource.Tag)
		s.settings = make(map[settingKey]settingVal)
	}
	return c
}

// roomFor reports whether n entries read together should be cached: not
// when they would fill more than half of it (scan resistance).
func (c *readCache) roomFor(n int) bool {
	return n <= c.maxImages*cacheShards/2
}

func (c *readCache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// now is the invalidation number a View notes before its first statement.
func (c *readCache) now() uint64 { return c.seq.Load() }

// image returns the cached image itself: read-only, clone it to change it.
func (c *readCache) image(region, id string) *image.Image {
	s := c.shard(id)
	s.mu.Lock()
	img := s.images[resKey{region, id}]
	s.count(img != nil)
	s.mu.Unlock()
	return img
}

func (s *cacheShard) count(hit bool) {
	if hit {
		s.hits++
	} else {
		s.misses++
	}
}

func (c *readCache) stats() (hits, misses uint64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		hits += s.hits
		misses += s.misses
		s.mu.Unlock()
	}
	return hits, misses
}

// putImage caches img (which the cache then owns) as read by a View that
// noted seen.
func (c *readCache) putImage(seen uint64, img *image.Image) {
	s := c.shard(img.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty > seen {
		return
	}
	k := resKey{img.Region, img.ID}
	if _, ok := s.images[k]; !ok && len(s.images) >= c.maxImages {
		evictOne(s.images)
	}
	s.images[k] = img
}

// tags returns account's cached tags on a resource; ok is false when they
// are not cached.
func (c *readCache) tags(region, account, id string) (tags []resource.Tag, ok bool) {
	s := c.shard(id)
	s.mu.Lock()
	tags, ok = s.tags[resKey{region, id}][account]
	s.count(ok)
	s.mu.Unlock()
	return tags, ok
}

// putTags caches account's tags on each resource of ids (none when absent
// from byID).
func (c *readCache) putTags(seen uint64, region, account string, ids []string, byID map[string][]resource.Tag) {
	for _, id := range ids {
		s := c.shard(id)
		s.mu.Lock()
		if s.dirty <= seen {
			k := resKey{region, id}
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

func (c *readCache) setting(k settingKey) (settingVal, bool) {
	s := c.shard(k.account)
	s.mu.Lock()
	v, ok := s.settings[k]
	s.count(ok)
	s.mu.Unlock()
	return v, ok
}

func (c *readCache) putSetting(seen uint64, k settingKey, v settingVal) {
	s := c.shard(k.account)
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

// invalidate drops one committed write's key and publishes the next
// invalidation number. Only the listener calls it (one goroutine).
func (c *readCache) invalidate(k change) {
	n := c.seq.Load() + 1
	var s *cacheShard
	if k.kind == changeSetting {
		s = c.shard(k.account)
	} else {
		s = c.shard(k.id)
	}
	res := resKey{k.region, k.id}
	s.mu.Lock()
	s.dirty = n
	switch k.kind {
	case changeSetting:
		delete(s.settings, settingKey{k.region, k.account, k.id})
	case changeImage:
		delete(s.images, res)
	case changeTags:
		delete(s.tags, res)
	case changeImageAndTags:
		delete(s.images, res)
		delete(s.tags, res)
	}
	s.mu.Unlock()
	c.seq.Store(n)
}

// dropAll empties the cache and refuses every value read before it: for
// when notifications may have been missed.
func (c *readCache) dropAll() {
	n := c.seq.Load() + 1
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.dirty = n
		clear(s.images)
		clear(s.tags)
		clear(s.settings)
		s.mu.Unlock()
	}
	c.seq.Store(n)
}

// frozen returns the copy of img the cache keeps: deep, and with every
// slice at full capacity, so that a caller appending to a shared image
// cannot write into the cached one.
func frozen(img *image.Image) *image.Image {
	c := img.Clone()
	c.BlockDeviceMappings = slices.Clip(c.BlockDeviceMappings)
	c.ProductCodes = slices.Clip(c.ProductCodes)
	c.LaunchPermissions = slices.Clip(c.LaunchPermissions)
	return c
}

// evictOne drops an arbitrary entry (Go's map order is randomised).
func evictOne[K comparable, V any](m map[K]V) {
	for k := range m {
		delete(m, k)
		return
	}
}
