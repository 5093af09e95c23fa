package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations is the schema history, oldest first; migrations[i] is version
// i+1. Append only: a shipped migration is never edited, because databases in
// the field already ran it.
//
// The logical schema is what a PostgreSQL engine mirrors: TEXT and INTEGER
// columns, times as unix milliseconds, ids compared bytewise (Postgres would
// declare COLLATE "C"). WITHOUT ROWID is a SQLite storage hint for the small
// child tables (rows live in the primary key b-tree, one write instead of
// two); it has no logical effect and Postgres simply omits it.
var migrations = []string{
	// 1: images with their indexed columns and document, launch permissions,
	// tags and settings.
	`
CREATE TABLE images (
	region           TEXT    NOT NULL,
	image_id         TEXT    NOT NULL,
	owner_id         TEXT    NOT NULL,
	owner_alias      TEXT    NOT NULL DEFAULT '',
	name             TEXT    NOT NULL DEFAULT '',
	state            TEXT    NOT NULL,
	is_public        INTEGER NOT NULL DEFAULT 0,
	creation_date    INTEGER NOT NULL,
	deprecation_time INTEGER,
	doc              TEXT    NOT NULL,
	PRIMARY KEY (region, image_id)
);
CREATE INDEX images_owner_name ON images (region, owner_id, name);
CREATE INDEX images_owner_alias ON images (region, owner_alias);
CREATE INDEX images_name ON images (region, name);
CREATE INDEX images_public ON images (region, is_public);

CREATE TABLE launch_permissions (
	region   TEXT    NOT NULL,
	image_id TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	value    TEXT    NOT NULL,
	seq      INTEGER NOT NULL,
	PRIMARY KEY (region, image_id, kind, value),
	FOREIGN KEY (region, image_id) REFERENCES images (region, image_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX launch_permissions_grantee ON launch_permissions (region, kind, value, image_id);

CREATE TABLE tags (
	region      TEXT NOT NULL,
	account     TEXT NOT NULL,
	resource_id TEXT NOT NULL,
	key         TEXT NOT NULL,
	value       TEXT NOT NULL,
	PRIMARY KEY (region, account, resource_id, key)
) WITHOUT ROWID;
CREATE INDEX tags_resource ON tags (region, resource_id);
CREATE INDEX tags_key_value ON tags (region, account, key, value);

CREATE TABLE settings (
	region  TEXT NOT NULL,
	account TEXT NOT NULL,
	name    TEXT NOT NULL,
	value   TEXT NOT NULL,
	PRIMARY KEY (region, account, name)
) WITHOUT ROWID;
`,

	// 2: planner statistics (SQLite only). Without them SQLite assumes an
	// equality on any indexed column leaves ~10 rows, so "region = ?"
	// looks selective and it walks the primary key in id order instead of
	// using the owner or name index. These figures describe the intended
	// shape (few regions, many images, few per owner or name) and keep
	// plans the same on an empty file and a large one. Format per index:
	// rows, then average rows per distinct value of each column prefix.
	// A migration that adds an index should add its row here too.
	`
ANALYZE;
DELETE FROM sqlite_stat1 WHERE tbl IN ('images', 'launch_permissions', 'tags', 'settings');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
	('images', 'sqlite_autoindex_images_1', '1000000 200000 1'),
	('images', 'images_owner_name', '1000000 200000 50 2 1'),
	('images', 'images_owner_alias', '1000000 200000 20000 1'),
	('images', 'images_name', '1000000 200000 2 1'),
	('images', 'images_public', '1000000 200000 100000 1'),
	('launch_permissions', 'launch_permissions', '2000000 400000 2 2 1'),
	('launch_permissions', 'launch_permissions_grantee', '2000000 400000 100000 20 1'),
	('tags', 'tags', '1000000 200000 1000 3 1'),
	('tags', 'tags_resource', '1000000 200000 3'),
	('tags', 'tags_key_value', '1000000 200000 1000 100 10'),
	('settings', 'settings', '1000 200 5 1');
ANALYZE sqlite_schema;
`,

	// 3: instances, with the columns their queries select on as indexed
	// columns and the rest as a document, plus their planner statistics
	// (see 2).
	`
CREATE TABLE instances (
	region      TEXT NOT NULL,
	instance_id TEXT NOT NULL,
	owner_id    TEXT NOT NULL,
	image_id    TEXT NOT NULL DEFAULT '',
	state       TEXT NOT NULL,
	doc         TEXT NOT NULL,
	PRIMARY KEY (region, instance_id)
);
CREATE INDEX instances_owner ON instances (region, owner_id, instance_id);
CREATE INDEX instances_image ON instances (region, image_id);
CREATE INDEX instances_state ON instances (region, state);

DELETE FROM sqlite_stat1 WHERE tbl = 'instances';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
	('instances', 'sqlite_autoindex_instances_1', '1000000 200000 1'),
	('instances', 'instances_owner', '1000000 200000 50 1'),
	('instances', 'instances_image', '1000000 200000 20'),
	('instances', 'instances_state', '1000000 200000 40000');
ANALYZE sqlite_schema;
`,

	// The owner's image ids from the index alone: listings by owner read
	// their images from the read cache, not the table.
	`
CREATE INDEX images_owner_id ON images (region, owner_id, image_id);
DELETE FROM sqlite_stat1 WHERE tbl = 'images' AND idx = 'images_owner_id';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('images', 'images_owner_id', '1000000 200000 50 1');
ANALYZE sqlite_schema;
`,

	// An account's images by state, from the index alone: the image quota
	// counts those not deregistered on every registration.
	`
CREATE INDEX images_owner_state ON images (region, owner_id, state);
DELETE FROM sqlite_stat1 WHERE tbl = 'images' AND idx = 'images_owner_state';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('images', 'images_owner_state', '1000000 200000 50 20');
ANALYZE sqlite_schema;
`,
	// Volumes, snapshots and their create-volume permissions
	// (storageSchema, in snapshots.go).
	storageSchema,

	// 7: RunInstances client tokens: what each launched, written in the
	// launch's transaction (instance.TokenRecord). instance_ids is the
	// reservation's ids, space-separated.
	`
CREATE TABLE client_tokens (
	region         TEXT    NOT NULL,
	account        TEXT    NOT NULL,
	token          TEXT    NOT NULL,
	zone           TEXT    NOT NULL DEFAULT '',
	fingerprint    TEXT    NOT NULL,
	reservation_id TEXT    NOT NULL,
	instance_ids   TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	PRIMARY KEY (region, account, token, zone)
) WITHOUT ROWID;
DELETE FROM sqlite_stat1 WHERE tbl = 'client_tokens';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('client_tokens', 'client_tokens', '100000 20000 1000 1 1');
ANALYZE sqlite_schema;
`,

	// The audit trail (internal/audit, spec around-images §6): each event's
	// CloudTrail record, and one row per lookup attribute it matches, so
	// LookupEvents by any attribute, newest first, is an index range. seq
	// is the order of insertion; pruning deletes by it, oldest first.
	auditSchema,
	// outbox: messages written with the change they tell of (state change
	// events), delivered later in seq order per (topic, key). Times are unix
	// milliseconds; lease_until marks a message being delivered.
	`
CREATE TABLE outbox (
	seq         INTEGER PRIMARY KEY,
	id          TEXT    NOT NULL,
	topic       TEXT    NOT NULL,
	key         TEXT    NOT NULL,
	not_before  INTEGER NOT NULL,
	created     INTEGER NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	lease_until INTEGER,
	body        BLOB    NOT NULL
);
CREATE INDEX outbox_key ON outbox (topic, key, seq);
CREATE INDEX outbox_due ON outbox (topic, not_before);
`,
	// The snapshot ids each live image names (snapshotRefsSchema, in
	// snapshots.go).
	snapshotRefsSchema,
	// The audit trail's lookup attributes as columns of the event, all
	// but ResourceName (auditLookupSchema, in audit.go).
	auditLookupSchema,
	// A reservation's instances, which a streamed DescribeInstances
	// gathers for each reservation it lists. The reservation id lives in
	// the document, so the index is on the expression instance.go's
	// FindInstances writes.
	`
CREATE INDEX instances_reservation ON instances (region, json_extract(doc, '$.reservationId'));
DELETE FROM sqlite_stat1 WHERE tbl = 'instances' AND idx = 'instances_reservation';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('instances', 'instances_reservation', '1000000 200000 2');
ANALYZE sqlite_schema;
`,
}

// migrate brings the database on conn up to the latest schema version in one
// transaction, so a crash mid-way leaves the old version intact. Reopening an
// up-to-date database does nothing.
func migrate(ctx context.Context, conn *sql.Conn) (err error) {
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.Background(), `ROLLBACK`)
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	applied_at INTEGER NOT NULL
)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	var current int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("sqlite: migrate: read version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this program's %d", current, len(migrations))
	}
	now := time.Now().UnixMilli()
	for v := current + 1; v <= len(migrations); v++ {
		if _, err := conn.ExecContext(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("sqlite: migration %d: %w", v, err)
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, now); err != nil {
			return fmt.Errorf("sqlite: migration %d: %w", v, err)
		}
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return fmt.Errorf("sqlite: migrate: commit: %w", err)
	}
	return nil
}
