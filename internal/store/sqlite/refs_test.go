package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

// TestSnapshotRefsBackfill upgrades a database written before the index of
// snapshot references: when it holds snapshot records the migration indexes
// the live images' references (external ones too, harmlessly).
func TestSnapshotRefsBackfill(t *testing.T) {
	t.Run("with snapshot records", func(t *testing.T) { testSnapshotRefsBackfill(t, true) })
	// Without any, the migration reads no image: external references stay
	// out of the index.
	t.Run("without", func(t *testing.T) { testSnapshotRefsBackfill(t, false) })
}

func testSnapshotRefsBackfill(t *testing.T, records bool) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "amigo.db")
	s := openTest(t, path, Options{})
	const real, external = "snap-00000000000000001", "snap-00000000000000002"
	mapped := func(id, snap string) *image.Image {
		return &image.Image{Region: "us-east-1", ID: id, OwnerID: "111122223333", Name: id, State: image.StateAvailable,
			CreationDate:        time.UnixMilli(1e12).UTC(),
			BlockDeviceMappings: []image.BlockDeviceMapping{{DeviceName: "/dev/xvda", Ebs: &image.EbsBlockDevice{SnapshotID: snap}}}}
	}
	err := s.UpdateSnapshots(ctx, func(tx snapshot.Tx) error {
		if !records {
			return nil
		}
		return tx.InsertSnapshot(ctx, &snapshot.Snapshot{Region: "us-east-1", ID: real, OwnerID: "111122223333", State: snapshot.StateCompleted})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx image.Tx) error {
		if err := tx.InsertImage(ctx, mapped("ami-00000000000000001", real)); err != nil {
			return err
		}
		return tx.InsertImage(ctx, mapped("ami-00000000000000002", external))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Back to the schema before the index (and the migrations after it,
	// which run again).
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	// The migrations after it go too (undoMigrationsAfterRefs).
	undo := append(undoMigrationsAfterRefs(), `DROP TABLE image_snapshots`,
		fmt.Sprintf(`DELETE FROM schema_migrations WHERE version >= %d`, slices.Index(migrations, snapshotRefsSchema)+1))
	for _, q := range undo {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, path, Options{})
	defer s.Close()
	err = s.ViewSnapshots(ctx, func(tx snapshot.Tx) error {
		want := map[string]string{real: "ami-00000000000000001", external: "ami-00000000000000002"}
		if !records {
			want = map[string]string{real: "", external: ""}
		}
		for snap, want := range want {
			got, err := tx.ImageUsingSnapshot(ctx, "us-east-1", snap)
			if err != nil {
				return err
			}
			if got != want {
				t.Errorf("after the upgrade, ImageUsingSnapshot(%s) = %q, want %q", snap, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// undoMigrationsAfterRefs returns the statements that take a database back
// from the latest schema to the one just after snapshotRefsSchema.
func undoMigrationsAfterRefs() []string {
	var out []string
	if slices.Contains(migrations, auditLookupSchema) {
		out = append(out, `DROP INDEX instances_reservation`, `DROP TABLE audit_lookup`, `DROP TABLE audit_resources`, `DROP TABLE audit_merged`, `DROP INDEX audit_events_id`)
		for _, c := range []string{"event_id", "name", "read_only", "source", "access_key", "username", "rtypes"} {
			out = append(out, `ALTER TABLE audit_events DROP COLUMN `+c)
		}
		out = append(out, `CREATE TABLE audit_attributes (account TEXT NOT NULL, region TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
	event_time INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (account, region, key, value, event_time, seq)) WITHOUT ROWID`,
			`CREATE INDEX audit_events_time ON audit_events (account, region, event_time, seq)`)
	}
	return out
}
