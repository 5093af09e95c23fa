// Package sqlite is amigo's embedded store engine: one database file, the
// pure-Go modernc.org/sqlite driver (no cgo), WAL mode and group commit.
//
// One goroutine owns the only write connection and folds concurrent Update
// calls into one transaction and one fsync; View runs on a separate pool of
// query-only connections that read a WAL snapshot and never wait for the
// writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/store"
	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrClosed is returned by View and Update once Close has been called.
var ErrClosed = errors.New("sqlite: store is closed")

// Options tune a Store. The zero value is valid but has group commit off;
// start from DefaultOptions for production use.
type Options struct {
	// GroupCommit folds concurrent Update calls into one transaction and one
	// fsync. Off, every Update commits (and fsyncs) on its own, which is
	// only useful for measuring.
	GroupCommit bool
	// MaxBatch caps how many Update functions share one transaction
	// (0 means 128).
	MaxBatch int
	// ReadConns is the size of the View connection pool (0 means 4).
	ReadConns int
	// CacheImages bounds the read cache: about this many decoded images,
	// and as many resources' tags (0 means DefaultCacheImages; negative
	// turns the cache off).
	CacheImages int
	// ReadOnly opens a file that a serving process may own, for an export:
	// no lock held, no read cache (the owner's writes would make it stale),
	// and Update fails. A file nobody owns is migrated first.
	ReadOnly bool
	// Observer, when set, hears of every commit (batch size and latency).
	Observer store.Observer
	// AuditMerge, when positive, indexes audit events once this many wait,
	// at most twice as many at a time (tests: see mergeAudit).
	AuditMerge int
}

// DefaultOptions returns the options amigo runs with.
func DefaultOptions() Options {
	return Options{GroupCommit: true, MaxBatch: 128, ReadConns: 4, CacheImages: DefaultCacheImages}
}

// DefaultCacheImages is the read cache's default bound, ~64 MB of images.
const DefaultCacheImages = 32768

// busyTimeoutMillis bounds how long a connection waits for a lock another
// process holds (a backup tool, the sqlite3 shell) before failing.
const busyTimeoutMillis = 5000

// Store is an instance.Store (and so an image.Store) kept in one SQLite database file.
type Store struct {
	path string
	opts Options

	wdb   *sql.DB     // holds exactly one connection: wconn
	wconn *sql.Conn   // used only by the writer goroutine
	wst   *statements // prepared on wconn
	wc    *stmtCache  // the writer's other statements, prepared on wconn

	lock *os.File // holds the exclusive lock on the database (see lockFile)

	// cache serves hot reads (nil when off); pending lists what the open
	// write transaction touched, for the writer alone. The cache is exact
	// because this Store owns every write to its file (Open takes an
	// exclusive lock on it): after each transaction ends, committed or
	// not, the writer invalidates what it touched (ended) before it
	// acknowledges any caller, so none reads around its own write; a View
	// notes the cache's number before its first statement (beginView).
	cache   *readcache.Cache
	pending []readcache.Invalidation

	// docs memoizes decoded image documents for reads the read cache does
	// not serve: the writer's, and every read when the cache is off.
	docs *record.Docs

	// auditUnmerged counts the events written since the last audit merge
	// (writer goroutine only; see mergeAudit).
	auditUnmerged int

	rdb *sql.DB     // query-only pool for View
	rst *statements // prepared on rdb, bound to each View transaction
	rc  *stmtCache  // View's other statements, prepared on rdb

	mu         sync.RWMutex // guards closed against sends on queue
	closed     bool
	isClosed   atomic.Bool // lock-free copy of closed for View
	queue      chan *request
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error

	// commits counts committed write transactions, for tests and
	// benchmarks: fewer commits than updates is group commit at work.
	commits atomic.Int64

	// beforeCommit, when set by a test, runs before each COMMIT; an error
	// makes the COMMIT fail.
	beforeCommit func() error
}

var _ instance.Store = (*Store)(nil)

// Open opens the database at path, creating the file (and its directory)
// when missing, and migrates it to the current schema.
func Open(path string, opts Options) (*Store, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 128
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if opts.CacheImages == 0 {
		opts.CacheImages = DefaultCacheImages
	}
	if opts.ReadOnly {
		return openReadOnly(path, opts)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	s := &Store{
		path:       path,
		opts:       opts,
		queue:      make(chan *request, opts.MaxBatch),
		writerDone: make(chan struct{}),
		docs:       record.NewDocs(0),
	}
	if opts.CacheImages > 0 && !opts.ReadOnly {
		s.cache = readcache.New(opts.CacheImages)
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	s.lock = lock
	if err := s.open(); err != nil {
		s.closeDBs()
		return nil, err
	}
	go s.writeLoop()
	return s, nil
}

// openReadOnly opens an existing file for reading alone (an export): no
// lock, no writer, no migration, and no file created, so that a store on a
// read-only mount can be read, and beside a server that owns it. The file
// must have been opened once by this version's `amigo serve` (which
// migrates it). Where the folder cannot be written, SQLite is told the file
// is immutable: nothing can change it there, and SQLite then needs no
// shared-memory file beside it.
// folderWritable reports whether files can be created in dir: false on a
// read-only mount (EROFS, even for root). A variable so tests can play a
// read-only mount without one.
var folderWritable = func(dir string) bool {
	return syscall.Access(dir, 2 /* W_OK */) == nil
}

func openReadOnly(path string, opts Options) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s := &Store{path: path, opts: opts, queue: make(chan *request), writerDone: make(chan struct{})}
	close(s.writerDone) // no writer: Update refuses before it would queue
	params := url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeoutMillis)},
		"_query_only":   {"1"},
		"mode":          {"ro"},
	}
	if !folderWritable(filepath.Dir(path)) {
		// Immutable would skip a write-ahead log that was never
		// checkpointed (a server killed, not stopped): refuse rather than
		// read stale data.
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
			return nil, fmt.Errorf("sqlite: %s has a write-ahead log that cannot be applied in a folder that cannot be written; copy the folder somewhere writable to read it", path)
		}
		params.Set("immutable", "1")
	}
	if err := s.openReaders(params); err != nil {
		s.closeDBs()
		return nil, err
	}
	return s, nil
}

func (s *Store) open() error {
	ctx := context.Background()
	// synchronous=FULL: a COMMIT returns only after the WAL is fsynced, so
	// an acknowledged Update survives kill -9 and power loss.
	wdb, err := sql.Open("sqlite", dsn(s.path, url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeoutMillis)},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
	}))
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	s.wdb = wdb
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	if s.wconn, err = wdb.Conn(ctx); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	if s.lock != nil {
		if err := migrate(ctx, s.wconn); err != nil {
			return err
		}
		if err := releaseLeases(ctx, s.wconn); err != nil {
			return err
		}
		// Events a crash left unindexed are merged with the first writes.
		if err := s.wconn.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE seq > (SELECT seq FROM audit_merged)`).Scan(&s.auditUnmerged); err != nil {
			return fmt.Errorf("sqlite: open %s: %w", s.path, err)
		}
	}
	if s.wst, err = prepare(ctx, s.wconn, true); err != nil {
		return err
	}
	s.wc = newStmtCache(s.wconn, stmtCacheSize, false)

	// Readers are query_only so a View can never write, even by mistake.
	return s.openReaders(url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeoutMillis)},
		"_query_only":   {"1"},
	})
}

func (s *Store) openReaders(params url.Values) error {
	ctx := context.Background()
	rdb, err := sql.Open("sqlite", dsn(s.path, params))
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	s.rdb = rdb
	rdb.SetMaxOpenConns(s.opts.ReadConns)
	rdb.SetMaxIdleConns(s.opts.ReadConns)
	rdb.SetConnMaxLifetime(0)
	rdb.SetConnMaxIdleTime(0)
	if s.rst, err = prepare(ctx, rdb, false); err != nil {
		return err
	}
	s.rc = newStmtCache(rdb, stmtCacheSize, true)
	return nil
}

// dsn builds a SQLite URI for path. The path is escaped because the driver
// splits the DSN at the first '?'.
func dsn(path string, params url.Values) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + esc + "?" + params.Encode()
}

// Path returns the database file's path, for reopening the same data.
func (s *Store) Path() string { return s.path }

// View runs fn in a read-only transaction on a pooled connection. The
// snapshot is taken at the first read and holds until fn returns; the writer
// never blocks it.
func (s *Store) View(ctx context.Context, fn func(image.Tx) error) error {
	t, err := s.beginView()
	if err != nil {
		return err
	}
	defer t.endView()
	return fn(t)
}

// ViewInstances is View for functions that also read instances.
func (s *Store) ViewInstances(ctx context.Context, fn func(instance.Tx) error) error {
	t, err := s.beginView()
	if err != nil {
		return err
	}
	defer t.endView()
	return fn(t)
}

func (s *Store) beginView() (*tx, error) {
	if s.isClosed.Load() {
		return nil, ErrClosed
	}
	t := &tx{s: s, st: s.rst, cache: s.rc, rc: s.cache}
	if s.cache != nil {
		t.seen = s.cache.Now()
	}
	return t, nil
}

// endView ends a read-only transaction: there is nothing to commit, and
// rolling back just releases the snapshot.
func (t *tx) endView() {
	if t.sqlTx != nil {
		_ = t.sqlTx.Rollback()
	}
}

// Close stops accepting updates, lets the queued ones finish, and closes
// the database. Later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.isClosed.Store(true)
		close(s.queue)
		s.mu.Unlock()
		<-s.writerDone
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, c := range []*stmtCache{s.wc, s.rc} {
		if c != nil {
			errs = append(errs, c.close())
		}
	}
	for _, st := range []*statements{s.wst, s.rst} {
		if st != nil {
			errs = append(errs, st.close())
		}
	}
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	for _, db := range []*sql.DB{s.wdb, s.rdb} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close()) // releases the lock
	}
	return errors.Join(errs...)
}
