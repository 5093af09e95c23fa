package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCacheSize bounds how many distinct statements one cache keeps
// prepared. The dynamic queries (FindImages, ListTags, FindInstances and
// the IN lists) have few shapes in practice because list lengths are
// bucketed (see padCount); the bound only guards against a pathological mix.
const stmtCacheSize = 256

// stmtCache keeps a prepared *sql.Stmt per distinct SQL text, least
// recently used first out. Preparing is a large part of a short query's
// cost in SQLite; a statement prepared on the read pool is bound to a View
// transaction with Tx.StmtContext, which database/sql answers with the
// statement already prepared on that connection after the first use.
//
// An entry is reference counted while a caller holds it, so evicting a
// statement never closes it under a caller that is about to bind or run
// it; the last holder closes it.
//
// A pool-side cache (async) prepares a missing statement in the background
// and reports the miss: preparing on a *sql.DB needs a free connection, and
// the caller's View transaction may hold the last one. The caller then runs
// its query unprepared, once.
type stmtCache struct {
	p     preparer
	max   int
	async bool

	mu      sync.Mutex
	m       map[string]*list.Element // of *cachedStmt
	pending map[string]bool          // being prepared in the background
	lru     list.List                // front is most recently used
	closed  bool
	asyncs  sync.WaitGroup // background prepares, awaited by close
}

type cachedStmt struct {
	query   string
	stmt    *sql.Stmt
	refs    int
	evicted bool // out of the cache: the last release closes stmt
}

func newStmtCache(p preparer, max int, async bool) *stmtCache {
	return &stmtCache{p: p, max: max, async: async, m: make(map[string]*list.Element), pending: make(map[string]bool)}
}

var errCacheClosed = errors.New("sqlite: statement cache is closed")

// acquire returns the prepared statement for query, preparing it on a miss.
// The caller must release it once done with it. An async cache returns
// nil, nil on a miss.
func (c *stmtCache) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errCacheClosed
	}
	if el, ok := c.m[query]; ok {
		c.lru.MoveToFront(el)
		cs := el.Value.(*cachedStmt)
		cs.refs++
		c.mu.Unlock()
		return cs, nil
	}
	if c.async {
		if !c.pending[query] {
			c.pending[query] = true
			c.asyncs.Go(func() { c.prepareAsync(query) })
		}
		c.mu.Unlock()
		return nil, nil
	}
	c.mu.Unlock()

	// Prepare outside the lock: two callers may race to prepare the same
	// text; the loser's statement is closed.
	stmt, err := c.p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = stmt.Close()
		return nil, errCacheClosed
	}
	if el, ok := c.m[query]; ok {
		_ = stmt.Close()
		c.lru.MoveToFront(el)
		cs := el.Value.(*cachedStmt)
		cs.refs++
		return cs, nil
	}
	cs := &cachedStmt{query: query, stmt: stmt, refs: 1}
	c.m[query] = c.lru.PushFront(cs)
	for c.lru.Len() > c.max {
		c.evictLocked(c.lru.Back())
	}
	return cs, nil
}

func (c *stmtCache) prepareAsync(query string) {
	// A failed prepare (a closed pool, a bad statement) is dropped: the
	// statement runs unprepared, and reports its error, from its callers.
	stmt, err := c.p.PrepareContext(context.Background(), query)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, query)
	if err != nil {
		return
	}
	if c.closed {
		_ = stmt.Close()
		return
	}
	if _, ok := c.m[query]; ok {
		_ = stmt.Close()
		return
	}
	c.m[query] = c.lru.PushFront(&cachedStmt{query: query, stmt: stmt})
	for c.lru.Len() > c.max {
		c.evictLocked(c.lru.Back())
	}
}

func (c *stmtCache) evictLocked(el *list.Element) {
	cs := c.lru.Remove(el).(*cachedStmt)
	delete(c.m, cs.query)
	cs.evicted = true
	if cs.refs == 0 {
		_ = cs.stmt.Close()
	}
}

// release gives back a statement acquire returned.
func (c *stmtCache) release(cs *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs.refs--
	if cs.refs == 0 && cs.evicted {
		_ = cs.stmt.Close()
	}
}

// close closes every cached statement (those still held close on release)
// and makes later acquires fail.
func (c *stmtCache) close() error {
	// A background prepare may be opening a connection; the pool must not
	// be closed under it (SQLite would recreate the -wal and -shm files
	// after the last connection removed them).
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.asyncs.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for c.lru.Len() > 0 {
		cs := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.m, cs.query)
		cs.evicted = true
		if cs.refs == 0 {
			errs = append(errs, cs.stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// len reports how many statements are cached, for tests.
func (c *stmtCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// maxPad is the longest list padCount rounds up; longer lists (bulk
// exports) keep their exact length and so their own statement text.
const maxPad = 512

// padCount rounds a list length up to a power of two, so that IN lists of
// nearby lengths share one statement text.
func padCount(n int) int {
	if n <= 1 || n > maxPad {
		return n
	}
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// padStrings returns ss extended to padCount(len(ss)) by repeating its last
// element: a repeated member of an IN list or an OR of terms changes
// nothing.
func padStrings(ss []string) []string {
	n := padCount(len(ss))
	if n == len(ss) {
		return ss
	}
	out := make([]string, n)
	copy(out, ss)
	for i := len(ss); i < n; i++ {
		out[i] = ss[len(ss)-1]
	}
	return out
}
