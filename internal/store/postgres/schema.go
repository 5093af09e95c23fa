package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations is the schema history, oldest first; migrations[i] is version
// i+1. Append only: a shipped migration is never edited, because databases in
// the field already ran it.
//
// The tables and indexes are the sqlite engine's (see its schema.go), in
// PostgreSQL types: text COLLATE "C" wherever SQLite compares bytewise (ids,
// names, keys: ordering and prefix ranges must agree between engines and not
// depend on the database's locale), bigint unix milliseconds for times,
// boolean for the public flag and the same JSON document as text. SQLite's
// planner statistics have no counterpart: PostgreSQL's autovacuum gathers
// real ones.
var migrations = []string{
	// 1: images with their indexed columns and document, launch permissions,
	// tags, settings and instances.
	`
CREATE TABLE images (
	region           text COLLATE "C" NOT NULL,
	image_id         text COLLATE "C" NOT NULL,
	owner_id         text COLLATE "C" NOT NULL,
	owner_alias      text COLLATE "C" NOT NULL DEFAULT '',
	name             text COLLATE "C" NOT NULL DEFAULT '',
	state            text COLLATE "C" NOT NULL,
	is_public        boolean NOT NULL DEFAULT false,
	creation_date    bigint  NOT NULL,
	deprecation_time bigint,
	doc              text    NOT NULL,
	PRIMARY KEY (region, image_id)
);
CREATE INDEX images_owner_name ON images (region, owner_id, name);
CREATE INDEX images_owner_alias ON images (region, owner_alias);
CREATE INDEX images_name ON images (region, name);
CREATE INDEX images_public ON images (region, is_public);

CREATE TABLE launch_permissions (
	region   text COLLATE "C" NOT NULL,
	image_id text COLLATE "C" NOT NULL,
	kind     text COLLATE "C" NOT NULL,
	value    text COLLATE "C" NOT NULL,
	seq      integer NOT NULL,
	PRIMARY KEY (region, image_id, kind, value),
	FOREIGN KEY (region, image_id) REFERENCES images (region, image_id) ON DELETE CASCADE
);
CREATE INDEX launch_permissions_grantee ON launch_permissions (region, kind, value, image_id);

CREATE TABLE tags (
	region      text COLLATE "C" NOT NULL,
	account     text COLLATE "C" NOT NULL,
	resource_id text COLLATE "C" NOT NULL,
	key         text COLLATE "C" NOT NULL,
	value       text NOT NULL,
	PRIMARY KEY (region, account, resource_id, key)
);
CREATE INDEX tags_resource ON tags (region, resource_id);
CREATE INDEX tags_key_value ON tags (region, account, key, value);

CREATE TABLE settings (
	region  text COLLATE "C" NOT NULL,
	account text COLLATE "C" NOT NULL,
	name    text COLLATE "C" NOT NULL,
	value   text NOT NULL,
	PRIMARY KEY (region, account, name)
);

CREATE TABLE instances (
	region      text COLLATE "C" NOT NULL,
	instance_id text COLLATE "C" NOT NULL,
	owner_id    text COLLATE "C" NOT NULL,
	image_id    text COLLATE "C" NOT NULL DEFAULT '',
	state       text COLLATE "C" NOT NULL,
	doc         text NOT NULL,
	PRIMARY KEY (region, instance_id)
);
CREATE INDEX instances_owner ON instances (region, owner_id, instance_id);
CREATE INDEX instances_image ON instances (region, image_id);
CREATE INDEX instances_state ON instances (region, state);
`,

	// 2: an account's images by state, for the image quota's count.
	`
CREATE INDEX images_owner_state ON images (region, owner_id, state);
`,
	// 3: volumes, snapshots and their create-volume permissions
	// (storageSchema, in snapshots.go).
	storageSchema,

	// 4: RunInstances client tokens: what each launched, written in the
	// launch's transaction (instance.TokenRecord). instance_ids is the
	// reservation's ids, space-separated.
	`
CREATE TABLE client_tokens (
	region         text COLLATE "C" NOT NULL,
	account        text COLLATE "C" NOT NULL,
	token          text COLLATE "C" NOT NULL,
	zone           text COLLATE "C" NOT NULL DEFAULT '',
	fingerprint    text NOT NULL,
	reservation_id text NOT NULL,
	instance_ids   text NOT NULL,
	created_at     bigint NOT NULL,
	PRIMARY KEY (region, account, token, zone)
);
`,

	// The audit trail (internal/audit; auditSchema, in audit.go).
	auditSchema,
	// outbox: the sqlite engine's, with an identity seq. Delivered rows
	// are deleted, so it stays small and autovacuum keeps up.
	`
CREATE TABLE outbox (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id          text COLLATE "C" NOT NULL,
	topic       text COLLATE "C" NOT NULL,
	key         text COLLATE "C" NOT NULL,
	not_before  bigint  NOT NULL,
	created     bigint  NOT NULL,
	attempts    integer NOT NULL DEFAULT 0,
	lease_until bigint,
	body        bytea   NOT NULL
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
	// Each event's writing transaction, which orders the trail so that a
	// lookup never passes over an event still to commit (auditOrderSchema,
	// in audit_order.go).
	auditOrderSchema,

	// amigo_still(ok) fails the transaction, as a serialization failure,
	// unless ok: the check of a read an Update took from the read cache
	// (tx.checkedImage). The check is queued with the writes that follow
	// it, so it must stop them on the server: a result the client judges
	// comes after the whole pipeline, COMMIT included, has run.
	`
CREATE FUNCTION amigo_still(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	IF ok IS NOT TRUE THEN
		RAISE EXCEPTION 'a row changed since the read cache read it' USING ERRCODE = 'serialization_failure';
	END IF;
	RETURN true;
END
$$;
`,

	// An account's images in id order: listings filtered by one owner
	// (--owners self, a streamed listing's id-ordered batches) walk it and
	// stop at the page's end, instead of reading and sorting every image
	// of the owner for each page (images_owner_state has them by state).
	`
CREATE INDEX images_owner_id ON images (region, owner_id, image_id);
`,
	// A reservation's instances, which a streamed DescribeInstances
	// gathers for each reservation it lists. The reservation id lives in
	// the document, so the index is on the expression instance.go's
	// FindInstances writes.
	`CREATE INDEX instances_reservation ON instances (region, ((doc::jsonb ->> 'reservationId') COLLATE "C"));`,
}

// migrationLock is the pg_advisory_xact_lock key that serializes migrations
// of one database: "amigo" in ASCII, then 1. Advisory locks are per
// database, so amigo databases on one server do not wait for each other.
const migrationLock int64 = 0x616d69676f_000001

// migrate brings the database up to the latest schema version in one
// transaction that first takes the migration lock: processes starting at
// once wait for each other, and the later ones find the work done. A crash
// mid-way leaves the old version intact.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		// Building indexes over a large table may take longer than the
		// statement timeout that bounds requests.
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		// Under the lock, so no two processes create it at once.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer NOT NULL PRIMARY KEY,
	applied_at bigint  NOT NULL
)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("read version: %w", err)
		}
		if current > len(migrations) {
			return &newerSchemaError{current}
		}
		now := time.Now().UnixMilli()
		for v := current + 1; v <= len(migrations); v++ {
			// Exec without arguments uses the simple protocol, which
			// accepts several statements.
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, v, now); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		return nil
	})
	var newer *newerSchemaError
	if errors.As(err, &newer) {
		return err
	}
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

type newerSchemaError struct{ version int }

func (e *newerSchemaError) Error() string {
	return fmt.Sprintf("postgres: database schema version %d is newer than this program's %d", e.version, len(migrations))
}
