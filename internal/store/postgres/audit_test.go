package postgres

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/store/pgtest"
	"github.com/amigo-ec2/amigo/internal/store/storetest"
)

// A database whose trail was written before auditLookupSchema (a row per
// lookup attribute) upgrades: every event keeps answering every lookup.
func TestAuditLookupSchemaUpgrade(t *testing.T) {
	dsn := pgtest.Start(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version integer NOT NULL PRIMARY KEY, applied_at bigint NOT NULL)`)
	k := slices.Index(migrations, auditLookupSchema)
	for v := 1; v <= k; v++ {
		exec(migrations[v-1])
		exec(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, v)
	}
	evs := storetest.AuditUpgradeEvents()
	for _, e := range evs {
		rec, err := e.Record()
		if err != nil {
			t.Fatal(err)
		}
		res, _ := json.Marshal(e.Resources)
		var seq int64
		if err := conn.QueryRow(ctx, `INSERT INTO audit_events (account, region, event_time, resources, record) VALUES ($1, $2, $3, $4, $5) RETURNING seq`,
			e.Account, e.Region, e.Time.UnixMilli(), string(res), string(rec)).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		for _, a := range e.Attributes() {
			exec(`INSERT INTO audit_attributes (account, region, key, value, event_time, seq) VALUES ($1, $2, $3, $4, $5, $6)`,
				e.Account, e.Region, a.Key, a.Value, e.Time.UnixMilli(), seq)
		}
	}
	s := openTest(t, dsn, testOptions)
	defer s.Close()
	storetest.CheckAuditLookups(t, s, evs)
}
