package sqlite

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/store/storetest"
)

// A store whose trail was written before auditLookupSchema (a row per
// lookup attribute) upgrades: every event keeps answering every lookup.
func TestAuditLookupSchemaUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "amigo.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) sql.Result {
		t.Helper()
		r, err := db.Exec(q, args...)
		if err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
		return r
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	k := slices.Index(migrations, auditLookupSchema)
	for v := 1; v <= k; v++ {
		exec(migrations[v-1])
		exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, v)
	}
	evs := storetest.AuditUpgradeEvents()
	for _, e := range evs {
		rec, err := e.Record()
		if err != nil {
			t.Fatal(err)
		}
		res, _ := json.Marshal(e.Resources)
		r := exec(`INSERT INTO audit_events (account, region, event_time, resources, record) VALUES (?, ?, ?, ?, ?)`,
			e.Account, e.Region, e.Time.UnixMilli(), string(res), string(rec))
		seq, _ := r.LastInsertId()
		for _, a := range e.Attributes() {
			exec(`INSERT INTO audit_attributes (account, region, key, value, event_time, seq) VALUES (?, ?, ?, ?, ?, ?)`,
				e.Account, e.Region, a.Key, a.Value, e.Time.UnixMilli(), seq)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path, DefaultOptions())
	defer s.Close()
	storetest.CheckAuditLookups(t, s, evs)
}

// Lookups read indexed events and those past the merge mark alike.
func TestAuditLookupAcrossMerge(t *testing.T) {
	opts := DefaultOptions()
	opts.AuditMerge = 7 // merges after the 2nd and 4th batches of 5: 4 events unmerged
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), opts)
	defer s.Close()
	evs := storetest.AuditUpgradeEvents()
	for i := 0; i < len(evs); i += 5 {
		err := s.UpdateAudit(t.Context(), func(tx audit.PruneTx) error {
			for _, e := range evs[i:min(i+5, len(evs))] {
				if err := tx.InsertEvent(t.Context(), e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var merged int64
	if err := s.rdb.QueryRow(`SELECT seq FROM audit_merged`).Scan(&merged); err != nil {
		t.Fatal(err)
	}
	if merged != evs[19].Seq {
		t.Fatalf("merged up to %d of %d events: want some of them", merged, evs[len(evs)-1].Seq)
	}
	storetest.CheckAuditLookups(t, s, evs)
}
