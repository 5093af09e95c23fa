package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
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

// imageColumns are the columns scanImage reads, in order.
const imageColumns = `i.region, i.image_id, i.owner_id, i.owner_alias, i.name, i.state, i.creation_date, i.deprecation_time, i.doc`

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
		{&st.imageByID, `SELECT ` + imageColumns + `, lp.kind, lp.value FROM images i
LEFT JOIN launch_permissions lp ON lp.region = i.region AND lp.image_id = i.image_id
WHERE i.region = ? AND i.image_id = ? ORDER BY lp.seq`},
	}
	if write {
		list = append(list, []struct {
			dst   **sql.Stmt
			query string
		}{
			{&st.insertImage, `INSERT INTO images (region, image_id, owner_id, owner_alias, name, state, is_public, creation_date, deprecation_time, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
			{&st.updateImage, `UPDATE images SET owner_id = ?, owner_alias = ?, name = ?, state = ?, is_public = ?, creation_date = ?, deprecation_time = ?, doc = ?
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
	rc   *readCache
	seen uint64
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
func (t *tx) touch(inv invalidation) {
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

func (t *tx) Image(ctx context.Context, region, id string) (*image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.rc != nil {
		if img := t.rc.image(region, id); img != nil {
			return img.Clone(), nil
		}
	}
	img, err := t.imageSQL(ctx, region, id)
	if err == nil && t.rc != nil {
		t.rc.putImage(t.seen, frozen(img))
	}
	return img, err
}

func (t *tx) imageSQL(ctx context.Context, region, id string) (*image.Image, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	// One statement returns the image once per launch permission (or once
	// with NULLs): one round trip instead of two.
	rows, err := t.stmt(ctx, t.st.imageByID).QueryContext(ctx, region, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: image %s: %w", id, err)
	}
	defer rows.Close()
	var img *image.Image
	for rows.Next() {
		var kind, value sql.NullString
		if img == nil {
			img, err = t.scanImage(rows, &kind, &value)
		} else {
			var skip sql.RawBytes
			err = rows.Scan(&skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &kind, &value)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: image %s: %w", id, err)
		}
		if kind.Valid {
			img.LaunchPermissions = append(img.LaunchPermissions, image.LaunchPermission{Kind: image.PermissionKind(kind.String), Value: value.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: image %s: %w", id, err)
	}
	if img == nil {
		return nil, resource.ErrNotFound
	}
	return img, nil
}

// scanImage reads the imageColumns of the current row, and any extra
// columns into extra. The document is decoded straight from the driver's
// buffer.
func (t *tx) scanImage(rows *sql.Rows, extra ...any) (*image.Image, error) {
	img := &image.Image{}
	var (
		created    int64
		deprecated sql.NullInt64
		doc        sql.RawBytes
	)
	dest := append([]any{&img.Region, &img.ID, &img.OwnerID, &img.OwnerAlias, &img.Name, &img.State, &created, &deprecated, &doc}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	img.CreationDate = record.FromMillis(created)
	if deprecated.Valid {
		t := record.FromMillis(deprecated.Int64)
		img.DeprecationTime = &t
	}
	// Behind the read cache the record package's document cache would only
	// hold a second copy; the writer, which bypasses the read cache, keeps
	// using it.
	decode := record.DecodeImage
	if t.rc != nil {
		decode = record.DecodeImageOnce
	}
	if err := decode(doc, img); err != nil {
		return nil, err
	}
	return img, nil
}

// columns returns the indexed-column values of img, in the order of the
// insert and update statements.
func columns(img *image.Image) (public int, created int64, deprecated sql.NullInt64, doc string, err error) {
	if img.IsPublic() {
		public = 1
	}
	if img.DeprecationTime != nil {
		deprecated = sql.NullInt64{Int64: record.Millis(*img.DeprecationTime), Valid: true}
	}
	doc, err = record.EncodeImage(img)
	return public, record.Millis(img.CreationDate), deprecated, doc, err
}

func (t *tx) InsertImage(ctx context.Context, img *image.Image) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	public, created, deprecated, doc, err := columns(img)
	if err != nil {
		return err
	}
	if _, err := t.st.insertImage.ExecContext(ctx, img.Region, img.ID, img.OwnerID, img.OwnerAlias, img.Name, img.State,
		public, created, deprecated, doc); err != nil {
		if isDuplicate(err) {
			return resource.ErrExists
		}
		return fmt.Errorf("sqlite: insert image %s: %w", img.ID, err)
	}
	t.touch(invalidation{res: resKey{img.Region, img.ID}, image: true})
	return t.insertPerms(ctx, img)
}

func (t *tx) UpdateImage(ctx context.Context, img *image.Image) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	public, created, deprecated, doc, err := columns(img)
	if err != nil {
		return err
	}
	t.touch(invalidation{res: resKey{img.Region, img.ID}, image: true})
	res, err := t.st.updateImage.ExecContext(ctx, img.OwnerID, img.OwnerAlias, img.Name, img.State,
		public, created, deprecated, doc, img.Region, img.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update image %s: %w", img.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update image %s: %w", img.ID, err)
	} else if n == 0 {
		return resource.ErrNotFound
	}
	if _, err := t.st.deletePerms.ExecContext(ctx, img.Region, img.ID); err != nil {
		return fmt.Errorf("sqlite: update image %s: %w", img.ID, err)
	}
	return t.insertPerms(ctx, img)
}

// insertPerms stores img's launch permissions in their order; a repeated
// entry is stored once, since they form a set.
func (t *tx) insertPerms(ctx context.Context, img *image.Image) error {
	for i, p := range img.LaunchPermissions {
		if indexPerm(img.LaunchPermissions[:i], p) {
			continue
		}
		if _, err := t.st.insertPerm.ExecContext(ctx, img.Region, img.ID, string(p.Kind), p.Value, i); err != nil {
			return fmt.Errorf("sqlite: launch permission %s=%s of %s: %w", p.Kind, p.Value, img.ID, err)
		}
	}
	return nil
}

func indexPerm(ps []image.LaunchPermission, p image.LaunchPermission) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func (t *tx) DeleteImage(ctx context.Context, region, id string) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	// Launch permissions go by ON DELETE CASCADE.
	t.touch(invalidation{res: resKey{region, id}, image: true, tags: true})
	res, err := t.exec(ctx, `DELETE FROM images WHERE region = ? AND image_id = ?`, region, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete image %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete image %s: %w", id, err)
	} else if n == 0 {
		return resource.ErrNotFound
	}
	if _, err := t.exec(ctx, `DELETE FROM tags WHERE region = ? AND resource_id = ?`, region, id); err != nil {
		return fmt.Errorf("sqlite: delete tags of %s: %w", id, err)
	}
	return nil
}

func (t *tx) ImageIDByName(ctx context.Context, region, owner, name string) (string, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return "", err
	}
	var id string
	err = t.queryRow(ctx, `SELECT image_id FROM images
WHERE region = ? AND owner_id = ? AND name = ? AND state <> ?
ORDER BY image_id LIMIT 1`, []any{region, owner, name, image.StateDeregistered}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: image by name %q: %w", name, err)
	}
	return id, nil
}

func (t *tx) FindImages(ctx context.Context, q image.Query) ([]*image.Image, error) {
	if t.rc == nil || q.Region == "" {
		return t.findImagesSQL(ctx, q)
	}
	return t.findCached(ctx, q)
}

// findCached is FindImages through the read cache. The ids come from q, or
// from indexes alone as a superset (candidateQuery); the images come from
// the cache, or SQLite for the rest, and q is applied in Go. When q has a
// limit, SQLite selects the ids exactly instead (an index walk that reads
// no documents); an image that changed since that snapshot no longer
// matches and is read again from the snapshot, so the answer and its Limit
// stay those of one snapshot.
func (t *tx) findCached(ctx context.Context, q image.Query) ([]*image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// selected: SQLite applied q to ids at the snapshot; otherwise ids is a
	// superset (q.IDs, or candidates from indexes) and q is applied here.
	ids := slices.Clone(q.IDs) // sorted below; the caller's list stays as it is
	selected := false
	if len(ids) == 0 {
		query, args, ok := candidateQuery(q)
		if selected = !ok; selected {
			query, args = findQuery(q, `i.image_id`)
		}
		var err error
		if ids, err = t.queryIDList(ctx, query, args); err != nil {
			return nil, err
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	// Membership in q.IDs holds by construction; testing it per image would
	// be quadratic for a long tag-filter candidate list.
	match := q
	match.IDs = nil
	out := make([]*image.Image, len(ids))
	var miss []string
	for i, id := range ids {
		img := t.rc.image(q.Region, id)
		switch {
		case img == nil:
			miss = append(miss, id)
		case match.Matches(img):
			out[i] = img // shared: FindImages' images are read-only
		case selected:
			miss = append(miss, id) // changed since the snapshot
		}
	}
	if len(miss) > 0 {
		imgs, err := t.imagesByID(ctx, q.Region, miss)
		if err != nil {
			return nil, err
		}
		// An answer larger than a share of the cache would only evict the
		// hot set for images unlikely to be asked again (scan resistance).
		keep := t.rc.roomFor(len(imgs))
		byID := make(map[string]*image.Image, len(imgs))
		for _, img := range imgs {
			byID[img.ID] = img
			if keep {
				t.rc.putImage(t.seen, frozen(img))
			}
		}
		for i, id := range ids {
			if img := byID[id]; img != nil && out[i] == nil && (selected || match.Matches(img)) {
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

// queryIDList runs a query that selects image ids and returns them in no
// particular order: SQLite joins them into one value, which saves the
// driver's per-row work (a sixth of a 1,000-image listing). Image ids never
// contain a comma.
func (t *tx) queryIDList(ctx context.Context, query string, args []any) ([]string, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	var list sql.NullString
	if err := t.queryRow(ctx, `SELECT group_concat(image_id) FROM (`+query+`)`, args, &list); err != nil {
		return nil, fmt.Errorf("sqlite: find images: %w", err)
	}
	if !list.Valid || list.String == "" {
		return nil, nil
	}
	return strings.Split(list.String, ","), nil
}

// imagesByID reads the images of one region with these distinct ids, with
// their launch permissions: findImagesSQL, in IN lists of maxParams.
func (t *tx) imagesByID(ctx context.Context, region string, ids []string) ([]*image.Image, error) {
	var imgs []*image.Image
	for chunk := range slices.Chunk(ids, maxParams) {
		found, err := t.findImagesSQL(ctx, image.Query{Region: region, IDs: chunk, IncludeDeregistered: true})
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, found...)
	}
	return imgs, nil
}

// findImagesSQL is FindImages read entirely from SQLite.
func (t *tx) findImagesSQL(ctx context.Context, q image.Query) ([]*image.Image, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	query, args := findQuery(q, imageColumns)
	rows, done, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find images: %w", err)
	}
	defer done()
	defer rows.Close()
	var imgs []*image.Image
	for rows.Next() {
		img, err := t.scanImage(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: find images: %w", err)
		}
		imgs = append(imgs, img)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find images: %w", err)
	}
	if err := t.loadPerms(ctx, imgs); err != nil {
		return nil, err
	}
	return imgs, nil
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

// loadPerms fills the launch permissions of imgs with one query per region
// and maxParams images rather than one per image.
func (t *tx) loadPerms(ctx context.Context, imgs []*image.Image) error {
	// Nearly always one region; an export of every region groups them.
	var regions []string
	byRegion := map[string][]*image.Image{}
	for _, img := range imgs {
		if _, ok := byRegion[img.Region]; !ok {
			regions = append(regions, img.Region)
		}
		byRegion[img.Region] = append(byRegion[img.Region], img)
	}
	for _, region := range regions {
		if err := t.loadRegionPerms(ctx, region, byRegion[region]); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) loadRegionPerms(ctx context.Context, region string, imgs []*image.Image) error {
	for len(imgs) > 0 {
		chunk := imgs[:min(len(imgs), maxParams)]
		imgs = imgs[len(chunk):]
		byID := make(map[string]*image.Image, len(chunk))
		n := padCount(len(chunk))
		args := make([]any, 0, n+1)
		args = append(args, region)
		for _, img := range chunk {
			byID[img.ID] = img
			args = append(args, img.ID)
		}
		for len(args) < n+1 {
			args = append(args, chunk[len(chunk)-1].ID)
		}
		rows, done, err := t.query(ctx, `SELECT image_id, kind, value FROM launch_permissions
WHERE region = ? AND image_id IN (`+placeholders(n)+`) ORDER BY image_id, seq`, args...)
		if err != nil {
			return fmt.Errorf("sqlite: load launch permissions: %w", err)
		}
		err = func() error {
			defer done()
			defer rows.Close()
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
		}()
		if err != nil {
			return fmt.Errorf("sqlite: load launch permissions: %w", err)
		}
	}
	return nil
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func (t *tx) Tags(ctx context.Context, region, account string, resourceIDs []string) (map[string][]resource.Tag, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.rc != nil {
		out := make(map[string][]resource.Tag, len(resourceIDs))
		var miss []string
		for _, id := range resourceIDs {
			if tags, ok := t.rc.tags(region, account, id); !ok {
				miss = append(miss, id)
			} else if len(tags) > 0 {
				out[id] = tags // shared: Tags' lists are read-only
			}
		}
		if len(miss) == 0 {
			return out, nil
		}
		miss = dedupe(miss)
		fetched, err := t.tagsSQL(ctx, region, account, miss)
		if err != nil {
			return nil, err
		}
		if t.rc.roomFor(len(miss)) {
			t.rc.putTags(t.seen, region, account, miss, fetched)
		}
		maps.Copy(out, fetched)
		return out, nil
	}
	return t.tagsSQL(ctx, region, account, dedupe(resourceIDs))
}

// tagsSQL is Tags for distinct ids, read from SQLite.
func (t *tx) tagsSQL(ctx context.Context, region, account string, ids []string) (map[string][]resource.Tag, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]resource.Tag)
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxParams)]
		ids = ids[len(chunk):]
		chunk = padStrings(chunk)
		args := make([]any, 0, len(chunk)+2)
		args = append(args, region, account)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, done, err := t.query(ctx, `SELECT resource_id, key, value FROM tags
WHERE region = ? AND account = ? AND resource_id IN (`+placeholders(len(chunk))+`) ORDER BY resource_id, key`, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: tags: %w", err)
		}
		err = func() error {
			defer done()
			defer rows.Close()
			for rows.Next() {
				var id string
				var tag resource.Tag
				if err := rows.Scan(&id, &tag.Key, &tag.Value); err != nil {
					return err
				}
				out[id] = append(out[id], tag)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("sqlite: tags: %w", err)
		}
	}
	return out, nil
}

func (t *tx) SetTags(ctx context.Context, region, account, resourceID string, tags []resource.Tag) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	t.touch(invalidation{res: resKey{region, resourceID}, tags: true})
	if _, err := t.exec(ctx, `DELETE FROM tags WHERE region = ? AND account = ? AND resource_id = ?`,
		region, account, resourceID); err != nil {
		return fmt.Errorf("sqlite: set tags of %s: %w", resourceID, err)
	}
	if len(tags) == 0 {
		return nil
	}
	// A repeated key keeps its last value, as a map would.
	last := make(map[string]int, len(tags))
	for i, tag := range tags {
		last[tag.Key] = i
	}
	// One cached single-row insert per tag rather than a multi-row
	// statement whose text depends on the tag count: the writer's
	// statements run on its own connection, so this costs no round trips.
	for i, tag := range tags {
		if last[tag.Key] != i {
			continue
		}
		if _, err := t.exec(ctx, `INSERT INTO tags (region, account, resource_id, key, value) VALUES (?, ?, ?, ?, ?)`,
			region, account, resourceID, tag.Key, tag.Value); err != nil {
			return fmt.Errorf("sqlite: set tags of %s: %w", resourceID, err)
		}
	}
	return nil
}

func (t *tx) Setting(ctx context.Context, region, account, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	k := settingKey{region, account, name}
	v, ok := settingVal{}, false
	if t.rc != nil {
		v, ok = t.rc.setting(k)
	}
	if !ok {
		ctx, err := t.dctx(ctx)
		if err != nil {
			return "", err
		}
		err = t.queryRow(ctx, `SELECT value FROM settings WHERE region = ? AND account = ? AND name = ?`,
			[]any{region, account, name}, &v.value)
		switch {
		case err == nil:
			v.found = true
		case !errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("sqlite: setting %s: %w", name, err)
		}
		if t.rc != nil {
			t.rc.putSetting(t.seen, k, v)
		}
	}
	if !v.found {
		return "", resource.ErrNotFound
	}
	return v.value, nil
}

func (t *tx) SetSetting(ctx context.Context, region, account, name, value string) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	t.touch(invalidation{setting: &settingKey{region, account, name}})
	if _, err := t.exec(ctx, `INSERT INTO settings (region, account, name, value) VALUES (?, ?, ?, ?)
ON CONFLICT (region, account, name) DO UPDATE SET value = excluded.value`, region, account, name, value); err != nil {
		return fmt.Errorf("sqlite: set setting %s: %w", name, err)
	}
	return nil
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

// ListTags returns the tags q selects, ordered by resource id and key (then
// region and account, which only an export spanning several sees). With
// region and account given, the walk is the primary key's.
func (t *tx) ListTags(ctx context.Context, q resource.TagQuery) ([]resource.ResourceTag, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	query, args := listTagsQuery(q)
	rows, done, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tags: %w", err)
	}
	defer done()
	defer rows.Close()
	var out []resource.ResourceTag
	for rows.Next() {
		var rt resource.ResourceTag
		if err := rows.Scan(&rt.Region, &rt.Account, &rt.ResourceID, &rt.Key, &rt.Value); err != nil {
			return nil, fmt.Errorf("sqlite: list tags: %w", err)
		}
		out = append(out, rt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tags: %w", err)
	}
	return out, nil
}

// Settings returns every setting, ordered by region, account and name.
func (t *tx) Settings(ctx context.Context) ([]resource.Setting, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	rows, done, err := t.query(ctx, `SELECT region, account, name, value FROM settings ORDER BY region, account, name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: settings: %w", err)
	}
	defer done()
	defer rows.Close()
	var out []resource.Setting
	for rows.Next() {
		var st resource.Setting
		if err := rows.Scan(&st.Region, &st.Account, &st.Name, &st.Value); err != nil {
			return nil, fmt.Errorf("sqlite: settings: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: settings: %w", err)
	}
	return out, nil
}

// listTagsQuery turns q into one SELECT over tags in ListTags order.
func listTagsQuery(q resource.TagQuery) (string, []any) {
	var b queryBuilder
	b.sql.WriteString(`SELECT region, account, resource_id, key, value FROM tags WHERE 1 = 1`)
	if q.Region != "" {
		b.and(`region = ?`, q.Region)
	}
	if q.Account != "" {
		b.and(`account = ?`, q.Account)
	}
	if ids := padStrings(dedupe(q.ResourceIDs)); len(ids) > 0 {
		b.and(`resource_id IN (` + placeholders(len(ids)) + `)`)
		b.addStrings(ids)
	}
	if keys := padStrings(dedupe(q.Keys)); len(keys) > 0 {
		b.and(`key IN (` + placeholders(len(keys)) + `)`)
		b.addStrings(keys)
	}
	if q.AfterResourceID != "" || q.AfterKey != "" {
		b.and(`(resource_id, key) > (?, ?)`, q.AfterResourceID, q.AfterKey)
	}
	b.sql.WriteString(` ORDER BY resource_id, key, region, account`)
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ?`)
		b.args = append(b.args, q.Limit)
	}
	return b.sql.String(), b.args
}
