package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
	"github.com/amigo-ec2/amigo/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// testOptions keeps pools small: the conformance suite runs its tests in
// parallel, each with a store of its own on one server. The timeouts are
// generous for a loaded machine, but on, so every statement of the suite
// goes through boundedTx.
var testOptions = Options{MaxConns: 4, ConnectTimeout: 10 * time.Second, AcquireTimeout: 30 * time.Second, StatementTimeout: 30 * time.Second}

func openTest(t testing.TB, dsn string, opts Options) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunEngine(t, storetest.Engine{
		Open: func(t *testing.T) instance.Store {
			return openTest(t, pgtest.Start(t), testOptions)
		},
		// A new pool on the same database, as a restarted process would.
		Reopen: func(t *testing.T, old instance.Store) instance.Store {
			return openTest(t, old.(*Store).dsn, testOptions)
		},
	})
}

// TestTwoProcesses runs concurrent read-modify-writes of one image through
// two stores on one database, as two amigo processes would: serializable
// transactions and retries lose none of them.
func TestTwoProcesses(t *testing.T) {
	dsn := pgtest.Start(t)
	stores := []*Store{openTest(t, dsn, Options{MaxConns: 8}), openTest(t, dsn, Options{MaxConns: 8})}
	for _, s := range stores {
		defer s.Close()
	}
	ctx := t.Context()
	const region, id = "us-east-1", "ami-00000000000000001"
	err := stores[0].Update(ctx, func(tx image.Tx) error {
		return tx.InsertImage(ctx, &image.Image{Region: region, ID: id, OwnerID: "111111111111", State: image.StateAvailable})
	})
	if err != nil {
		t.Fatal(err)
	}

	const n = 64
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, n)
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("%012d", 500000000000+i)
		s := stores[i%2]
		wg.Go(func() {
			<-start
			errs[i] = s.Update(ctx, func(tx image.Tx) error {
				img, err := tx.Image(ctx, region, id)
				if err != nil {
					return err
				}
				img.LaunchPermissions = append(img.LaunchPermissions, image.LaunchPermission{Kind: image.PermUser, Value: want[i]})
				return tx.UpdateImage(ctx, img)
			})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("grant %d: %v", i, err)
		}
	}
	var img *image.Image
	err = stores[1].View(ctx, func(tx image.Tx) error {
		var err error
		img, err = tx.Image(ctx, region, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range img.LaunchPermissions {
		got = append(got, p.Value)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("after %d concurrent grants through two stores: %d permissions %v", n, len(got), got)
	}
	var attempts, retries int64
	for _, s := range stores {
		attempts += s.attempts.Load()
		retries += s.retries.Load()
	}
	t.Logf("%d updates took %d transactions (%d retries)", n+1, attempts, retries)
}

// TestConcurrentMigrations opens one new database from several pools at
// once, as amigo processes starting together would: the advisory lock lets
// one migrate and the others find the work done.
func TestConcurrentMigrations(t *testing.T) {
	dsn := pgtest.Start(t)
	const n = 6
	var wg sync.WaitGroup
	stores := make([]*Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(t.Context(), dsn, Options{MaxConns: 2})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var rows, maxV int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&rows, &maxV); err != nil {
		t.Fatal(err)
	}
	if rows != len(migrations) || maxV != len(migrations) {
		t.Errorf("schema_migrations: %d rows, max %d; want %d", rows, maxV, len(migrations))
	}
	// Every store works on the migrated schema.
	for i, s := range stores {
		err := s.Update(t.Context(), func(tx image.Tx) error {
			return tx.SetSetting(t.Context(), "r", "a", fmt.Sprint(i), "v")
		})
		if err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	dsn := pgtest.Start(t)
	for range 3 {
		s := openTest(t, dsn, testOptions)
		var n int
		if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(migrations) {
			t.Fatalf("schema_migrations: %d rows, want %d", n, len(migrations))
		}
		s.Close()
	}
	// A database from a newer program is refused, not downgraded.
	s := openTest(t, dsn, testOptions)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(t.Context(), dsn, testOptions); err == nil || !strings.Contains(err.Error(), "newer") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want refusal", err)
	}
}

// TestRetryDespiteWrappedError: a function that turns a serialization
// failure into an error of its own still gets retried, because the store
// trusts the database's verdict rather than fn's error.
func TestRetryDespiteWrappedError(t *testing.T) {
	s := openTest(t, pgtest.Start(t), testOptions)
	defer s.Close()
	ctx := t.Context()
	if err := s.Update(ctx, func(tx image.Tx) error { return tx.SetSetting(ctx, "r", "a", "n", "0") }); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	runs := 0
	go func() {
		done <- s.Update(ctx, func(tx image.Tx) error {
			runs++
			v, err := tx.Setting(ctx, "r", "a", "n")
			if err != nil {
				return err
			}
			if runs == 1 {
				close(read)
				<-release
			}
			if err := tx.SetSetting(ctx, "r", "a", "n", v+"+1"); err != nil {
				return errors.New("opaque domain error") // the cause is dropped
			}
			return nil
		})
	}()
	<-read
	// A concurrent change of the row the first run has read.
	if err := s.Update(ctx, func(tx image.Tx) error { return tx.SetSetting(ctx, "r", "a", "n", "1") }); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Update: %v", err)
	}
	if runs != 2 {
		t.Errorf("fn ran %d times, want 2", runs)
	}
	var v string
	if err := s.View(ctx, func(tx image.Tx) error { var err error; v, err = tx.Setting(ctx, "r", "a", "n"); return err }); err != nil {
		t.Fatal(err)
	}
	if v != "1+1" {
		t.Errorf("value %q, want 1+1: an update was lost", v)
	}
}

// TestCancelWhileRunning: once fn has run, the caller learns the outcome,
// not "canceled".
func TestCancelWhileRunning(t *testing.T) {
	s := openTest(t, pgtest.Start(t), testOptions)
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	err := s.Update(ctx, func(tx image.Tx) error {
		if err := tx.SetSetting(ctx, "r", "a", "n", "v"); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if err != nil {
		t.Fatalf("Update = %v, want nil: the change was committed", err)
	}
	if err := s.View(t.Context(), func(tx image.Tx) error { _, err := tx.Setting(t.Context(), "r", "a", "n"); return err }); err != nil {
		t.Fatalf("committed setting: %v", err)
	}
}

// TestPanicInUpdate: a panicking function rolls back and its connection
// goes back to the pool usable.
func TestPanicInUpdate(t *testing.T) {
	s := openTest(t, pgtest.Start(t), Options{MaxConns: 1})
	defer s.Close()
	ctx := t.Context()
	func() {
		defer func() {
			if p := recover(); p != "bad function" {
				t.Errorf("recovered %v", p)
			}
		}()
		_ = s.Update(ctx, func(tx image.Tx) error {
			if err := tx.SetSetting(ctx, "r", "a", "n", "v"); err != nil {
				return err
			}
			panic("bad function")
		})
	}()
	// The only connection is free again, and nothing was kept.
	err := s.View(ctx, func(tx image.Tx) error {
		_, err := tx.Setting(ctx, "r", "a", "n")
		return err
	})
	if err != resource.ErrNotFound {
		t.Errorf("setting of the panicking update: %v, want resource.ErrNotFound", err)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	s := openTest(t, pgtest.Start(t), testOptions)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), func(image.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close: %v, want ErrClosed", err)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		prefix, want string
		ok           bool
	}{
		{"abc", "abd", true},
		{"ünï", "ünð", true},
		{"a\u00ff", "a\u0100", true},
		{"a\uD7FF", "a\uE000", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF", "", false},
	} {
		got, ok := prefixEnd(tc.prefix)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.prefix, got, ok, tc.want, tc.ok)
		}
	}
}

// TestQueryPlansUseIndexes checks with EXPLAIN that no query a selective
// field drives scans the images table, on a table big enough (and
// analyzed) for the planner to care.
func TestQueryPlansUseIndexes(t *testing.T) {
	s := openTest(t, pgtest.Start(t), testOptions)
	defer s.Close()
	ctx := t.Context()
	if _, err := s.pool.Exec(ctx, `INSERT INTO images (region, image_id, owner_id, name, state, is_public, creation_date, doc)
SELECT 'r', format('ami-%s', lpad(to_hex(n), 17, '0')), lpad((n % 500)::text, 12, '0'), format('image-%s', n), 'available', n % 50 = 0, 0, '{}'
FROM generate_series(1, 20000) AS n`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO launch_permissions (region, image_id, kind, value, seq)
SELECT 'r', format('ami-%s', lpad(to_hex(n), 17, '0')), 'userId', lpad((n % 700)::text, 12, '0'), 0
FROM generate_series(1, 20000, 3) AS n`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	viewer := &resource.Viewer{Account: "000000000001", OrgARN: "o", OUARNs: []string{"r", "ou"}}
	perms := []image.LaunchPermission{image.Public, {Kind: image.PermUser, Value: "000000000001"}}
	for _, tc := range []struct {
		name string
		q    image.Query
	}{
		{"IDs", image.Query{IDs: []string{"ami-1", "ami-2"}}},
		{"OwnerIDs", image.Query{OwnerIDs: []string{"1", "2"}}},
		{"OwnerAliases", image.Query{OwnerAliases: []string{"amazon"}}},
		{"VisibleTo", image.Query{VisibleTo: viewer}},
		{"VisibleTo paged", image.Query{VisibleTo: viewer, AfterID: "ami-1", Limit: 10}},
		{"GrantedAny", image.Query{GrantedAny: perms}},
		{"Name", image.Query{Name: "web"}},
		{"NamePrefix", image.Query{NamePrefix: "image-1234"}},
		{"OwnerIDs and VisibleTo", image.Query{OwnerIDs: []string{"1"}, VisibleTo: viewer}},
	} {
		tc.q.Region = "r"
		query, args, _ := findQuery(tc.q)
		rows, err := s.pool.Query(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range plan {
			if strings.Contains(step, "Seq Scan on images") {
				t.Errorf("%s: full scan in plan:\n%s\n%s", tc.name, strings.Join(plan, "\n"), query)
			}
		}
		if testing.Verbose() {
			t.Logf("%s:\n%s", tc.name, strings.Join(plan, "\n"))
		}
	}
}

// TestListTagsPlan: an account's tags in a region come in primary key
// order, paged by a range on it: no scan and no sort.
func TestListTagsPlan(t *testing.T) {
	s := openTest(t, pgtest.Start(t), testOptions)
	defer s.Close()
	ctx := t.Context()
	if _, err := s.pool.Exec(ctx, `INSERT INTO tags (region, account, resource_id, key, value)
SELECT 'r', lpad((n % 100)::text, 12, '0'), format('ami-%s', lpad(to_hex(n / 3), 17, '0')), format('k%s', n % 3), 'v'
FROM generate_series(1, 30000) AS n`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE tags`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []resource.TagQuery{
		{Region: "r", Account: "000000000007", Limit: 100},
		{Region: "r", Account: "000000000007", AfterResourceID: "ami-1", AfterKey: "k", Limit: 100},
	} {
		query, args, _ := listTagsQuery(q)
		rows, err := s.pool.Query(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "Index Scan using tags_pkey") || strings.Contains(text, "Sort") {
			t.Errorf("%+v: plan\n%s", q, text)
		}
	}
}

// TestOwnerPagePlan: a page of one owner's images, as --owners self and a
// streamed listing's batches ask for it, walks images_owner_id in id order
// and stops at the page's end: no sort of every image the owner has.
func TestOwnerPagePlan(t *testing.T) {
	s := openTest(t, pgtest.Start(t), testOptions)
	defer s.Close()
	ctx := t.Context()
	if _, err := s.pool.Exec(ctx, `INSERT INTO images (region, image_id, owner_id, name, state, is_public, creation_date, doc)
SELECT 'r', format('ami-%s', lpad(to_hex(n), 17, '0')), lpad((n % 10)::text, 12, '0'), format('image-%s', n), 'available', false, 0, '{}'
FROM generate_series(1, 30000) AS n`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE images`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []image.Query{
		{Region: "r", OwnerIDs: []string{"000000000003"}, Limit: 100},
		{Region: "r", OwnerIDs: []string{"000000000003"}, AfterID: "ami-00000000000000100", Limit: 100},
	} {
		query, args, _ := findQuery(q)
		rows, err := s.pool.Query(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "images_owner_id") || strings.Contains(text, "Sort") {
			t.Errorf("%+v: plan\n%s\n%s", q, text, query)
		}
	}
}
