package readcache

import (
	"fmt"
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

const region = "us-east-1"

func img(id, desc string) *image.Image {
	return &image.Image{Region: region, ID: id, Description: desc,
		LaunchPermissions: append(make([]image.LaunchPermission, 0, 4), image.LaunchPermission{Kind: image.PermUser, Value: "111122223333"})}
}

// The rule the engines' exactness rests on: a value read before an
// invalidation of its shard never enters the cache.
func TestPutAfterInvalidationIsRefused(t *testing.T) {
	tests := []struct {
		name string
		inv  Invalidation
		put  func(c *Cache, seen uint64)
		get  func(c *Cache) bool
	}{
		{"image", Invalidation{Res: Key{region, "ami-1"}, Image: true},
			func(c *Cache, seen uint64) { c.PutImage(seen, img("ami-1", "old")) },
			func(c *Cache) bool { return c.Image(region, "ami-1") != nil }},
		{"tags", Invalidation{Res: Key{region, "ami-1"}, Tags: true},
			func(c *Cache, seen uint64) {
				c.PutTags(seen, region, "111122223333", []string{"ami-1"}, map[string][]resource.Tag{"ami-1": {{Key: "k", Value: "v"}}})
			},
			func(c *Cache) bool { _, ok := c.Tags(region, "111122223333", "ami-1"); return ok }},
		{"setting", Invalidation{Setting: &SettingKey{region, "111122223333", "color"}},
			func(c *Cache, seen uint64) {
				c.PutSetting(seen, SettingKey{region, "111122223333", "color"}, SettingVal{Value: "blue", Found: true})
			},
			func(c *Cache) bool { _, ok := c.Setting(SettingKey{region, "111122223333", "color"}); return ok }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(1024)
			seen := c.Now()
			c.Invalidate(tt.inv) // a write committed after the read's snapshot
			tt.put(c, seen)
			if tt.get(c) {
				t.Fatal("a value read before the invalidation entered the cache")
			}
			tt.put(c, c.Now()) // read after it
			if !tt.get(c) {
				t.Fatal("a value read after the invalidation was not cached")
			}
			c.Invalidate(tt.inv)
			if tt.get(c) {
				t.Fatal("Invalidate left the value in the cache")
			}
		})
	}
}

func TestDropAll(t *testing.T) {
	c := New(1024)
	seen := c.Now()
	c.PutImage(seen, img("ami-1", "a"))
	c.PutSetting(seen, SettingKey{region, "a", "n"}, SettingVal{})
	c.DropAll()
	if c.Image(region, "ami-1") != nil {
		t.Fatal("image survived DropAll")
	}
	if _, ok := c.Setting(SettingKey{region, "a", "n"}); ok {
		t.Fatal("setting survived DropAll")
	}
	// Every shard refuses what was read before the drop.
	for i := range 200 {
		c.PutImage(seen, img(fmt.Sprintf("ami-%d", i), "a"))
	}
	for i := range 200 {
		if c.Image(region, fmt.Sprintf("ami-%d", i)) != nil {
			t.Fatalf("ami-%d, read before DropAll, was cached", i)
		}
	}
}

// An invalidation touches only its own shard: a read of another key in the
// meantime is still cached.
func TestInvalidationIsPerShard(t *testing.T) {
	c := New(Shards * 16)
	seen := c.Now()
	c.Invalidate(Invalidation{Res: Key{region, "ami-x"}, Image: true})
	cached := 0
	for i := range 200 {
		id := fmt.Sprintf("ami-%d", i)
		c.PutImage(seen, img(id, "a"))
		if c.Image(region, id) != nil {
			cached++
		}
	}
	if cached < 150 { // one shard in 64 refuses; 200 keys leave ~197
		t.Fatalf("%d of 200 cached, want nearly all", cached)
	}
}

func TestBounded(t *testing.T) {
	c := New(Shards * 2) // two images a shard
	for i := range 1000 {
		c.PutImage(c.Now(), img(fmt.Sprintf("ami-%d", i), "a"))
	}
	n := 0
	for i := range 1000 {
		if c.Image(region, fmt.Sprintf("ami-%d", i)) != nil {
			n++
		}
	}
	if n > Shards*2 {
		t.Fatalf("%d images cached, bound %d", n, Shards*2)
	}
	if c.RoomFor(Shards*2) || !c.RoomFor(Shards) {
		t.Fatal("RoomFor: want room for half the cache, not more")
	}
	hits, misses := c.Stats()
	if hits != uint64(n) || hits+misses != 1000 {
		t.Fatalf("Stats = %d hits, %d misses; want %d hits of 1000", hits, misses, n)
	}
}

func TestFrozenIsPrivate(t *testing.T) {
	orig := img("ami-1", "a")
	f := Frozen(orig)
	if cap(f.LaunchPermissions) != len(f.LaunchPermissions) {
		t.Fatal("Frozen left spare capacity: an append by a reader would write into the cached image")
	}
	orig.LaunchPermissions[0].Value = "changed"
	orig.Description = "changed"
	if f.LaunchPermissions[0].Value == "changed" || f.Description == "changed" {
		t.Fatal("Frozen shares memory with its argument")
	}
}

// Tags are cached per account; an empty list ("no tags") is a value too.
func TestTagsPerAccount(t *testing.T) {
	c := New(1024)
	c.PutTags(c.Now(), region, "a", []string{"ami-1", "ami-2"}, map[string][]resource.Tag{"ami-1": {{Key: "k", Value: "v"}}})
	if tags, ok := c.Tags(region, "a", "ami-1"); !ok || len(tags) != 1 {
		t.Fatalf("ami-1: %v, %v", tags, ok)
	}
	if tags, ok := c.Tags(region, "a", "ami-2"); !ok || len(tags) != 0 {
		t.Fatalf("ami-2 (no tags): %v, %v; want cached and empty", tags, ok)
	}
	if _, ok := c.Tags(region, "b", "ami-1"); ok {
		t.Fatal("account b's tags cached though never read")
	}
}

// A writer's own committed image is cached, unless an invalidation came
// between the number it noted before committing and now; an invalidation
// naming the version it wrote keeps it.
func TestWritten(t *testing.T) {
	c := New(1024)
	seen := c.Now()
	c.Written(seen, img("ami-1", "mine"), 7)
	if got, v := c.ImageVersion(region, "ami-1"); got == nil || v != 7 {
		t.Fatalf("Written: cached %v at %d, want version 7", got, v)
	}
	// Its own notification, heard later, keeps it; another version's drops it.
	c.Invalidate(Invalidation{Res: Key{region, "ami-1"}, Image: true, Version: 7})
	if c.Image(region, "ami-1") == nil {
		t.Fatal("the invalidation of the version cached dropped it")
	}
	c.Invalidate(Invalidation{Res: Key{region, "ami-1"}, Image: true, Version: 8})
	if c.Image(region, "ami-1") != nil {
		t.Fatal("a later version's invalidation kept the older entry")
	}
	// A later write heard of before Written: readers do not see it,
	// writers (who check the version) do.
	seen = c.Now()
	c.Invalidate(Invalidation{Res: Key{region, "ami-1"}, Image: true})
	c.Written(seen, img("ami-1", "older"), 9)
	if c.Image(region, "ami-1") != nil {
		t.Fatal("Written gave readers an image although a later invalidation came first")
	}
	if got, v := c.ImageVersion(region, "ami-1"); got == nil || v != 9 {
		t.Fatalf("ImageVersion = %v at %d; want the written image, for a checking writer", got, v)
	}
	// A reader's read replaces it.
	c.PutImageVersion(c.Now(), img("ami-1", "read"), 10)
	if got := c.Image(region, "ami-1"); got == nil || got.Description != "read" {
		t.Fatalf("after a read: %v", got)
	}
	// A reader that noted the number before the write cannot put back.
	seen = c.Now()
	c.Written(c.Now(), img("ami-2", "new"), 3)
	c.PutImage(seen, img("ami-2", "old"))
	if got := c.Image(region, "ami-2"); got == nil || got.Description != "new" {
		t.Fatalf("ami-2 = %v, want the written image", got)
	}
}
