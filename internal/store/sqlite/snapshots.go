package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// storageSchema is the migration that adds volumes, snapshots and
// snapshot permissions, with planner statistics (see migration 2).
// Snapshots read by id go through the read cache (FindSnapshots).
const storageSchema = `
CREATE TABLE volumes (
	region    TEXT NOT NULL,
	volume_id TEXT NOT NULL,
	owner_id  TEXT NOT NULL,
	doc       TEXT NOT NULL,
	PRIMARY KEY (region, volume_id)
);
CREATE INDEX volumes_owner ON volumes (region, owner_id, volume_id);

CREATE TABLE snapshots (
	region      TEXT NOT NULL,
	snapshot_id TEXT NOT NULL,
	owner_id    TEXT NOT NULL,
	owner_alias TEXT NOT NULL DEFAULT '',
	is_public   INTEGER NOT NULL DEFAULT 0,
	doc         TEXT NOT NULL,
	PRIMARY KEY (region, snapshot_id)
);
CREATE INDEX snapshots_owner ON snapshots (region, owner_id, snapshot_id);
CREATE INDEX snapshots_public ON snapshots (region, is_public, snapshot_id);

CREATE TABLE snapshot_permissions (
	region      TEXT NOT NULL,
	snapshot_id TEXT NOT NULL,
	kind        TEXT NOT NULL,
	value       TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	PRIMARY KEY (region, snapshot_id, kind, value),
	FOREIGN KEY (region, snapshot_id) REFERENCES snapshots (region, snapshot_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX snapshot_permissions_grantee ON snapshot_permissions (region, kind, value, snapshot_id);

DELETE FROM sqlite_stat1 WHERE tbl IN ('volumes', 'snapshots', 'snapshot_permissions');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
	('volumes', 'sqlite_autoindex_volumes_1', '1000000 200000 1'),
	('volumes', 'volumes_owner', '1000000 200000 50 1'),
	('snapshots', 'sqlite_autoindex_snapshots_1', '1000000 200000 1'),
	('snapshots', 'snapshots_owner', '1000000 200000 50 1'),
	('snapshots', 'snapshots_public', '1000000 200000 100000 1'),
	('snapshot_permissions', 'snapshot_permissions', '2000000 400000 2 2 1'),
	('snapshot_permissions', 'snapshot_permissions_grantee', '2000000 400000 100000 20 1');
ANALYZE sqlite_schema;
`

// snapshotRefsSchema is the migration that adds the index of snapshot
// references: one row per snapshot id in the mappings of an image that is
// not deregistered, kept by InsertImage, UpdateImage and DeleteImage, so
// "is this snapshot used by an AMI" (DeleteSnapshot's InUse, DeregisterImage's
// DeleteAssociatedSnapshots) is an index look-up rather than a pass over
// the region's image documents.
//
// The backfill reads the existing image documents only when snapshot
// records exist: an id without a record is an external reference, which
// no snapshot action can reach, so a database from before snapshots (the
// common upgrade, and generated million-image sets) migrates without
// reading a single image. The gate is the outer loop of a CROSS JOIN
// (which SQLite never reorders): an empty gate ends the join before the
// images are scanned. (A WHERE EXISTS gate does not: SQLite still walks
// every image row, 0.34 s per 145,000.) A database that has snapshot
// records pays one pass over its images, once.
const snapshotRefsSchema = `
CREATE TABLE image_snapshots (
	region        TEXT    NOT NULL,
	snapshot_id   TEXT    NOT NULL,
	image_id      TEXT    NOT NULL,
	creation_date INTEGER NOT NULL,
	PRIMARY KEY (region, snapshot_id, image_id),
	FOREIGN KEY (region, image_id) REFERENCES images (region, image_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX image_snapshots_image ON image_snapshots (region, image_id);

INSERT OR IGNORE INTO image_snapshots (region, snapshot_id, image_id, creation_date)
SELECT i.region, json_extract(m.value, '$.ebs.snapshotId'), i.image_id, i.creation_date
FROM (SELECT 1 FROM snapshots LIMIT 1) AS gate
	CROSS JOIN images i
	CROSS JOIN json_each(i.doc, '$.blockDeviceMappings') m
WHERE i.state <> 'deregistered' AND json_extract(m.value, '$.ebs.snapshotId') IS NOT NULL;

DELETE FROM sqlite_stat1 WHERE tbl = 'image_snapshots';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
	('image_snapshots', 'image_snapshots', '1000000 200000 1 1'),
	('image_snapshots', 'image_snapshots_image', '1000000 200000 1');
ANALYZE sqlite_schema;
`

var (
	volumeColumns     = record.List(record.VolumeColumns)
	snapshotColumns   = record.List(record.SnapshotColumns)
	updateSnapshotSQL = `UPDATE snapshots SET ` + record.Assign(record.SnapshotColumns[len(record.SnapshotKeyColumns):], 1, placeholder) + `
WHERE region = ? AND snapshot_id = ?`
	updateVolumeSQL = `UPDATE volumes SET ` + record.Assign(record.VolumeColumns[len(record.VolumeKeyColumns):], 1, placeholder) + `
WHERE region = ? AND volume_id = ?`
)

var (
	_ snapshot.Tx    = (*tx)(nil)
	_ snapshot.Store = (*Store)(nil)
)

// ViewSnapshots is View for functions that read snapshots and volumes.
func (s *Store) ViewSnapshots(ctx context.Context, fn func(snapshot.Tx) error) error {
	t, err := s.beginView()
	if err != nil {
		return err
	}
	defer t.endView()
	return fn(t)
}

// UpdateSnapshots is Update for functions that use snapshots and volumes.
func (s *Store) UpdateSnapshots(ctx context.Context, fn func(snapshot.Tx) error) error {
	return s.update(ctx, &request{ctx: ctx, withSnapshots: fn, done: make(chan error, 1)})
}

// ViewVolumes is View for functions that read volumes.
func (s *Store) ViewVolumes(ctx context.Context, fn func(volume.Tx) error) error {
	t, err := s.beginView()
	if err != nil {
		return err
	}
	defer t.endView()
	return fn(t)
}

// UpdateVolumes is Update for functions that use volumes. The wrapping
// closure costs an allocation; volume writes are rare.
func (s *Store) UpdateVolumes(ctx context.Context, fn func(volume.Tx) error) error {
	return s.UpdateSnapshots(ctx, func(t snapshot.Tx) error { return fn(t) })
}

// getOne runs a single-row SELECT and scans it with scan; no row is
// resource.ErrNotFound.
func getOne[T any](ctx context.Context, t *tx, what, query string, args []any, scan func(record.Row) (T, error)) (T, error) {
	var zero T
	ctx, err := t.dctx(ctx)
	if err != nil {
		return zero, err
	}
	rows, done, err := t.query(ctx, query, args...)
	if err != nil {
		return zero, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer done()
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return zero, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		return zero, resource.ErrNotFound
	}
	v, err := scan(rows)
	if err != nil {
		return zero, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return v, nil
}

// getAll runs a SELECT and scans every row with scan.
func getAll[T any](ctx context.Context, t *tx, what, query string, args []any, scan func(record.Row) (T, error)) ([]T, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	rows, done, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer done()
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}

// insertRow inserts one row; a taken key is resource.ErrExists.
func (t *tx) insertRow(ctx context.Context, what, table, cols string, vals []any) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO `+table+` (`+cols+`) VALUES (`+placeholders(len(vals))+`)`, vals...); err != nil {
		if isDuplicate(err) {
			return resource.ErrExists
		}
		return fmt.Errorf("sqlite: insert %s: %w", what, err)
	}
	return nil
}

// execOne runs a write that must change a row: none is resource.ErrNotFound.
func (t *tx) execOne(ctx context.Context, what, query string, args ...any) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	} else if n == 0 {
		return resource.ErrNotFound
	}
	return nil
}

func (t *tx) Volume(ctx context.Context, region, id string) (*volume.Volume, error) {
	return getOne(ctx, t, "volume "+id, `SELECT `+volumeColumns+` FROM volumes WHERE region = ? AND volume_id = ?`,
		[]any{region, id}, record.ScanVolume)
}

func (t *tx) InsertVolume(ctx context.Context, v *volume.Volume) error {
	vals, err := record.VolumeValues(v)
	if err != nil {
		return err
	}
	return t.insertRow(ctx, "volume "+v.ID, "volumes", volumeColumns, vals)
}

func (t *tx) UpdateVolume(ctx context.Context, v *volume.Volume) error {
	vals, err := record.VolumeValues(v)
	if err != nil {
		return err
	}
	key := len(record.VolumeKeyColumns)
	return t.execOne(ctx, "update volume "+v.ID, updateVolumeSQL, append(vals[key:], vals[:key]...)...)
}

func (t *tx) DeleteVolume(ctx context.Context, region, id string) error {
	return t.execOne(ctx, "delete volume "+id, `DELETE FROM volumes WHERE region = ? AND volume_id = ?`, region, id)
}

func (t *tx) FindVolumes(ctx context.Context, q volume.Query) ([]*volume.Volume, error) {
	var b queryBuilder
	b.sql.WriteString(`SELECT ` + volumeColumns + ` FROM volumes WHERE 1 = 1`)
	if q.Region != "" {
		b.and(`region = ?`, q.Region)
	}
	if q.OwnerID != "" {
		b.and(`owner_id = ?`, q.OwnerID)
	}
	if ids := padStrings(dedupe(q.IDs)); len(ids) > 0 {
		b.and(`volume_id IN (` + placeholders(len(ids)) + `)`)
		b.addStrings(ids)
	}
	if q.AfterID != "" {
		b.and(`volume_id > ?`, q.AfterID)
	}
	b.sql.WriteString(` ORDER BY volume_id, region`)
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ?`)
		b.args = append(b.args, q.Limit)
	}
	return getAll(ctx, t, "find volumes", b.sql.String(), b.args, record.ScanVolume)
}

func (t *tx) Snapshot(ctx context.Context, region, id string) (*snapshot.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.rc != nil {
		if e, ok := t.rc.Snapshot(region, id); ok {
			c := *e.Snap
			return &c, nil
		}
	}
	return getOne(ctx, t, "snapshot "+id, `SELECT `+snapshotColumns+` FROM snapshots WHERE region = ? AND snapshot_id = ?`,
		[]any{region, id}, record.ScanSnapshot)
}

func (t *tx) InsertSnapshot(ctx context.Context, s *snapshot.Snapshot) error {
	vals, err := record.SnapshotValues(s)
	if err != nil {
		return err
	}
	return t.touched(readcache.Key{Region: s.Region, ID: s.ID}, t.insertRow(ctx, "snapshot "+s.ID, "snapshots", snapshotColumns, vals))
}

// touched notes a snapshot write for the read cache once it succeeded,
// and returns its error.
func (t *tx) touched(k readcache.Key, err error) error {
	if err == nil {
		t.touch(readcache.Invalidation{Res: k, Snap: true})
	}
	return err
}

func (t *tx) UpdateSnapshot(ctx context.Context, s *snapshot.Snapshot) error {
	vals, err := record.SnapshotValues(s)
	if err != nil {
		return err
	}
	key := len(record.SnapshotKeyColumns)
	return t.touched(readcache.Key{Region: s.Region, ID: s.ID}, t.execOne(ctx, "update snapshot "+s.ID, updateSnapshotSQL, append(vals[key:], vals[:key]...)...))
}

func (t *tx) DeleteSnapshot(ctx context.Context, region, id string) error {
	// Permissions go by ON DELETE CASCADE.
	return t.touched(readcache.Key{Region: region, ID: id}, t.execOne(ctx, "delete snapshot "+id, `DELETE FROM snapshots WHERE region = ? AND snapshot_id = ?`, region, id))
}

func (t *tx) FindSnapshots(ctx context.Context, q snapshot.Query) ([]*snapshot.Snapshot, error) {
	if t.rc != nil && q.Region != "" && len(q.IDs) > 0 && t.rc.RoomFor(len(q.IDs)) {
		return t.findSnapshotsCached(ctx, q)
	}
	return t.findSnapshotsSQL(ctx, q)
}

// findSnapshotsCached is FindSnapshots by ids through the read cache
// (DescribeSnapshots by id, as DescribeImages by id): the snapshots and
// their permissions come from the cache, or SQLite for the rest, and q's
// owners, visibility (as the SQL's), AfterID and Limit are applied here.
// It hands out copies.
func (t *tx) findSnapshotsCached(ctx context.Context, q snapshot.Query) ([]*snapshot.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids := slices.Compact(slices.Sorted(slices.Values(q.IDs)))
	entries := make([]readcache.SnapEntry, len(ids))
	var miss []string
	for i, id := range ids {
		if e, ok := t.rc.Snapshot(q.Region, id); ok {
			entries[i] = e
		} else {
			miss = append(miss, id)
		}
	}
	if len(miss) > 0 {
		snaps, err := t.findSnapshotsSQL(ctx, snapshot.Query{Region: q.Region, IDs: miss})
		if err != nil {
			return nil, err
		}
		perms, err := t.snapshotPermissionsSQL(ctx, q.Region, miss)
		if err != nil {
			return nil, err
		}
		byID := make(map[string]readcache.SnapEntry, len(snaps))
		for _, s := range snaps {
			e := readcache.SnapEntry{Snap: s, Perms: perms[s.ID]}
			t.rc.PutSnapshot(t.seen, e)
			byID[s.ID] = e
		}
		for i, id := range ids {
			if entries[i].Snap == nil {
				entries[i] = byID[id]
			}
		}
	}
	var out []*snapshot.Snapshot
	for _, e := range entries {
		s := e.Snap
		switch {
		case s == nil, q.AfterID != "" && s.ID <= q.AfterID,
			len(q.OwnerIDs) > 0 && !slices.Contains(q.OwnerIDs, s.OwnerID),
			q.VisibleTo != "" && s.OwnerID != q.VisibleTo && !s.Public && !slices.Contains(e.Perms, snapshot.Permission{UserID: q.VisibleTo}):
			continue
		}
		c := *s
		out = append(out, &c)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (t *tx) findSnapshotsSQL(ctx context.Context, q snapshot.Query) ([]*snapshot.Snapshot, error) {
	var b queryBuilder
	b.sql.WriteString(`SELECT ` + snapshotColumns + ` FROM snapshots s WHERE 1 = 1`)
	if q.Region != "" {
		b.and(`region = ?`, q.Region)
	}
	if ids := padStrings(dedupe(q.IDs)); len(ids) > 0 {
		b.and(`snapshot_id IN (` + placeholders(len(ids)) + `)`)
		b.addStrings(ids)
	}
	if owners := padStrings(dedupe(q.OwnerIDs)); len(owners) > 0 {
		b.and(`owner_id IN (` + placeholders(len(owners)) + `)`)
		b.addStrings(owners)
	}
	if q.VisibleTo != "" {
		b.and(`(owner_id = ? OR is_public = 1 OR EXISTS (SELECT 1 FROM snapshot_permissions p
WHERE p.region = s.region AND p.snapshot_id = s.snapshot_id AND p.kind = ? AND p.value = ?))`, q.VisibleTo, record.PermUser, q.VisibleTo)
	}
	if q.AfterID != "" {
		b.and(`snapshot_id > ?`, q.AfterID)
	}
	b.sql.WriteString(` ORDER BY snapshot_id, region`)
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ?`)
		b.args = append(b.args, q.Limit)
	}
	return getAll(ctx, t, "find snapshots", b.sql.String(), b.args, record.ScanSnapshot)
}

type permRow struct {
	id string
	p  snapshot.Permission
}

func scanPermRow(r record.Row) (permRow, error) {
	var id, kind, value string
	if err := r.Scan(&id, &kind, &value); err != nil {
		return permRow{}, err
	}
	return permRow{id, record.PermissionFrom(kind, value)}, nil
}

func (t *tx) SnapshotPermissions(ctx context.Context, region string, ids []string) (map[string][]snapshot.Permission, error) {
	if t.rc == nil {
		return t.snapshotPermissionsSQL(ctx, region, ids)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[string][]snapshot.Permission, len(ids))
	var miss []string
	for _, id := range ids {
		if e, ok := t.rc.Snapshot(region, id); !ok {
			miss = append(miss, id)
		} else if len(e.Perms) > 0 {
			out[id] = slices.Clone(e.Perms)
		}
	}
	if len(miss) > 0 {
		fetched, err := t.snapshotPermissionsSQL(ctx, region, miss)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, fetched)
	}
	return out, nil
}

func (t *tx) snapshotPermissionsSQL(ctx context.Context, region string, ids []string) (map[string][]snapshot.Permission, error) {
	out := map[string][]snapshot.Permission{}
	ids = dedupe(ids)
	for len(ids) > 0 {
		chunk := padStrings(ids[:min(len(ids), maxParams)])
		ids = ids[min(len(ids), maxParams):]
		args := []any{region}
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := getAll(ctx, t, "snapshot permissions", `SELECT snapshot_id, kind, value FROM snapshot_permissions
WHERE region = ? AND snapshot_id IN (`+placeholders(len(chunk))+`) ORDER BY snapshot_id, seq`, args, scanPermRow)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.id] = append(out[r.id], r.p)
		}
	}
	return out, nil
}

func (t *tx) SetSnapshotPermissions(ctx context.Context, region, id string, perms []snapshot.Permission) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	t.touch(readcache.Invalidation{Res: readcache.Key{Region: region, ID: id}, Snap: true})
	if _, err := t.exec(ctx, `DELETE FROM snapshot_permissions WHERE region = ? AND snapshot_id = ?`, region, id); err != nil {
		return fmt.Errorf("sqlite: set permissions of %s: %w", id, err)
	}
	for i, p := range perms {
		kind, value := record.PermissionRow(p)
		if _, err := t.exec(ctx, `INSERT INTO snapshot_permissions (region, snapshot_id, kind, value, seq) VALUES (?, ?, ?, ?, ?)`,
			region, id, kind, value, i); err != nil {
			return fmt.Errorf("sqlite: set permissions of %s: %w", id, err)
		}
	}
	return nil
}

// ImageUsingSnapshot reads the index of snapshot references.
func (t *tx) ImageUsingSnapshot(ctx context.Context, region, snapshotID string) (string, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return "", err
	}
	var id string
	err = t.queryRow(ctx, `SELECT image_id FROM image_snapshots WHERE region = ? AND snapshot_id = ?
ORDER BY creation_date, image_id LIMIT 1`, []any{region, snapshotID}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: images using %s: %w", snapshotID, err)
	}
	return id, nil
}

// setSnapshotRefs makes the index rows of img refs, which is
// record.SnapshotRefs(img); fresh is true for a new image (nothing to
// remove).
func (t *tx) setSnapshotRefs(ctx context.Context, img *image.Image, refs []string, fresh bool) error {
	if !fresh {
		if _, err := t.exec(ctx, `DELETE FROM image_snapshots WHERE region = ? AND image_id = ?`, img.Region, img.ID); err != nil {
			return fmt.Errorf("sqlite: snapshot references of %s: %w", img.ID, err)
		}
	}
	created := record.Millis(img.CreationDate)
	for _, id := range refs {
		if _, err := t.exec(ctx, `INSERT INTO image_snapshots (region, snapshot_id, image_id, creation_date) VALUES (?, ?, ?, ?)`,
			img.Region, id, img.ID, created); err != nil {
			return fmt.Errorf("sqlite: snapshot references of %s: %w", img.ID, err)
		}
	}
	return nil
}
