package record

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/amigo-ec2/amigo/internal/image"
)

// Docs memoizes decoded image documents by their exact bytes. It is keyed
// by content, so it can never serve a stale image: a changed image has a
// changed document. Listing the same images again (DescribeImages of a busy
// account) skips the JSON decoding, a fifth of a listing's CPU.
//
// Each store owns its own Docs, so two stores in one process (tests, an
// export beside a server) neither share nor evict each other's documents.
// A nil *Docs is valid and caches nothing: an engine that keeps decoded
// images itself would only hold a second copy.
type Docs struct {
	mu  sync.RWMutex
	m   map[string]*imageDoc
	max int
}

// DefaultDocs bounds a Docs from NewDocs (~2 KB an entry); when full it
// starts over.
const DefaultDocs = 16384

// NewDocs returns an empty document cache holding at most max documents
// (DefaultDocs when max <= 0).
func NewDocs(max int) *Docs {
	if max <= 0 {
		max = DefaultDocs
	}
	return &Docs{m: make(map[string]*imageDoc), max: max}
}

// DecodeImage fills the document fields of img from the doc column,
// through the cache when c is not nil.
func (c *Docs) DecodeImage(doc []byte, img *image.Image) error {
	r := c.get(doc)
	if r == nil {
		r = new(imageDoc)
		if err := json.Unmarshal(doc, r); err != nil {
			return fmt.Errorf("record: decode image %s: %w", img.ID, err)
		}
		c.put(doc, r)
	}
	r.apply(img)
	return nil
}

// Len returns how many documents c holds.
func (c *Docs) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

func (c *Docs) get(doc []byte) *imageDoc {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	r := c.m[string(doc)]
	c.mu.RUnlock()
	return r
}

func (c *Docs) put(doc []byte, r *imageDoc) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = make(map[string]*imageDoc, c.max)
	}
	c.m[string(doc)] = r
	c.mu.Unlock()
}
