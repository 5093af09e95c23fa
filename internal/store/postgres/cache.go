package postgres

import "github.com/amigo-ec2/amigo/internal/store/internal/readcache"

// The read cache (readcache.Cache) holds decoded images, each account's
// tags on a resource, and settings, so that a View whose reads it answers
// needs no transaction, and no statement, at all. It has the sqlite
// engine's contract: never a stale read after an acknowledged write, from
// any process. Unlike SQLite, other processes write the database too, so
// invalidation comes from the database itself (see listener for how and
// for the proof of exactness):
//
//   - Every write statement that changes an image, tags or a setting
//     queues pg_notify with its key inside the writing transaction:
//     PostgreSQL delivers it to every listening process if and only if the
//     transaction commits, in commit order.
//   - The listener of each process drops the keys it hears of and stamps
//     their shards with the next invalidation number. A lost connection
//     drops everything (DropAll).
//   - A View notes the number before its first statement; its snapshot is
//     taken later, so it includes every commit whose notification had been
//     applied. A value it read from the database may enter the cache only
//     if no invalidation since touched the shard (readcache's rule).
//   - A View reads from the cache only after a sync (listener.sync) proved
//     that every commit acknowledged before the View began has been applied.

// DefaultCacheImages is the read cache's default bound, ~64 MB of images
// (the sqlite engine's).
const DefaultCacheImages = 32768

// invalidation is what c drops from the cache.
func (c change) invalidation() readcache.Invalidation {
	res := readcache.Key{Region: c.region, ID: c.id}
	switch c.kind {
	case changeSetting:
		return readcache.Invalidation{Setting: &readcache.SettingKey{Region: c.region, Account: c.account, Name: c.id}}
	case changeImage:
		return readcache.Invalidation{Res: res, Image: true, Version: c.version}
	case changeTags:
		return readcache.Invalidation{Res: res, Tags: true}
	default: // changeImageAndTags; parseChange admits no other kind
		return readcache.Invalidation{Res: res, Image: true, Tags: true}
	}
}
