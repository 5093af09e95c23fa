package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
)

// How the read cache stays exact across processes.
//
// Writes: every statement that changes an image, tags or a setting queues,
// in the same round trip and the same transaction, pg_notify on
// cacheChannel with the key it changed (notifyChange). PostgreSQL delivers
// a notification only if its transaction commits, and to every session
// LISTENing when it commits. Each process has one such session (listener)
// that applies what it hears to its cache, one notification at a time in
// delivery order.
//
// Reads: the question is whether a write W acknowledged before a View V
// began has already been applied to V's process's cache, since its
// notification may still be in flight. V answers it with a marker: a
// notification on a channel only its own process listens to, sent after V
// began (sync). PostgreSQL's notification queue is one queue for all
// channels, filled in commit order (NOTIFY takes a database-wide lock from
// its pre-commit to the end of its commit for exactly that reason), and
// every listener reads it in queue order. W committed before V began, so
// before the marker's transaction began, so W's entry precedes the
// marker's, and the listener applied W before it saw the marker. Once the
// marker is in, every commit acknowledged before V began is in the cache
// (or rather, out of it), from whichever process it came. Markers are
// shared: one marker answers every View that began before it was sent, so
// under load a marker costs a fraction of a round trip per View, and its
// transaction skips the WAL flush (synchronous_commit off: it changes
// nothing durable).
//
// Failures: while the listening session is down, notifications are lost.
// Syncs then fail, and a View that cannot sync within syncTimeout reads the
// database instead, which is always exact. On reconnecting, the listener
// LISTENs again and only then drops the whole cache (DropAll), raising
// every shard's invalidation number: a value read before the drop cannot
// enter the cache, and one read after it comes from a snapshot taken while
// the session listened, whose later changes will be heard of.

const (
	cacheChannel = "amigo_cache"
	// maxPayload is below PostgreSQL's 8,000-byte bound on a payload; a
	// longer key is sent as dropEverything.
	maxPayload     = 7900
	dropEverything = "*"
	// syncTimeout bounds the wait for a marker; past it the View reads
	// the database.
	syncTimeout = time.Second
	// reconnectDelay spaces attempts to reopen a lost session.
	reconnectDelay = 200 * time.Millisecond
)

// A change is one key a committed write touched.
type change struct {
	kind    string
	region  string
	account string // settings only
	id      string // a resource id, or a setting's name
	// version of an updated image's row, when the notification carries it
	// (notifyVersionSQL): a cache entry of that version stays.
	version uint64
}

const (
	changeImage        = "i" // the image
	changeImageAndTags = "d" // the image and every account's tags on it (deleted)
	changeTags         = "t" // every account's tags on a resource
	changeSetting      = "s" // one setting
)

// notifySQL queues a change's notification in the running transaction.
const notifySQL = `SELECT pg_notify('` + cacheChannel + `', $1)`

// notifyVersionSQL notifies an image's update with the version of the row
// it left, read in the transaction ($1 region, $2 image id): the payload of
// change{kind: changeImage, …, version}.
const notifyVersionSQL = `SELECT pg_notify('` + cacheChannel + `', json_build_array('` + changeImage + `', $1::text, $2::text,
	(SELECT xmin::text FROM images WHERE region = $1 AND image_id = $2))::text)`

// payload encodes c for notifySQL.
func (c change) payload() string {
	fields := []string{c.kind, c.region, c.id}
	if c.kind == changeSetting {
		fields = append(fields, c.account)
	}
	b, err := json.Marshal(fields)
	if err != nil || len(b) > maxPayload {
		return dropEverything
	}
	return string(b)
}

// parseChange decodes a payload; all is set for dropEverything or anything
// this build cannot read (a newer process's), which is then safest.
func parseChange(p string) (c change, all bool) {
	var f []string
	if p == dropEverything || json.Unmarshal([]byte(p), &f) != nil || len(f) < 3 {
		return change{}, true
	}
	c = change{kind: f[0], region: f[1], id: f[2]}
	switch {
	case c.kind == changeSetting && len(f) == 4:
		c.account = f[3]
	case c.kind == changeImage && len(f) == 4:
		c.version, _ = strconv.ParseUint(f[3], 10, 64) // "" (null): none
	case c.kind == changeImage || c.kind == changeImageAndTags || c.kind == changeTags:
	default:
		return change{}, true
	}
	return c, false
}

// listener keeps one process's cache in step with the database.
type listener struct {
	cfg     *pgx.ConnConfig // for both sessions
	cache   *readcache.Cache
	channel string // this process's marker channel

	mu          sync.Mutex
	healthy     bool          // LISTENing, cache dropped since
	next        uint64        // number the next marker will carry
	delivered   uint64        // highest marker heard
	deliveredCh chan struct{} // closed and replaced when delivered grows
	want        chan struct{} // wakes the sender; buffered 1

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startListener(cfg *pgx.ConnConfig, cache *readcache.Cache) *listener {
	var b [8]byte
	_, _ = rand.Read(b[:])
	l := &listener{cfg: cfg, cache: cache, channel: "amigo_sync_" + hex.EncodeToString(b[:]),
		next: 1, deliveredCh: make(chan struct{}), want: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(2)
	go l.listen(ctx)
	go l.send(ctx)
	return l
}

func (l *listener) stop() {
	l.cancel()
	l.wg.Wait()
}

// sync reports whether every commit acknowledged before the call has been
// applied to the cache; false when that cannot be shown within
// syncTimeout (the caller then reads the database).
func (l *listener) sync(ctx context.Context) bool {
	l.mu.Lock()
	if !l.healthy {
		l.mu.Unlock()
		return false
	}
	// The sender takes marker numbers under mu, so marker target is sent
	// after this point.
	target, ch := l.next, l.deliveredCh
	l.mu.Unlock()
	select {
	case l.want <- struct{}{}:
	default: // a wake-up is pending: the sender will take target or later
	}
	timer := time.NewTimer(syncTimeout)
	defer timer.Stop()
	for {
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
		l.mu.Lock()
		ok, healthy := l.delivered >= target, l.healthy
		ch = l.deliveredCh
		l.mu.Unlock()
		if ok && healthy {
			return true
		}
		if !healthy {
			return false
		}
	}
}

// listen runs the LISTEN session, reconnecting when it fails.
func (l *listener) listen(ctx context.Context) {
	defer l.wg.Done()
	for ctx.Err() == nil {
		l.session(ctx)
		l.mu.Lock()
		l.healthy = false
		close(l.deliveredCh) // waiters see the change of health
		l.deliveredCh = make(chan struct{})
		l.mu.Unlock()
		l.cache.DropAll()
		sleep(ctx, reconnectDelay)
	}
}

// session LISTENs on one connection until it fails.
func (l *listener) session(ctx context.Context) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{cacheChannel, l.channel} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return
		}
	}
	// Only now: a value read before this point may predate a change
	// whose notification was lost.
	l.cache.DropAll()
	l.mu.Lock()
	l.healthy = true
	l.mu.Unlock()
	// Markers sent before LISTEN are lost; a fresh one releases their
	// waiters.
	select {
	case l.want <- struct{}{}:
	default:
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return
		}
		if n.Channel == l.channel {
			m, err := strconv.ParseUint(n.Payload, 10, 64)
			if err != nil {
				continue
			}
			l.mu.Lock()
			if m > l.delivered {
				l.delivered = m
				close(l.deliveredCh)
				l.deliveredCh = make(chan struct{})
			}
			l.mu.Unlock()
			continue
		}
		if c, all := parseChange(n.Payload); all {
			l.cache.DropAll()
		} else {
			l.cache.Invalidate(c.invalidation())
		}
	}
}

// send sends markers, one whenever a sync is waiting and none is being
// sent, on a session of its own.
func (l *listener) send(ctx context.Context) {
	defer l.wg.Done()
	cfg := l.cfg.Copy()
	// A marker changes nothing durable: no need to wait for the WAL flush.
	cfg.RuntimeParams["synchronous_commit"] = "off"
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	for {
		select {
		case <-l.want:
		case <-ctx.Done():
			return
		}
		if conn == nil {
			c, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				// Waiting syncs time out and read the database.
				sleep(ctx, reconnectDelay)
				continue
			}
			conn = c
		}
		l.mu.Lock()
		m := l.next
		l.next++
		l.mu.Unlock()
		if _, err := conn.Exec(ctx, `SELECT pg_notify($1, $2)`, l.channel, strconv.FormatUint(m, 10)); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			conn = nil
			sleep(ctx, reconnectDelay)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
