package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
)

var errReadOnly = errors.New("sqlite: write in a read-only transaction (View)")

// queryer is what a transaction runs statements on: the writer's *sql.Conn
// (inside BEGIN IMMEDIATE) or a View's *sql.Tx.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// statements are the hot single-row paths, prepared once.
type statements struct {
	imageByID *sql.Stmt // with its launch permissions

	// Write statements; nil on the read pool.
	insertImage *sql.Stmt
	updateImage *sql.Stmt
	deletePerms *sql.Stmt
	insertPerm  *sql.Stmt
}

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func prepare(ctx context.Context, p preparer, write bool) (*statements, error) {
	st := &statements{}
	list := []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.imageByID, `SELECT ` + record.ImageColumns + `, lp.kind, lp.value FROM images i
LEFT JOIN launch_permissions lp ON lp.region = i.region AND lp.image_id = i.image_id
WHERE i.region = ? AND i.image_id = ? ORDER BY lp.seq`},
	}
	if write {
		list = append(list, []struct {
			dst   **sql.Stmt
			query string
		}{
			// The key last in both, so that both take record.ImageValues
			// with the key appended.
			{&st.insertImage, `INSERT INTO images (` + record.List(record.ImageValueColumns) + `, ` + record.List(record.ImageKeyColumns) + `)
VALUES (` + placeholders(len(record.ImageKeyColumns)+len(record.ImageValueColumns)) + `)`},
			{&st.updateImage, `UPDATE images SET ` + record.Assign(record.ImageValueColumns, 1, placeholder) + `
WHERE region = ? AND image_id = ?`},
			{&st.deletePerms, `DELETE FROM launch_permissions WHERE region = ? AND image_id = ?`},
			{&st.insertPerm, `INSERT INTO launch_permissions (region, image_id, kind, value, seq) VALUES (?, ?, ?, ?, ?)`},
		}...)
	}
	for _, l := range list {
		stmt, err := p.PrepareContext(ctx, l.query)
		if err != nil {
			_ = st.close()
			return nil, fmt.Errorf("sqlite: prepare %q: %w", l.query, err)
		}
		*l.dst = stmt
	}
	return st, nil
}

func (st *statements) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{st.imageByID, st.insertImage, st.updateImage, st.deletePerms, st.insertPerm} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// tx implements image.Tx on either side.
type tx struct {
	s     *Store
	q     queryer
	sqlTx *sql.Tx // set for View: prepared statements must be bound to it
	st    *statements
	cache *stmtCache // prepared on the same side as st
	write bool

	// View only: the read cache (nil when off) and the commit number noted
	// before the first read. The SQL transaction begins at the first read
	// the cache cannot serve.
	rc   *readcache.Cache
	seen uint64

	// Write only: each image's child rows as this function read or last
	// wrote them, so that UpdateImage rewrites them only when they changed
	// (a description or IMDS change leaves them alone).
	rows map[readcache.Key]imageRows
}

// imageRows are the child rows of an image that UpdateImage keeps: its
// launch permissions and the snapshot ids it references.
type imageRows struct {
	perms []image.LaunchPermission
	refs  []string
}

// noteRows records the child rows img has in the transaction now; refs
// is record.SnapshotRefs(img) when the caller has it, nil to compute it.
func (t *tx) noteRows(img *image.Image, refs []string) {
	if !t.write {
		return
	}
	if refs == nil {
		refs = record.SnapshotRefs(img)
	}
	if t.rows == nil {
		t.rows = make(map[readcache.Key]imageRows, 1)
	}
	t.rows[readcache.Key{Region: img.Region, ID: img.ID}] = imageRows{perms: slices.Clone(img.LaunchPermissions), refs: refs}
}

var _ instance.Tx = (*tx)(nil)

// dctx is the context handed to the driver. The writer checks the caller's
// context and then uses its own (see Store.exec); a reader's transaction is
// its caller's alone, so cancelling it mid-query is fine. On the read side it
// begins the SQL transaction if that has not happened yet.
func (t *tx) dctx(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.write {
		return context.Background(), nil
	}
	if t.sqlTx == nil {
		stx, err := t.s.rdb.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("sqlite: begin read: %w", err)
		}
		t.sqlTx, t.q = stx, stx
	}
	return ctx, nil
}

// touch records what a write changed, for the writer to drop from the read
// cache once the transaction ends.
func (t *tx) touch(inv readcache.Invalidation) {
	if t.s.cache != nil {
		t.s.pending = append(t.s.pending, inv)
	}
}

// writeCtx is dctx for the write methods: it refuses them inside View.
func (t *tx) writeCtx(ctx context.Context) (context.Context, error) {
	if !t.write {
		return nil, errReadOnly
	}
	return t.dctx(ctx)
}

// stmt returns a prepared statement usable in this transaction.
func (t *tx) stmt(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	if t.sqlTx != nil {
		return t.sqlTx.StmtContext(ctx, s)
	}
	return s
}

// query runs a SELECT through the statement cache. done releases the
// statement and must be called after rows is closed.
func (t *tx) query(ctx context.Context, query string, args ...any) (rows *sql.Rows, done func(), err error) {
	cs, err := t.cache.acquire(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if cs == nil {
		rows, err = t.q.QueryContext(ctx, query, args...)
		return rows, func() {}, err
	}
	rows, err = t.stmt(ctx, cs.stmt).QueryContext(ctx, args...)
	if err != nil {
		t.cache.release(cs)
		return nil, nil, err
	}
	return rows, func() { t.cache.release(cs) }, nil
}

// queryRow runs a single-row SELECT through the statement cache and scans
// its row into dest; no row is sql.ErrNoRows.
func (t *tx) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	cs, err := t.cache.acquire(ctx, query)
	if err != nil {
		return err
	}
	if cs == nil {
		return t.q.QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	defer t.cache.release(cs)
	return t.stmt(ctx, cs.stmt).QueryRowContext(ctx, args...).Scan(dest...)
}

// exec runs a write statement through the statement cache.
func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	cs, err := t.cache.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return t.q.ExecContext(ctx, query, args...)
	}
	defer t.cache.release(cs)
	return t.stmt(ctx, cs.stmt).ExecContext(ctx, args...)
}

// isDuplicate reports whether err is a primary key or unique constraint
// violation.
func isDuplicate(err error) bool {
	var serr *sqlite.Error
	if !errors.As(err, &serr) {
		return false
	}
	switch serr.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return true
	}
	return false
}

// maxParams keeps IN lists well below SQLite's bound-parameter limit.
const maxParams = 500

// placeholder is SQLite's placeholder for any parameter (record.Assign).
func placeholder(int) string { return "?" }

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// dedupe returns ids without repeats, keeping the first occurrence.
func dedupe(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}
