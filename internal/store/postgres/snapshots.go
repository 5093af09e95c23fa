package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// snapshotRefsSchema is the index of snapshot references (see the sqlite
// engine's note). The uncorrelated EXISTS is an InitPlan, a one-time
// filter: without snapshot records no image is read.
const snapshotRefsSchema = `
CREATE TABLE image_snapshots (
	region        text COLLATE "C" NOT NULL,
	snapshot_id   text COLLATE "C" NOT NULL,
	image_id      text COLLATE "C" NOT NULL,
	creation_date bigint NOT NULL,
	PRIMARY KEY (region, snapshot_id, image_id),
	FOREIGN KEY (region, image_id) REFERENCES images (region, image_id) ON DELETE CASCADE
);
CREATE INDEX image_snapshots_image ON image_snapshots (region, image_id);

INSERT INTO image_snapshots (region, snapshot_id, image_id, creation_date)
SELECT DISTINCT i.region, m.value -> 'ebs' ->> 'snapshotId', i.image_id, i.creation_date
FROM images i, jsonb_array_elements(i.doc::jsonb -> 'blockDeviceMappings') m
WHERE EXISTS (SELECT 1 FROM snapshots) AND i.state <> 'deregistered'
	AND m.value -> 'ebs' ->> 'snapshotId' IS NOT NULL
ON CONFLICT DO NOTHING;
`

// storageSchema is the migration that adds volumes, snapshots and
// snapshot permissions.
const storageSchema = `
CREATE TABLE volumes (
	region    text COLLATE "C" NOT NULL,
	volume_id text COLLATE "C" NOT NULL,
	owner_id  text COLLATE "C" NOT NULL,
	doc       text NOT NULL,
	PRIMARY KEY (region, volume_id)
);
CREATE INDEX volumes_owner ON volumes (region, owner_id, volume_id);

CREATE TABLE snapshots (
	region      text COLLATE "C" NOT NULL,
	snapshot_id text COLLATE "C" NOT NULL,
	owner_id    text COLLATE "C" NOT NULL,
	owner_alias text COLLATE "C" NOT NULL DEFAULT '',
	is_public   boolean NOT NULL DEFAULT false,
	doc         text NOT NULL,
	PRIMARY KEY (region, snapshot_id)
);
CREATE INDEX snapshots_owner ON snapshots (region, owner_id, snapshot_id);
CREATE INDEX snapshots_public ON snapshots (region, is_public, snapshot_id);

CREATE TABLE snapshot_permissions (
	region      text COLLATE "C" NOT NULL,
	snapshot_id text COLLATE "C" NOT NULL,
	kind        text COLLATE "C" NOT NULL,
	value       text COLLATE "C" NOT NULL,
	seq         integer NOT NULL,
	PRIMARY KEY (region, snapshot_id, kind, value),
	FOREIGN KEY (region, snapshot_id) REFERENCES snapshots (region, snapshot_id) ON DELETE CASCADE
);
CREATE INDEX snapshot_permissions_grantee ON snapshot_permissions (region, kind, value, snapshot_id);
`

var (
	volumeColumns     = record.List(record.VolumeColumns)
	snapshotColumns   = record.List(record.SnapshotColumns)
	updateSnapshotSQL = `UPDATE snapshots SET ` + record.Assign(record.SnapshotColumns[len(record.SnapshotKeyColumns):], len(record.SnapshotKeyColumns)+1, placeholder) + `
WHERE region = $1 AND snapshot_id = $2`
	updateVolumeSQL = `UPDATE volumes SET ` + record.Assign(record.VolumeColumns[len(record.VolumeKeyColumns):], len(record.VolumeKeyColumns)+1, placeholder) + `
WHERE region = $1 AND volume_id = $2`
)

var (
	_ snapshot.Tx    = (*tx)(nil)
	_ snapshot.Store = (*Store)(nil)
)

func asSnapshotTx(t *tx) snapshot.Tx { return t }
func asVolumeTx(t *tx) volume.Tx     { return t }

// ViewSnapshots is View for functions that read snapshots and volumes.
func (s *Store) ViewSnapshots(ctx context.Context, fn func(snapshot.Tx) error) error {
	return view(s, ctx, fn, asSnapshotTx)
}

// UpdateSnapshots is Update for functions that use snapshots and volumes.
func (s *Store) UpdateSnapshots(ctx context.Context, fn func(snapshot.Tx) error) error {
	return update(s, ctx, fn, asSnapshotTx)
}

// ViewVolumes is View for functions that read volumes.
func (s *Store) ViewVolumes(ctx context.Context, fn func(volume.Tx) error) error {
	return view(s, ctx, fn, asVolumeTx)
}

// UpdateVolumes is Update for functions that use volumes.
func (s *Store) UpdateVolumes(ctx context.Context, fn func(volume.Tx) error) error {
	return update(s, ctx, fn, asVolumeTx)
}

// one scans a single-row answer; no row is resource.ErrNotFound.
func one[T any](t *tx, what string, row pgx.Row, scan func(record.Row) (T, error)) (T, error) {
	v, err := scan(row)
	if errors.Is(err, pgx.ErrNoRows) {
		var zero T
		return zero, resource.ErrNotFound
	}
	if err != nil {
		var zero T
		return zero, t.fail(err, "%s", what)
	}
	return v, nil
}

// all runs a search (searchMode) and scans every row.
func all[T any](ctx context.Context, t *tx, what, query string, args []any, scan func(record.Row) (T, error)) ([]T, error) {
	rows, err := t.tx.Query(ctx, query, append([]any{searchMode}, args...)...)
	if err != nil {
		return nil, t.fail(err, "%s", what)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.fail(err, "%s", what)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, "%s", what)
	}
	return out, nil
}

// insertRow inserts one row; ON CONFLICT DO NOTHING keeps the transaction
// usable when the key is taken (resource.ErrExists).
func (t *tx) insertRow(ctx context.Context, what, table, cols string, vals []any) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO `+table+` (`+cols+`) VALUES (`+placeholders(1, len(vals))+`) ON CONFLICT DO NOTHING`, vals...)
	if err != nil {
		return t.fail(err, "insert %s", what)
	}
	if tag.RowsAffected() == 0 {
		return resource.ErrExists
	}
	return nil
}

// execOne runs a write that must change a row: none is resource.ErrNotFound.
func (t *tx) execOne(ctx context.Context, what, query string, args ...any) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	tag, err := t.tx.Exec(ctx, query, args...)
	if err != nil {
		return t.fail(err, "%s", what)
	}
	if tag.RowsAffected() == 0 {
		return resource.ErrNotFound
	}
	return nil
}

func (t *tx) Volume(ctx context.Context, region, id string) (*volume.Volume, error) {
	if !matchable(region) || !matchable(id) {
		return nil, resource.ErrNotFound
	}
	return one(t, "volume "+id, t.tx.QueryRow(ctx, `SELECT `+volumeColumns+` FROM volumes WHERE region = $1 AND volume_id = $2`, region, id), record.ScanVolume)
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
	return t.execOne(ctx, "update volume "+v.ID, updateVolumeSQL, vals...)
}

func (t *tx) DeleteVolume(ctx context.Context, region, id string) error {
	return t.execOne(ctx, "delete volume "+id, `DELETE FROM volumes WHERE region = $1 AND volume_id = $2`, region, id)
}

func (t *tx) FindVolumes(ctx context.Context, q volume.Query) ([]*volume.Volume, error) {
	var b queryBuilder
	b.sql.WriteString(`SELECT ` + volumeColumns + ` FROM volumes WHERE true`)
	if !matchable(q.Region) || !matchable(q.OwnerID) {
		return nil, nil
	}
	if q.Region != "" {
		b.and(`region = ` + b.arg(q.Region))
	}
	if q.OwnerID != "" {
		b.and(`owner_id = ` + b.arg(q.OwnerID))
	}
	ids, ok := matchableOnly(q.IDs)
	if !ok {
		return nil, nil
	}
	if len(ids) > 0 {
		b.and(`volume_id = ANY(` + b.arg(ids) + `)`)
	}
	if q.AfterID != "" {
		b.and(`volume_id > ` + b.arg(q.AfterID))
	}
	b.sql.WriteString(` ORDER BY volume_id, region`)
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ` + b.arg(q.Limit))
	}
	return all(ctx, t, "find volumes", b.sql.String(), b.args, record.ScanVolume)
}

func (t *tx) Snapshot(ctx context.Context, region, id string) (*snapshot.Snapshot, error) {
	if !matchable(region) || !matchable(id) {
		return nil, resource.ErrNotFound
	}
	return one(t, "snapshot "+id, t.tx.QueryRow(ctx, `SELECT `+snapshotColumns+` FROM snapshots WHERE region = $1 AND snapshot_id = $2`, region, id), record.ScanSnapshot)
}

func (t *tx) InsertSnapshot(ctx context.Context, s *snapshot.Snapshot) error {
	vals, err := record.SnapshotValues(s)
	if err != nil {
		return err
	}
	return t.insertRow(ctx, "snapshot "+s.ID, "snapshots", snapshotColumns, vals)
}

func (t *tx) UpdateSnapshot(ctx context.Context, s *snapshot.Snapshot) error {
	vals, err := record.SnapshotValues(s)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "update snapshot "+s.ID, updateSnapshotSQL, vals...)
}

func (t *tx) DeleteSnapshot(ctx context.Context, region, id string) error {
	// Permissions go by ON DELETE CASCADE.
	return t.execOne(ctx, "delete snapshot "+id, `DELETE FROM snapshots WHERE region = $1 AND snapshot_id = $2`, region, id)
}

func (t *tx) FindSnapshots(ctx context.Context, q snapshot.Query) ([]*snapshot.Snapshot, error) {
	var b queryBuilder
	b.sql.WriteString(`SELECT ` + snapshotColumns + ` FROM snapshots s WHERE true`)
	if !matchable(q.Region) || !matchable(q.VisibleTo) {
		return nil, nil
	}
	if q.Region != "" {
		b.and(`region = ` + b.arg(q.Region))
	}
	ids, ok := matchableOnly(q.IDs)
	if !ok {
		return nil, nil
	}
	if len(ids) > 0 {
		b.and(`snapshot_id = ANY(` + b.arg(ids) + `)`)
	}
	owners, ok := matchableOnly(q.OwnerIDs)
	if !ok {
		return nil, nil
	}
	if len(owners) > 0 {
		b.and(`owner_id = ANY(` + b.arg(owners) + `)`)
	}
	if q.VisibleTo != "" {
		acct := b.arg(q.VisibleTo)
		b.and(`(owner_id = ` + acct + ` OR is_public OR EXISTS (SELECT 1 FROM snapshot_permissions p
WHERE p.region = s.region AND p.snapshot_id = s.snapshot_id AND p.kind = ` + b.arg(record.PermUser) + ` AND p.value = ` + acct + `))`)
	}
	if q.AfterID != "" {
		b.and(`snapshot_id > ` + b.arg(q.AfterID))
	}
	b.sql.WriteString(` ORDER BY snapshot_id, region`)
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ` + b.arg(q.Limit))
	}
	return all(ctx, t, "find snapshots", b.sql.String(), b.args, record.ScanSnapshot)
}

func (t *tx) SnapshotPermissions(ctx context.Context, region string, ids []string) (map[string][]snapshot.Permission, error) {
	out := map[string][]snapshot.Permission{}
	ids, ok := matchableOnly(ids)
	if !ok || len(ids) == 0 || !matchable(region) {
		return out, nil
	}
	type permRow struct {
		id string
		p  snapshot.Permission
	}
	rows, err := all(ctx, t, "snapshot permissions", `SELECT snapshot_id, kind, value FROM snapshot_permissions
WHERE region = $1 AND snapshot_id = ANY($2) ORDER BY snapshot_id, seq`, []any{region, ids}, func(r record.Row) (permRow, error) {
		var id, kind, value string
		if err := r.Scan(&id, &kind, &value); err != nil {
			return permRow{}, err
		}
		return permRow{id, record.PermissionFrom(kind, value)}, nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.id] = append(out[r.id], r.p)
	}
	return out, nil
}

func (t *tx) SetSnapshotPermissions(ctx context.Context, region, id string, perms []snapshot.Permission) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	if _, err := t.tx.Exec(ctx, `DELETE FROM snapshot_permissions WHERE region = $1 AND snapshot_id = $2`, region, id); err != nil {
		return t.fail(err, "set permissions of %s", id)
	}
	for i, p := range perms {
		kind, value := record.PermissionRow(p)
		if _, err := t.tx.Exec(ctx, `INSERT INTO snapshot_permissions (region, snapshot_id, kind, value, seq) VALUES ($1, $2, $3, $4, $5)`,
			region, id, kind, value, i); err != nil {
			return t.fail(err, "set permissions of %s", id)
		}
	}
	return nil
}

// ImageUsingSnapshot reads the index of snapshot references.
func (t *tx) ImageUsingSnapshot(ctx context.Context, region, snapshotID string) (string, error) {
	if !matchable(region) || !matchable(snapshotID) {
		return "", nil
	}
	var id string
	err := t.tx.QueryRow(ctx, `SELECT image_id FROM image_snapshots WHERE region = $1 AND snapshot_id = $2
ORDER BY creation_date, image_id LIMIT 1`, region, snapshotID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", t.fail(err, "images using %s", snapshotID)
	}
	return id, nil
}
