package pgtest

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// TestStart: each call gets its own empty, usable database.
func TestStart(t *testing.T) {
	ctx := t.Context()
	var names []string
	for range 2 {
		dsn := Start(t)
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		var name string
		var tables int
		if err := conn.QueryRow(ctx, `SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("database %s has %d tables, want none", name, tables)
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		names = append(names, name)
	}
	if names[0] == names[1] {
		t.Errorf("two Starts returned the same database %s", names[0])
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u:p@h:5432/postgres?sslmode=disable", "postgres://u:p@h:5432/db?sslmode=disable"},
		{"postgresql://h/", "postgresql://h/db"},
		{"host=h user=u dbname=postgres", "host=h user=u dbname=postgres dbname=db"},
	} {
		if got := withDatabase(tc.dsn, "db"); got != tc.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}

// TestStartServerAndExternal starts a private server, then uses it the way
// AMIGO_TEST_POSTGRES makes Start use an existing one.
func TestStartServerAndExternal(t *testing.T) {
	dsn, stop, err := StartServer()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	srv, err := external(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	ctx := t.Context()
	name, err := srv.createDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, withDatabase(dsn, name))
	if err != nil {
		t.Fatal(err)
	}
	// An open session does not keep the database from being dropped.
	if err := srv.dropDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	var n int
	if err := srv.admin.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists", name)
	}
}
