package sigv4

import (
	"sync"
	"sync/atomic"
)

// maxCachedKeys bounds the signing-key cache. A key holder can make a new
// entry per region shape and per day, so the cache is simply emptied when it
// fills rather than tracking recency.
const maxCachedKeys = 4096

// keyCache remembers derived signing keys so a steady-state verification
// costs two HMACs (the signature), not six.
type keyCache struct {
	m sync.Map // cacheKey → cachedKey
	n atomic.Int64
}

// cacheKey leaves out the service: a Verifier accepts one.
type cacheKey struct{ accessKeyID, date, region string }

// cachedKey keeps the secret the key was derived from so a rotated secret
// misses. Comparing it with == is safe: both sides come from the server's own
// lookup, never from the request.
type cachedKey struct {
	secret string
	key    []byte
}

func (c *keyCache) get(accessKeyID, secret, date, region, service string) []byte {
	k := cacheKey{accessKeyID, date, region}
	if v, ok := c.m.Load(k); ok {
		if e := v.(cachedKey); e.secret == secret {
			return e.key
		}
	}
	key := signingKey(secret, date, region, service)
	if c.n.Add(1) > maxCachedKeys {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(k, cachedKey{secret: secret, key: key})
	return key
}
