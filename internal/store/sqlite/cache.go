package sqlite

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

// readCache holds decoded images, snapshots with their permissions, each
// account's tags on a resource, and settings, so that hot reads skip
// SQLite (and often the read transaction) altogether. It is exact because this Store owns every write to its file
// (Open takes an exclusive lock on it):
//
//   - The writer, after a transaction ends (committed or not), drops every
//     entry it touched and stamps the entries' shards with the next commit
//     number before publishing that number (seq). Updates are acknowledged
//     only after that, so a caller never reads around its own write.
//   - A View notes seq before its first SQL statement; its snapshot includes
//     at least every commit up to that number. A value it read from SQLite
//     may enter the cache only if no commit since touched the shard:
//     otherwise the value could predate the commit and stay stale forever.
//
// Tx.Image hands out copies; FindImages and Tags hand out the cached values
// themselves, which the image.Tx contract makes read-only.
type readCache struct {
	seq    atomic.Uint64 // last published commit number; written by the writer only
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	// per-shard bounds, from Options
	maxImages, maxTagged, maxSettings int
}

const cacheShards = 64

type cacheShard struct {
	mu sync.Mutex
	// dirty is the commit number of the latest invalidation in this shard.
	dirty    uint64
	images   map[resKey]*image.Image
	snaps    map[resKey]snapEntry
	tags     map[resKey]map[string][]resource.Tag // by account; an empty list is "no tags"
	settings map[settingKey]settingVal
	// hits and misses count lookups, under mu (kept per shard so counting
	// adds no shared cache line to the read path); CacheStats sums them.
	hits, misses uint64
}

type resKey struct{ region, id string }

// snapEntry is a snapshot with its createVolumePermission entries, read in
// one transaction: DescribeSnapshots needs both for every snapshot.
type snapEntry struct {
	snap  *snapshot.Snapshot
	perms []snapshot.Permission
}

type settingKey struct{ region, account, name string }

type settingVal struct {
	value string
	found bool
}

// An invalidation is one key the writer touched: an image (and so every
// account's tags on it, when tags is set), a snapshot or its permissions,
// or one setting.
type invalidation struct {
	res     resKey
	image   bool
	snap    bool
	tags    bool
	setting *settingKey
}

func newReadCache(maxImages int) *readCache {
	c := &readCache{seed: maphash.MakeSeed()}
	per := max(maxImages/cacheShards, 1)
	c.maxImages, c.maxTagged, c.maxSettings = per, per, max(per/8, 16)
	for i := range c.shards {
		s := &c.shards[i]
		s.images = make(map[resKey]*image.Image)
		s.snaps = make(map[resKey]snapEntry)
		s.tags = make(map[resKey]map[string][]resource.Tag)
		s.settings = make(map[settingKey]settingVal)
	}
	return c
}

// roomFor reports whether n entries read together should be cached: not
// when they would fill more than half of it.
func (c *readCache) roomFor(n int) bool {
	return n <= c.maxImages*cacheShards/2
}

func (c *readCache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// now is the commit number a View notes before its first read.
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

// count counts one lookup; the caller holds s.mu.
func (s *cacheShard) count(hit bool) {
	if hit {
		s.hits++
	} else {
		s.misses++
	}
}

// stats sums the shards' lookups.
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

// snapshot returns the cached snapshot and permissions themselves:
// read-only.
func (c *readCache) snapshot(region, id string) (snapEntry, bool) {
	s := c.shard(id)
	s.mu.Lock()
	e, ok := s.snaps[resKey{region, id}]
	s.count(ok)
	s.mu.Unlock()
	return e, ok
}

// putSnapshot caches e (which the cache then owns) as read by a View that
// noted seen. Snapshots share the images' bound.
func (c *readCache) putSnapshot(seen uint64, e snapEntry) {
	s := c.shard(e.snap.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty > seen {
		return
	}
	k := resKey{e.snap.Region, e.snap.ID}
	if _, ok := s.snaps[k]; !ok && len(s.snaps) >= c.maxImages {
		evictOne(s.snaps)
	}
	e.perms = slices.Clip(e.perms)
	s.snaps[k] = e
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

// invalidate drops what the writer touched and publishes the next commit
// number. Only the writer calls it, after its transaction ended and before
// it acknowledges any caller.
func (c *readCache) invalidate(keys []invalidation) {
	if len(keys) == 0 {
		return
	}
	n := c.seq.Load() + 1
	for _, k := range keys {
		var s *cacheShard
		if k.setting != nil {
			s = c.shard(k.setting.account)
		} else {
			s = c.shard(k.res.id)
		}
		s.mu.Lock()
		s.dirty = n
		if k.setting != nil {
			delete(s.settings, *k.setting)
		}
		if k.image {
			delete(s.images, k.res)
		}
		if k.snap {
			delete(s.snaps, k.res)
		}
		if k.tags {
			delete(s.tags, k.res)
		}
		s.mu.Unlock()
	}
	c.seq.Store(n)
}

// frozen returns the copy of img the cache keeps: deep, and with every
// slice at full capacity, so that even a caller breaking the read-only rule
// of FindImages by appending cannot write into the cached image.
func frozen(img *image.Image) *image.Image {
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
