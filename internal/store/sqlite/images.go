package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
)

func (t *tx) Image(ctx context.Context, region, id string) (*image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.rc != nil {
		if img := t.rc.Image(region, id); img != nil {
			return img.Clone(), nil
		}
	}
	img, err := t.imageSQL(ctx, region, id)
	if err == nil && t.rc != nil {
		t.rc.PutImage(t.seen, readcache.Frozen(img))
	}
	if err == nil {
		t.noteRows(img, nil)
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
			dest := record.SkipImage(&skip, &kind, &value)
			err = rows.Scan(dest[:]...)
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

// scanImage reads the record.ImageColumns of the current row, and any
// extra columns into extra. Behind the read cache the store's document
// cache would only hold a second copy; the writer, which bypasses the read
// cache, keeps using it.
func (t *tx) scanImage(rows *sql.Rows, extra ...any) (*image.Image, error) {
	var sc record.ImageScan
	if err := rows.Scan(sc.Dest(extra...)...); err != nil {
		return nil, err
	}
	docs := t.s.docs
	if t.rc != nil {
		docs = nil
	}
	return sc.Image(docs)
}

func (t *tx) InsertImage(ctx context.Context, img *image.Image) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	vals, err := record.ImageValues(img)
	if err != nil {
		return err
	}
	if _, err := t.st.insertImage.ExecContext(ctx, append(vals, img.Region, img.ID)...); err != nil {
		if isDuplicate(err) {
			return resource.ErrExists
		}
		return fmt.Errorf("sqlite: insert image %s: %w", img.ID, err)
	}
	t.touch(readcache.Invalidation{Res: readcache.Key{Region: img.Region, ID: img.ID}, Image: true})
	if err := t.insertPerms(ctx, img); err != nil {
		return err
	}
	refs := record.SnapshotRefs(img)
	t.noteRows(img, refs)
	return t.setSnapshotRefs(ctx, img, refs, true)
}

func (t *tx) UpdateImage(ctx context.Context, img *image.Image) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	vals, err := record.ImageValues(img)
	if err != nil {
		return err
	}
	t.touch(readcache.Invalidation{Res: readcache.Key{Region: img.Region, ID: img.ID}, Image: true})
	res, err := t.st.updateImage.ExecContext(ctx, append(vals, img.Region, img.ID)...)
	if err != nil {
		return fmt.Errorf("sqlite: update image %s: %w", img.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update image %s: %w", img.ID, err)
	} else if n == 0 {
		return resource.ErrNotFound
	}
	// Child rows as this function read them stand; others are rewritten.
	key := readcache.Key{Region: img.Region, ID: img.ID}
	prev, known := t.rows[key]
	if !known || !slices.Equal(prev.perms, img.LaunchPermissions) {
		if _, err := t.st.deletePerms.ExecContext(ctx, img.Region, img.ID); err != nil {
			return fmt.Errorf("sqlite: update image %s: %w", img.ID, err)
		}
		if err := t.insertPerms(ctx, img); err != nil {
			return err
		}
	}
	refs := record.SnapshotRefs(img)
	if !known || !slices.Equal(prev.refs, refs) {
		if err := t.setSnapshotRefs(ctx, img, refs, false); err != nil {
			return err
		}
	}
	t.noteRows(img, refs)
	return nil
}

// insertPerms stores img's launch permissions in their order, which
// image.Tx promises are distinct.
func (t *tx) insertPerms(ctx context.Context, img *image.Image) error {
	for i, p := range img.LaunchPermissions {
		if _, err := t.st.insertPerm.ExecContext(ctx, img.Region, img.ID, string(p.Kind), p.Value, i); err != nil {
			return fmt.Errorf("sqlite: launch permission %s=%s of %s: %w", p.Kind, p.Value, img.ID, err)
		}
	}
	return nil
}

func (t *tx) DeleteImage(ctx context.Context, region, id string) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	// Launch permissions and snapshot references go by ON DELETE CASCADE.
	t.touch(readcache.Invalidation{Res: readcache.Key{Region: region, ID: id}, Image: true, Tags: true})
	delete(t.rows, readcache.Key{Region: region, ID: id})
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

func (t *tx) CountImages(ctx context.Context, region, owner string) (int, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return 0, err
	}
	// images_owner_state covers the query: an index range, no table reads.
	var n int
	err = t.queryRow(ctx, `SELECT COUNT(*) FROM images INDEXED BY images_owner_state
WHERE region = ? AND owner_id = ? AND state <> ?`, []any{region, owner, image.StateDeregistered}, &n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count images of %s: %w", owner, err)
	}
	return n, nil
}

func (t *tx) FindImages(ctx context.Context, q image.Query) ([]*image.Image, error) {
	if t.rc == nil || q.Region == "" {
		return t.findImagesSQL(ctx, q)
	}
	return t.findCached(ctx, q)
}

// findCached is FindImages through the read cache. The ids come from q, or
// from indexes alone as a superset (candidateQuery); the images come from
// the cache, or SQLite for the rest, and q is applied in Go (a batch of a
// long listing too: its range, AfterID to ThroughID, bounds the superset).
// When q has a limit and no range, SQLite selects the ids exactly instead (an index walk that reads
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
		img := t.rc.Image(q.Region, id)
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
		// An answer larger than a share of the cache, or a batch of one
		// (Bulk), would only evict the hot set for images unlikely to be
		// asked again (scan resistance).
		keep := !q.Bulk && t.rc.RoomFor(len(imgs))
		byID := make(map[string]*image.Image, len(imgs))
		for _, img := range imgs {
			byID[img.ID] = img
			if keep {
				t.rc.PutImage(t.seen, readcache.Frozen(img))
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
	query, args := findQuery(q, record.ImageColumns)
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
