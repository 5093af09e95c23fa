package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
)

var errReadOnly = errors.New("postgres: write in a read-only transaction (View)")

// searchMode runs a search (FindImages, ListTags, FindInstances and the
// launch permissions of a page) as an unnamed statement, planned for its
// actual values on every execution, still in one round trip. A named
// prepared statement would switch to a generic plan after five runs, and
// for searches that plan can be disastrous: not knowing the region, the
// planner guesses it leaves one image and re-runs the visible-candidates
// union for every image (100 times slower on 1,000 images). Single-row
// statements keep pgx's prepared statements, whose generic plans are as
// good as any and skip planning.
const searchMode = pgx.QueryExecModeCacheDescribe

// querier is what a tx runs statements on: a pipe.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// tx implements image.Tx on a pgx transaction.
type tx struct {
	tx    querier
	pipe  *pipe        // the same, for what can wait (later)
	docs  *record.Docs // the store's
	write bool

	// Write only: each image's child rows as this function read or last
	// wrote them. UpdateImage of such an image need not wait for its
	// answer (the row is there, or the update is a serialization failure),
	// and rewrites the child rows only when they changed.
	rows map[readcache.Key]imageRows

	// Update only: the read cache, when this attempt may read images from
	// it (see checkedImage).
	wc *readcache.Cache

	// View only: the read cache (nil when off), the invalidation number
	// noted before the first statement, and whether the cache may answer
	// (0 not asked yet, 1 yes, -1 no: see listener.sync).
	s      *Store
	rc     *readcache.Cache
	seen   uint64
	synced int8
	// conflict is the first serialization failure or deadlock a statement
	// met. The transaction is then aborted, and Update runs fn again
	// whatever fn made of the error.
	conflict error
}

var _ instance.Tx = (*tx)(nil)

// imageRows are the child rows of an image that UpdateImage keeps: its
// launch permissions and the snapshot ids it references.
type imageRows struct {
	perms []image.LaunchPermission
	refs  []string
}

// noteRows records, in a write, the child rows img has in the transaction
// now; refs is record.SnapshotRefs(img) when the caller has it, nil to
// compute it.
func (t *tx) noteRows(img *image.Image, refs []string) {
	if !t.write {
		return
	}
	if refs == nil {
		refs = snapshotRefs(img)
	}
	if t.rows == nil {
		t.rows = make(map[readcache.Key]imageRows, 1)
	}
	t.rows[readcache.Key{Region: img.Region, ID: img.ID}] = imageRows{perms: slices.Clone(img.LaunchPermissions), refs: refs}
}

// later queues statements that need no answer yet (see pipe); in a View,
// where no write reaches this, or without a pipe, they run now.
func (t *tx) later(ctx context.Context, qs ...queued) error {
	if t.pipe == nil {
		b := &pgx.Batch{}
		for _, q := range qs {
			qq := b.Queue(q.sql, q.args...)
			switch {
			case q.row != nil:
				qq.QueryRow(q.row)
			case q.check != nil:
				qq.Exec(q.check)
			}
		}
		return t.tx.SendBatch(ctx, b).Close()
	}
	for _, q := range qs {
		t.pipe.later(q)
	}
	return nil
}

// Statements built from record's column lists; $1 and $2 are the key.
var (
	imageParams = len(record.ImageKeyColumns) + len(record.ImageValueColumns)
	// insertImageSQL takes the image's columns, then its launch
	// permissions as arrays of kind, value and position.
	insertImageSQL = `WITH ins AS (
	INSERT INTO images (` + record.List(record.ImageKeyColumns) + `, ` + record.List(record.ImageValueColumns) + `)
	VALUES (` + placeholders(1, imageParams) + `)
	ON CONFLICT (region, image_id) DO NOTHING
	RETURNING region, image_id
), perms AS (
	INSERT INTO launch_permissions (region, image_id, kind, value, seq)
	SELECT ins.region, ins.image_id, p.kind, p.value, p.seq
	FROM ins, unnest(` + placeholder(imageParams+1) + `::text[], ` + placeholder(imageParams+2) + `::text[], ` + placeholder(imageParams+3) + `::integer[]) AS p(kind, value, seq)
), refs AS (
	INSERT INTO image_snapshots (region, snapshot_id, image_id, creation_date)
	SELECT ins.region, r.id, ins.image_id, ` + placeholder(imageParams+5) + `
	FROM ins, unnest(` + placeholder(imageParams+4) + `::text[]) AS r(id)
)
SELECT count(*) FROM ins`
	updateImageSQL = `UPDATE images SET ` + record.Assign(record.ImageValueColumns, len(record.ImageKeyColumns)+1, placeholder) + `
WHERE region = $1 AND image_id = $2`
	updateKnownImageSQL = `WITH u AS (` + updateImageSQL + ` RETURNING xmin::text::bigint AS v)
SELECT amigo_still(EXISTS (SELECT FROM u)), (SELECT v FROM u)`
)

// placeholder is PostgreSQL's placeholder for parameter n (record.Assign).
func placeholder(n int) string { return "$" + strconv.Itoa(n) }

// placeholders returns the placeholders of n parameters from first on.
func placeholders(first, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = placeholder(first + i)
	}
	return strings.Join(ps, ", ")
}

// fail records err for Update's retry decision and returns it wrapped,
// with store.ErrUnavailable in the chain when the database did not answer.
func (t *tx) fail(err error, format string, args ...any) error {
	if t.conflict == nil && isConflict(err) {
		t.conflict = err
	}
	return unavailable(fmt.Errorf("postgres: "+format+": %w", append(args, err)...))
}

// cached returns the read cache if this View may read from it: once a
// sync showed that every write acknowledged before the View began has been
// applied to it. Values read from the database go into t.rc regardless.
func (t *tx) cached(ctx context.Context) *readcache.Cache {
	if t.rc == nil {
		return nil
	}
	if t.synced == 0 {
		t.synced = -1
		if t.s.listener.sync(ctx) {
			t.synced = 1
		}
	}
	if t.synced < 0 {
		return nil
	}
	return t.rc
}

func (t *tx) writable(ctx context.Context) error {
	if !t.write {
		return errReadOnly
	}
	return ctx.Err()
}

// matchable reports whether s could equal a stored string: PostgreSQL text
// holds only valid UTF-8 without NUL, and rejects a parameter that is not.
// A lookup by such a value (a client's malformed filter) finds nothing, as
// it does in SQLite, instead of failing the transaction.
func matchable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// matchableOnly returns the distinct matchable strings of ss, and false when
// ss had some but none is matchable (the lookup then finds nothing).
func matchableOnly(ss []string) ([]string, bool) {
	if len(ss) == 0 {
		return nil, true
	}
	seen := make(map[string]struct{}, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if _, dup := seen[s]; dup || !matchable(s) {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	return out, len(out) > 0
}

// scanImage reads the record.ImageColumns of the current row, and any
// extra columns into extra.
func (t *tx) scanImage(rows pgx.Rows, extra ...any) (*image.Image, error) {
	return record.ScanImage(rows, t.docs, extra...)
}

func (t *tx) Image(ctx context.Context, region, id string) (*image.Image, error) {
	if !matchable(region) || !matchable(id) {
		return nil, resource.ErrNotFound
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rc := t.cached(ctx); rc != nil {
		if img := rc.Image(region, id); img != nil {
			return img.Clone(), nil
		}
	}
	if t.wc != nil {
		if img, ver := t.wc.ImageVersion(region, id); img != nil && ver != 0 {
			return t.checkedImage(ctx, img, ver)
		}
	}
	img, ver, err := t.imageSQL(ctx, region, id)
	if err == nil {
		if t.rc != nil {
			t.rc.PutImageVersion(t.seen, readcache.Frozen(img), ver)
		}
		t.noteRows(img, nil)
	}
	return img, err
}

// checkedImage is an Update's read of an image through the read cache,
// which saves the round trip a modification would otherwise spend reading.
// The cache may be behind the database (another process's commit not yet
// heard of), so the transaction checks, in its own snapshot, that the row
// is the version the cache holds: a read like any other (SERIALIZABLE
// tracks it), with the answer known in advance. The check need not be
// waited for: it travels with the writes (see pipe), and when it fails
// amigo_still fails the transaction on the server, before the writes
// behind it, as a serialization failure: it runs again, reading the
// database.
// Launch permissions are rows of their own, but every change to them
// updates the image's row too (UpdateImage), so the image's version covers
// them.
func (t *tx) checkedImage(ctx context.Context, cached *image.Image, ver uint64) (*image.Image, error) {
	err := t.later(ctx, queued{sql: `SELECT amigo_still(EXISTS (SELECT FROM images i
WHERE i.region = $1 AND i.image_id = $2 AND ` + imageVersion + ` = $3))`,
		args: []any{cached.Region, cached.ID, int64(ver)}})
	if err != nil {
		return nil, t.fail(err, "image %s", cached.ID)
	}
	img := cached.Clone()
	t.noteRows(img, nil)
	return img, nil
}

// imageVersion is the SQL of a row's version: the id of the transaction
// that wrote it, which every UPDATE changes (see checkedImage).
const imageVersion = `i.xmin::text::bigint`

// imageSQL reads an image with its launch permissions and its row's
// version (see checkedImage).
func (t *tx) imageSQL(ctx context.Context, region, id string) (*image.Image, uint64, error) {
	// One statement returns the image once per launch permission (or once
	// with NULLs): one round trip instead of two.
	rows, err := t.tx.Query(ctx, `SELECT `+record.ImageColumns+`, lp.kind, lp.value, `+imageVersion+` FROM images i
LEFT JOIN launch_permissions lp ON lp.region = i.region AND lp.image_id = i.image_id
WHERE i.region = $1 AND i.image_id = $2 ORDER BY lp.seq`, region, id)
	if err != nil {
		return nil, 0, t.fail(err, "image %s", id)
	}
	defer rows.Close()
	var img *image.Image
	var ver int64
	for rows.Next() {
		var kind, value *string
		if img == nil {
			img, err = t.scanImage(rows, &kind, &value, &ver)
			if err != nil {
				return nil, 0, t.fail(err, "image %s", id)
			}
		} else {
			// nil destinations skip the image's columns.
			dest := record.SkipImage(nil, &kind, &value)
			if err := rows.Scan(append(dest[:], nil)...); err != nil {
				return nil, 0, t.fail(err, "image %s", id)
			}
		}
		if kind != nil {
			img.LaunchPermissions = append(img.LaunchPermissions, image.LaunchPermission{Kind: image.PermissionKind(*kind), Value: *value})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, t.fail(err, "image %s", id)
	}
	if img == nil {
		return nil, 0, resource.ErrNotFound
	}
	return img, uint64(ver), nil
}

// permArrays returns img's launch permissions, distinct by image.Tx's
// contract, as parallel arrays of kind, value and position.
func permArrays(img *image.Image) (kinds, values []string, seqs []int32) {
	n := len(img.LaunchPermissions)
	kinds, values, seqs = make([]string, n), make([]string, n), make([]int32, n)
	for i, p := range img.LaunchPermissions {
		kinds[i], values[i], seqs[i] = string(p.Kind), p.Value, int32(i)
	}
	return kinds, values, seqs
}

// snapshotRefs is record.SnapshotRefs as a non-nil array parameter.
func snapshotRefs(img *image.Image) []string {
	if refs := record.SnapshotRefs(img); refs != nil {
		return refs
	}
	return []string{}
}

func (t *tx) InsertImage(ctx context.Context, img *image.Image) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	cols, err := record.ImageValues(img)
	if err != nil {
		return err
	}
	kinds, values, seqs := permArrays(img)
	args := append([]any{img.Region, img.ID}, cols...)
	args = append(args, kinds, values, seqs, snapshotRefs(img), record.Millis(img.CreationDate))
	// ON CONFLICT DO NOTHING keeps the transaction usable when the image
	// exists (a unique violation would abort it); the permissions follow
	// only a row actually inserted. Under SERIALIZABLE a conflicting row
	// this snapshot cannot see is a serialization failure, so a retry
	// decides. One round trip.
	var inserted int
	b := &pgx.Batch{}
	b.Queue(insertImageSQL, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&inserted) })
	t.notifyChange(b, change{kind: changeImage, region: img.Region, id: img.ID})
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return t.fail(err, "insert image %s", img.ID)
	}
	if inserted == 0 {
		return resource.ErrExists
	}
	t.noteRows(img, args[len(args)-2].([]string))
	return nil
}

func (t *tx) UpdateImage(ctx context.Context, img *image.Image) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	cols, err := record.ImageValues(img)
	if err != nil {
		return err
	}
	key := readcache.Key{Region: img.Region, ID: img.ID}
	prev, known := t.rows[key]
	refs := snapshotRefs(img)
	var found bool
	upd := queued{sql: updateImageSQL, args: append([]any{img.Region, img.ID}, cols...),
		check: func(tag pgconn.CommandTag) error {
			found = tag.RowsAffected() > 0
			return nil
		}}
	notify := t.notifyQuery(change{kind: changeImage, region: img.Region, id: img.ID})
	if known && t.pipe != nil {
		// The row is there (see below); amigo_still makes sure on the
		// server, since no one waits for the answer. The row's new
		// version comes back, and the notification carries it, so that
		// the image can stay in the cache as written (pipe.committed).
		w := &writtenImage{img: readcache.Frozen(img)}
		upd = queued{sql: updateKnownImageSQL, args: upd.args, row: func(row pgx.Row) error {
			var ok bool
			return row.Scan(&ok, &w.version)
		}}
		t.pipe.changes = t.pipe.changes[:len(t.pipe.changes)-1] // committed notes it, with the version
		t.pipe.written = append(t.pipe.written, w)
		notify = queued{sql: notifyVersionSQL, args: []any{img.Region, img.ID}}
	}
	qs := []queued{upd, notify}
	// The permissions change by difference: rows that stay are rewritten
	// only when their position moved, so adding one grant writes one row.
	// Both permission statements are no-ops when the image does not exist.
	if !known || !slices.Equal(prev.perms, img.LaunchPermissions) {
		kinds, values, seqs := permArrays(img)
		qs = append(qs, queued{sql: `DELETE FROM launch_permissions
WHERE region = $1 AND image_id = $2
	AND (kind, value) NOT IN (SELECT * FROM unnest($3::text[], $4::text[]))`, args: []any{img.Region, img.ID, kinds, values}})
		if len(kinds) > 0 {
			qs = append(qs, queued{sql: `INSERT INTO launch_permissions (region, image_id, kind, value, seq)
SELECT $1, $2, p.kind, p.value, p.seq FROM unnest($3::text[], $4::text[], $5::integer[]) AS p(kind, value, seq)
WHERE EXISTS (SELECT 1 FROM images WHERE region = $1 AND image_id = $2)
ON CONFLICT (region, image_id, kind, value) DO UPDATE SET seq = excluded.seq
	WHERE launch_permissions.seq <> excluded.seq`, args: []any{img.Region, img.ID, kinds, values, seqs}})
		}
	}
	// The snapshot references follow the same way (record.SnapshotRefs).
	if !known || !slices.Equal(prev.refs, refs) {
		qs = append(qs, queued{sql: `DELETE FROM image_snapshots WHERE region = $1 AND image_id = $2 AND snapshot_id <> ALL($3::text[])`,
			args: []any{img.Region, img.ID, refs}})
		if len(refs) > 0 {
			qs = append(qs, queued{sql: `INSERT INTO image_snapshots (region, snapshot_id, image_id, creation_date)
SELECT $1, r.id, $2, $4 FROM unnest($3::text[]) AS r(id)
WHERE EXISTS (SELECT 1 FROM images WHERE region = $1 AND image_id = $2)
ON CONFLICT DO NOTHING`, args: []any{img.Region, img.ID, refs, record.Millis(img.CreationDate)}})
		}
	}
	if known {
		// This transaction read the row, so under SERIALIZABLE the
		// update finds it or is a serialization failure: its answer
		// can wait (see pipe).
		t.noteRows(img, refs)
		return t.later(ctx, qs...)
	}
	// Otherwise whether the image exists is the answer: one round trip.
	b := &pgx.Batch{}
	for _, q := range qs {
		qq := b.Queue(q.sql, q.args...)
		if q.check != nil {
			check := q.check
			qq.Exec(func(tag pgconn.CommandTag) error { return check(tag) })
		}
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return t.fail(err, "update image %s", img.ID)
	}
	if !found {
		return resource.ErrNotFound
	}
	t.noteRows(img, refs)
	return nil
}

func (t *tx) DeleteImage(ctx context.Context, region, id string) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	if !matchable(region) || !matchable(id) {
		return resource.ErrNotFound
	}
	// Launch permissions go by ON DELETE CASCADE; every account's tags go
	// with the image, and only when it existed.
	var deleted int
	b := &pgx.Batch{}
	b.Queue(`WITH del AS (
	DELETE FROM images WHERE region = $1 AND image_id = $2 RETURNING 1
), untag AS (
	DELETE FROM tags WHERE region = $1 AND resource_id = $2 AND EXISTS (SELECT 1 FROM del)
)
SELECT count(*) FROM del`, region, id).QueryRow(func(row pgx.Row) error { return row.Scan(&deleted) })
	t.notifyChange(b, change{kind: changeImageAndTags, region: region, id: id})
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return t.fail(err, "delete image %s", id)
	}
	if deleted == 0 {
		return resource.ErrNotFound
	}
	delete(t.rows, readcache.Key{Region: region, ID: id})
	return nil
}

func (t *tx) ImageIDByName(ctx context.Context, region, owner, name string) (string, error) {
	if !matchable(region) || !matchable(owner) || !matchable(name) {
		return "", nil
	}
	var id string
	err := t.tx.QueryRow(ctx, `SELECT image_id FROM images
WHERE region = $1 AND owner_id = $2 AND name = $3 AND state <> $4
ORDER BY image_id LIMIT 1`, region, owner, name, image.StateDeregistered).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", t.fail(err, "image by name %q", name)
	}
	return id, nil
}

func (t *tx) CountImages(ctx context.Context, region, owner string) (int, error) {
	if !matchable(region) || !matchable(owner) {
		return 0, nil
	}
	// images_owner_state serves it with an index-only scan; under
	// SERIALIZABLE the range read also makes two concurrent registrations
	// of one account conflict, so a quota checked here cannot be overshot.
	var n int
	err := t.tx.QueryRow(ctx, `SELECT COUNT(*) FROM images
WHERE region = $1 AND owner_id = $2 AND state <> $3`, region, owner, image.StateDeregistered).Scan(&n)
	if err != nil {
		return 0, t.fail(err, "count images of %s", owner)
	}
	return n, nil
}

func (t *tx) FindImages(ctx context.Context, q image.Query) ([]*image.Image, error) {
	if t.rc != nil && len(q.IDs) > 0 && q.Region != "" && matchable(q.Region) {
		return t.findByID(ctx, q)
	}
	return t.findImagesSQL(ctx, q)
}

// findByID is FindImages through the read cache for a query naming its
// images: each comes from the cache, or from the database for the rest,
// and q is applied in Go (image.Query.Matches, which the randomized cache
// test checks against the SQL).
func (t *tx) findByID(ctx context.Context, q image.Query) ([]*image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids, ok := matchableOnly(q.IDs)
	if !ok {
		return nil, nil
	}
	slices.Sort(ids)
	match := q
	match.IDs = nil
	out := make([]*image.Image, len(ids))
	miss := ids
	if rc := t.cached(ctx); rc != nil {
		miss = nil
		for i, id := range ids {
			img := rc.Image(q.Region, id)
			switch {
			case img == nil:
				miss = append(miss, id)
			case match.Matches(img):
				out[i] = img // shared: FindImages' images are read-only
			}
		}
	}
	if len(miss) > 0 {
		imgs, vers, err := t.imagesByID(ctx, q.Region, miss)
		if err != nil {
			return nil, err
		}
		keep := t.rc.RoomFor(len(imgs))
		byID := make(map[string]*image.Image, len(imgs))
		for i, img := range imgs {
			byID[img.ID] = img
			if keep {
				t.rc.PutImageVersion(t.seen, readcache.Frozen(img), vers[i])
			}
		}
		for i, id := range ids {
			if img := byID[id]; img != nil && out[i] == nil && match.Matches(img) {
				out[i] = img
			}
		}
	}
	out = slices.DeleteFunc(out, func(img *image.Image) bool { return img == nil })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// imagesByID reads the images of ids (distinct and matchable), with their
// launch permissions and row versions: two statements in one round trip,
// which for a View's first read carries its BEGIN too (see pipe).
func (t *tx) imagesByID(ctx context.Context, region string, ids []string) (imgs []*image.Image, vers []uint64, err error) {
	byID := make(map[string]*image.Image, len(ids))
	b := &pgx.Batch{}
	b.Queue(`SELECT `+record.ImageColumns+`, `+imageVersion+` FROM images i
WHERE i.region = $1 AND i.image_id = ANY($2)`, region, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var ver int64
			img, err := t.scanImage(rows, &ver)
			if err != nil {
				return err
			}
			imgs, vers = append(imgs, img), append(vers, uint64(ver))
			byID[img.ID] = img
		}
		return rows.Err()
	})
	b.Queue(`SELECT image_id, kind, value FROM launch_permissions
WHERE region = $1 AND image_id = ANY($2) ORDER BY image_id, seq`, region, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			var p image.LaunchPermission
			if err := rows.Scan(&id, &p.Kind, &p.Value); err != nil {
				return err
			}
			if img := byID[id]; img != nil {
				img.LaunchPermissions = append(img.LaunchPermissions, p)
			}
		}
		return rows.Err()
	})
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, t.fail(err, "images by id")
	}
	return imgs, vers, nil
}

// findImagesSQL is FindImages read entirely from the database.
func (t *tx) findImagesSQL(ctx context.Context, q image.Query) ([]*image.Image, error) {
	query, args, ok := findQuery(q)
	if !ok {
		return nil, nil
	}
	rows, err := t.tx.Query(ctx, query, append([]any{searchMode}, args...)...)
	if err != nil {
		return nil, t.fail(err, "find images")
	}
	var imgs []*image.Image
	for rows.Next() {
		img, err := t.scanImage(rows)
		if err != nil {
			rows.Close()
			return nil, t.fail(err, "find images")
		}
		imgs = append(imgs, img)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, "find images")
	}
	if err := t.loadPerms(ctx, imgs); err != nil {
		return nil, err
	}
	return imgs, nil
}

// loadPerms fills the launch permissions of imgs with one query per region
// (nearly always one), however many images there are.
func (t *tx) loadPerms(ctx context.Context, imgs []*image.Image) error {
	if len(imgs) == 0 {
		return nil
	}
	type key struct{ region, id string }
	byKey := make(map[key]*image.Image, len(imgs))
	var regions []string
	ids := map[string][]string{}
	for _, img := range imgs {
		byKey[key{img.Region, img.ID}] = img
		if _, ok := ids[img.Region]; !ok {
			regions = append(regions, img.Region)
		}
		ids[img.Region] = append(ids[img.Region], img.ID)
	}
	for _, region := range regions {
		rows, err := t.tx.Query(ctx, `SELECT image_id, kind, value FROM launch_permissions
WHERE region = $1 AND image_id = ANY($2) ORDER BY image_id, seq`, searchMode, region, ids[region])
		if err != nil {
			return t.fail(err, "load launch permissions")
		}
		for rows.Next() {
			var id string
			var p image.LaunchPermission
			if err := rows.Scan(&id, &p.Kind, &p.Value); err != nil {
				rows.Close()
				return t.fail(err, "load launch permissions")
			}
			if img := byKey[key{region, id}]; img != nil {
				img.LaunchPermissions = append(img.LaunchPermissions, p)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return t.fail(err, "load launch permissions")
		}
	}
	return nil
}

func (t *tx) Tags(ctx context.Context, region, account string, resourceIDs []string) (map[string][]resource.Tag, error) {
	ids, ok := matchableOnly(resourceIDs)
	if len(ids) == 0 || !ok || !matchable(region) || !matchable(account) {
		return make(map[string][]resource.Tag), nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.rc == nil {
		return t.tagsSQL(ctx, region, account, ids)
	}
	out := make(map[string][]resource.Tag, len(ids))
	miss := ids
	if rc := t.cached(ctx); rc != nil {
		miss = nil
		for _, id := range ids {
			if tags, ok := rc.Tags(region, account, id); !ok {
				miss = append(miss, id)
			} else if len(tags) > 0 {
				out[id] = tags // shared: Tags' lists are read-only
			}
		}
		if len(miss) == 0 {
			return out, nil
		}
	}
	fetched, err := t.tagsSQL(ctx, region, account, miss)
	if err != nil {
		return nil, err
	}
	if t.rc.RoomFor(len(miss)) {
		t.rc.PutTags(t.seen, region, account, miss, fetched)
	}
	maps.Copy(out, fetched)
	return out, nil
}

// tagsSQL is Tags for distinct matchable ids, read from the database.
func (t *tx) tagsSQL(ctx context.Context, region, account string, ids []string) (map[string][]resource.Tag, error) {
	out := make(map[string][]resource.Tag)
	rows, err := t.tx.Query(ctx, `SELECT resource_id, key, value FROM tags
WHERE region = $1 AND account = $2 AND resource_id = ANY($3) ORDER BY resource_id, key`, region, account, ids)
	if err != nil {
		return nil, t.fail(err, "tags")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var tag resource.Tag
		if err := rows.Scan(&id, &tag.Key, &tag.Value); err != nil {
			return nil, t.fail(err, "tags")
		}
		out[id] = append(out[id], tag)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, "tags")
	}
	return out, nil
}

func (t *tx) SetTags(ctx context.Context, region, account, resourceID string, tags []resource.Tag) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	// Keys are distinct (image.Tx).
	keys := make([]string, len(tags))
	values := make([]string, len(tags))
	for i, tag := range tags {
		keys[i], values[i] = tag.Key, tag.Value
	}
	// Nothing here needs an answer: it goes with the next statement.
	qs := []queued{t.notifyQuery(change{kind: changeTags, region: region, id: resourceID}),
		{sql: `DELETE FROM tags WHERE region = $1 AND account = $2 AND resource_id = $3`, args: []any{region, account, resourceID}}}
	if len(keys) > 0 {
		qs = append(qs, queued{sql: `INSERT INTO tags (region, account, resource_id, key, value)
SELECT $1, $2, $3, t.key, t.value FROM unnest($4::text[], $5::text[]) AS t(key, value)`, args: []any{region, account, resourceID, keys, values}})
	}
	if err := t.later(ctx, qs...); err != nil {
		return t.fail(err, "set tags of %s", resourceID)
	}
	return nil
}

// ListTags returns the tags q selects, ordered by resource id and key (then
// region and account, which only a query spanning several sees). With
// region and account given, the walk is the primary key's.
func (t *tx) ListTags(ctx context.Context, q resource.TagQuery) ([]resource.ResourceTag, error) {
	query, args, ok := listTagsQuery(q)
	if !ok {
		return nil, nil
	}
	rows, err := t.tx.Query(ctx, query, append([]any{searchMode}, args...)...)
	if err != nil {
		return nil, t.fail(err, "list tags")
	}
	defer rows.Close()
	var out []resource.ResourceTag
	for rows.Next() {
		var rt resource.ResourceTag
		if err := rows.Scan(&rt.Region, &rt.Account, &rt.ResourceID, &rt.Key, &rt.Value); err != nil {
			return nil, t.fail(err, "list tags")
		}
		out = append(out, rt)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, "list tags")
	}
	return out, nil
}

func (t *tx) Setting(ctx context.Context, region, account, name string) (string, error) {
	if !matchable(region) || !matchable(account) || !matchable(name) {
		return "", resource.ErrNotFound
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	k := readcache.SettingKey{Region: region, Account: account, Name: name}
	v, ok := readcache.SettingVal{}, false
	if rc := t.cached(ctx); rc != nil {
		v, ok = rc.Setting(k)
	}
	if !ok {
		err := t.tx.QueryRow(ctx, `SELECT value FROM settings WHERE region = $1 AND account = $2 AND name = $3`,
			region, account, name).Scan(&v.Value)
		switch {
		case err == nil:
			v.Found = true
		case !errors.Is(err, pgx.ErrNoRows):
			return "", t.fail(err, "setting %s", name)
		}
		if t.rc != nil {
			t.rc.PutSetting(t.seen, k, v)
		}
	}
	if !v.Found {
		return "", resource.ErrNotFound
	}
	return v.Value, nil
}

func (t *tx) SetSetting(ctx context.Context, region, account, name, value string) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	err := t.later(ctx, queued{sql: `INSERT INTO settings (region, account, name, value) VALUES ($1, $2, $3, $4)
ON CONFLICT (region, account, name) DO UPDATE SET value = excluded.value`, args: []any{region, account, name, value}},
		t.notifyQuery(change{kind: changeSetting, region: region, account: account, id: name}))
	if err != nil {
		return t.fail(err, "set setting %s", name)
	}
	return nil
}

// Settings returns every setting, ordered by region, account and name.
func (t *tx) Settings(ctx context.Context) ([]resource.Setting, error) {
	rows, err := t.tx.Query(ctx, `SELECT region, account, name, value FROM settings ORDER BY region, account, name`)
	if err != nil {
		return nil, t.fail(err, "settings")
	}
	defer rows.Close()
	var out []resource.Setting
	for rows.Next() {
		var st resource.Setting
		if err := rows.Scan(&st.Region, &st.Account, &st.Name, &st.Value); err != nil {
			return nil, t.fail(err, "settings")
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, "settings")
	}
	return out, nil
}

// listTagsQuery turns q into one SELECT over tags in ListTags order; ok is
// false when q can match nothing.
func listTagsQuery(q resource.TagQuery) (sql string, args []any, ok bool) {
	var b queryBuilder
	b.sql.WriteString(`SELECT region, account, resource_id, key, value FROM tags WHERE true`)
	if q.Region != "" {
		if !matchable(q.Region) {
			return "", nil, false
		}
		b.and(`region = ` + b.arg(q.Region))
	}
	if q.Account != "" {
		if !matchable(q.Account) {
			return "", nil, false
		}
		b.and(`account = ` + b.arg(q.Account))
	}
	ids, ok := matchableOnly(q.ResourceIDs)
	if !ok {
		return "", nil, false
	}
	if len(ids) > 0 {
		b.and(`resource_id = ANY(` + b.arg(ids) + `)`)
	}
	keys, ok := matchableOnly(q.Keys)
	if !ok {
		return "", nil, false
	}
	if len(keys) > 0 {
		b.and(`key = ANY(` + b.arg(keys) + `)`)
	}
	if q.AfterResourceID != "" || q.AfterKey != "" {
		b.and(`(resource_id, key) > (` + b.arg(q.AfterResourceID) + `, ` + b.arg(q.AfterKey) + `)`)
	}
	b.sql.WriteString(` ORDER BY resource_id, key, region, account`)
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ` + b.arg(q.Limit))
	}
	return b.sql.String(), b.args, true
}

// notifyChange queues in b the notification of a change (see listener):
// sent in the write's own round trip, delivered only if it commits.
// The transaction's pipe notes the change too, for the store to drop at
// once from its own cache when the transaction commits.
func (t *tx) notifyChange(b *pgx.Batch, c change) {
	b.Queue(notifySQL, c.payload())
	t.noteChange(c)
}

// notifyQuery is notifyChange's statement, to queue on a pipe.
func (t *tx) notifyQuery(c change) queued {
	t.noteChange(c)
	return queued{sql: notifySQL, args: []any{c.payload()}}
}

func (t *tx) noteChange(c change) {
	if t.pipe != nil && t.write {
		t.pipe.changes = append(t.pipe.changes, c.invalidation())
	}
}
