package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
	"github.com/amigo-ec2/amigo/internal/store/storetest"
)

func openTest(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func engine(opts Options) storetest.Engine {
	return storetest.Engine{
		Open: func(t *testing.T) instance.Store {
			return openTest(t, filepath.Join(t.TempDir(), "amigo.db"), opts)
		},
		Reopen: func(t *testing.T, old instance.Store) instance.Store {
			return openTest(t, old.(*Store).Path(), opts)
		},
	}
}

func TestConformance(t *testing.T) {
	t.Run("GroupCommit", func(t *testing.T) { storetest.RunEngine(t, engine(DefaultOptions())) })
	t.Run("NoGroupCommit", func(t *testing.T) {
		opts := DefaultOptions()
		opts.GroupCommit = false
		storetest.RunEngine(t, engine(opts))
	})
	// A batch of at most two exercises batch boundaries in every test.
	t.Run("SmallBatches", func(t *testing.T) {
		opts := DefaultOptions()
		opts.MaxBatch = 2
		opts.ReadConns = 1
		opts.AuditMerge = 4 // audit lookups over indexed and unindexed events
		storetest.RunEngine(t, engine(opts))
	})
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "amigo.db") // directories created
	for range 3 {
		s := openTest(t, path, DefaultOptions())
		var n, maxV int
		if err := s.rdb.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &maxV); err != nil {
			t.Fatal(err)
		}
		if n != len(migrations) || maxV != len(migrations) {
			t.Fatalf("schema_migrations: %d rows, max %d; want %d", n, maxV, len(migrations))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A database from a newer program is refused, not downgraded.
	s := openTest(t, path, DefaultOptions())
	if err := s.Update(t.Context(), func(image.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wconn.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, DefaultOptions()); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v, want refusal", err)
	}
}

func TestPragmas(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	ctx := t.Context()
	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(busyTimeoutMillis)},
	} {
		var got string
		if err := s.wconn.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
	var qo string
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo); err != nil {
		t.Fatal(err)
	}
	if qo != "1" {
		t.Errorf("read pool query_only = %s", qo)
	}
}

// TestGroupCommitBatches checks that concurrent updates share commits.
func TestGroupCommitBatches(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	release := make(chan struct{})
	started := make(chan struct{})
	// Hold the writer so the others pile up in the queue.
	go s.Update(t.Context(), func(image.Tx) error { close(started); <-release; return nil })
	<-started
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.Update(t.Context(), func(tx image.Tx) error {
				return tx.SetSetting(t.Context(), "r", "a", fmt.Sprint(i), "v")
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	waitFor(t, func() bool { return len(s.queue) == n })
	before := s.commits.Load()
	close(release)
	wg.Wait()
	if commits := s.commits.Load() - before; commits > 2 {
		t.Errorf("%d queued updates took %d commits, want 1 (plus the held one)", n, commits)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPanicInUpdate: a panicking function fails alone and the writer goes on.
func TestPanicInUpdate(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	ctx := t.Context()
	release := make(chan struct{})
	started := make(chan struct{})
	go s.Update(ctx, func(image.Tx) error { close(started); <-release; return nil })
	<-started

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx image.Tx) error {
				if err := tx.SetSetting(ctx, "r", "a", fmt.Sprint(i), "v"); err != nil {
					return err
				}
				if i == 1 {
					panic("bad function")
				}
				return nil
			})
		})
		waitFor(t, func() bool { return len(s.queue) == i+1 }) // one batch, in order
	}
	close(release)
	wg.Wait()
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("neighbours of a panic failed: %v, %v", errs[0], errs[2])
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "bad function") {
		t.Errorf("panicking update returned %v", errs[1])
	}
	err := s.View(ctx, func(tx image.Tx) error {
		for i, want := range []bool{true, false, true} {
			_, err := tx.Setting(ctx, "r", "a", fmt.Sprint(i))
			if (err == nil) != want {
				t.Errorf("setting %d present = %v, want %v", i, err == nil, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The writer still works.
	if err := s.Update(ctx, func(tx image.Tx) error { return tx.SetSetting(ctx, "r", "a", "after", "v") }); err != nil {
		t.Fatalf("Update after a panic: %v", err)
	}
}

// TestCommitFailureRetriesAlone: when the shared COMMIT fails, each
// function gets a transaction of its own and the batch still succeeds.
func TestCommitFailureRetriesAlone(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	ctx := t.Context()
	var calls int
	s.beforeCommit = func() error { // runs on the writer goroutine only
		calls++
		if calls == 2 { // the batch's commit; the first is the held update
			return errors.New("injected commit failure")
		}
		return nil
	}
	release := make(chan struct{})
	started := make(chan struct{})
	go s.Update(ctx, func(image.Tx) error { close(started); <-release; return nil })
	<-started

	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	var runs [n]int
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx image.Tx) error {
				runs[i]++
				if i == 3 {
					return errors.New("own failure")
				}
				return tx.SetSetting(ctx, "r", "a", fmt.Sprint(i), "v")
			})
		})
	}
	waitFor(t, func() bool { return len(s.queue) == n })
	close(release)
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 3) {
			t.Errorf("update %d: %v", i, err)
		}
		want := 2 // once in the failed batch, once alone
		if i == 3 {
			want = 1 // its own failure is final
		}
		if runs[i] != want {
			t.Errorf("update %d ran %d times, want %d", i, runs[i], want)
		}
	}
	err := s.View(ctx, func(tx image.Tx) error {
		for i := range n {
			if _, err := tx.Setting(ctx, "r", "a", fmt.Sprint(i)); (err == nil) != (i != 3) {
				t.Errorf("setting %d: %v", i, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCancelWhileQueued: a caller whose context ends while it waits in the
// queue returns at once, and its function never runs.
func TestCancelWhileQueued(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	release := make(chan struct{})
	started := make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.Update(t.Context(), func(image.Tx) error { close(started); <-release; return nil })
	}()
	<-started

	ctx, cancel := context.WithCancel(t.Context())
	ran := false
	result := make(chan error, 1)
	go func() { result <- s.Update(ctx, func(image.Tx) error { ran = true; return nil }) }()
	waitFor(t, func() bool { return len(s.queue) == 1 })
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("canceled Update still waiting for the writer")
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	// Wait until the writer has passed the abandoned request.
	if err := s.Update(t.Context(), func(image.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("the abandoned function ran")
	}
}

// TestCancelWhileRunning: once its function runs, a caller is told the
// outcome, not "canceled", so it never mistakes a committed change for a
// lost one.
func TestCancelWhileRunning(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	err := s.Update(ctx, func(tx image.Tx) error {
		if err := tx.SetSetting(ctx, "r", "a", "n", "v"); err != nil {
			return err
		}
		cancel()
		time.Sleep(10 * time.Millisecond) // let Update see ctx.Done
		return nil
	})
	if err != nil {
		t.Fatalf("Update = %v, want nil: the change was committed", err)
	}
	if err := s.View(t.Context(), func(tx image.Tx) error {
		_, err := tx.Setting(t.Context(), "r", "a", "n")
		return err
	}); err != nil {
		t.Fatalf("committed setting: %v", err)
	}
}

// TestViewDoesNotWaitForWriter: reads proceed while a write transaction is
// open (WAL).
func TestViewDoesNotWaitForWriter(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	ctx := t.Context()
	if err := s.Update(ctx, func(tx image.Tx) error { return tx.SetSetting(ctx, "r", "a", "n", "old") }); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	written := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx image.Tx) error {
			if err := tx.SetSetting(ctx, "r", "a", "n", "new"); err != nil {
				return err
			}
			close(written)
			<-release
			return nil
		})
	}()
	<-written
	viewed := make(chan string, 1)
	go func() {
		_ = s.View(ctx, func(tx image.Tx) error {
			v, err := tx.Setting(ctx, "r", "a", "n")
			viewed <- v
			return err
		})
	}()
	select {
	case v := <-viewed:
		if v != "old" {
			t.Errorf("View read uncommitted %q", v)
		}
	case <-time.After(5 * time.Second):
		t.Error("View waited for the writer")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestCloseIsIdempotent: a second Close is harmless.
func TestCloseIsIdempotent(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
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

// TestQueryPlansUseIndexes checks with EXPLAIN QUERY PLAN that no query a
// selective field drives scans the images table.
func TestQueryPlansUseIndexes(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	viewer := &resource.Viewer{Account: "111111111111", OrgARN: "o", OUARNs: []string{"r", "ou"}}
	perms := []image.LaunchPermission{image.Public, {Kind: image.PermUser, Value: "1"}}
	tests := []struct {
		name string
		q    image.Query
	}{
		{"IDs", image.Query{IDs: []string{"ami-1", "ami-2"}}},
		{"OwnerIDs", image.Query{OwnerIDs: []string{"1", "2"}}},
		{"OwnerAliases", image.Query{OwnerAliases: []string{"amazon"}}},
		{"OwnerIDs or OwnerAliases", image.Query{OwnerIDs: []string{"1"}, OwnerAliases: []string{"amazon"}}},
		{"VisibleTo", image.Query{VisibleTo: viewer}},
		{"VisibleTo paged", image.Query{VisibleTo: viewer, AfterID: "ami-1", Limit: 10}},
		{"GrantedAny", image.Query{GrantedAny: perms}},
		{"GrantedAny and VisibleTo", image.Query{GrantedAny: perms, VisibleTo: viewer}},
		{"Name", image.Query{Name: "web"}},
		{"NamePrefix", image.Query{NamePrefix: "web"}},
		{"OwnerIDs and VisibleTo", image.Query{OwnerIDs: []string{"1"}, VisibleTo: viewer}},
		{"NamePrefix and VisibleTo", image.Query{NamePrefix: "w", VisibleTo: viewer}},
		{"IDs and VisibleTo", image.Query{IDs: []string{"ami-1"}, VisibleTo: viewer, GrantedAny: perms}},
	}
	for _, tc := range tests {
		tc.q.Region = "r"
		query, args := findQuery(tc.q, record.ImageColumns)
		plan := queryPlan(t, s, query, args)
		for _, step := range plan {
			// "SCAN i" or "SCAN images" is a full table scan; a SEARCH of
			// the primary key by region alone is one too, in disguise.
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "CONSTANT ROW") ||
				step == "SEARCH i USING INDEX sqlite_autoindex_images_1 (region=?)" {
				t.Errorf("%s: full scan %q in plan:\n%s\n%s", tc.name, step, strings.Join(plan, "\n"), query)
			}
		}
		if testing.Verbose() {
			t.Logf("%s:\n  %s", tc.name, strings.Join(plan, "\n  "))
		}
	}
}

// TestListTagsPlan: an account's tags in a region come in primary key
// order, paged by a range on it: no scan and no sort.
func TestListTagsPlan(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	for _, q := range []resource.TagQuery{
		{Region: "r", Account: "a"},
		{Region: "r", Account: "a", AfterResourceID: "ami-1", AfterKey: "k", Limit: 100},
		{Region: "r", Account: "a", Keys: []string{"Name", "Team"}, Limit: 100},
	} {
		query, args := listTagsQuery(q)
		plan := queryPlan(t, s, query, args)
		if len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH tags USING PRIMARY KEY (region=? AND account=?") {
			t.Errorf("%+v: plan\n%s", q, strings.Join(plan, "\n"))
		}
	}
}

// TestCandidatePlansReadIndexesOnly: the candidate ids of a listing come
// from covering indexes, never from the images table itself.
func TestCandidatePlansReadIndexesOnly(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	viewer := &resource.Viewer{Account: "111111111111", OrgARN: "o", OUARNs: []string{"r", "ou"}}
	perms := []image.LaunchPermission{image.Public, {Kind: image.PermUser, Value: "1"}}
	for _, q := range []image.Query{
		{OwnerIDs: []string{"1"}, VisibleTo: viewer},
		{OwnerIDs: []string{"1", "2", "3"}, AfterID: "ami-1"},
		{VisibleTo: viewer},
		{VisibleTo: viewer, AfterID: "ami-1"},
		{GrantedAny: perms, VisibleTo: viewer},
	} {
		q.Region = "r"
		query, args, ok := candidateQuery(q)
		if !ok {
			t.Fatalf("%+v: no candidate query", q)
		}
		plan := queryPlan(t, s, query, args)
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") || strings.HasPrefix(step, "SEARCH") && !strings.Contains(step, "COVERING INDEX") {
				t.Errorf("%+v: step %q reads more than an index:\n%s", q, step, strings.Join(plan, "\n"))
			}
		}
	}
	for _, q := range []image.Query{
		{Region: "r", VisibleTo: viewer, Limit: 10},
		{Region: "r", IDs: []string{"ami-1"}},
		{Region: "r", OwnerAliases: []string{"amazon"}},
		{Region: "r", NamePrefix: "x", VisibleTo: viewer},
		{VisibleTo: viewer},
	} {
		if _, _, ok := candidateQuery(q); ok {
			t.Errorf("%+v: a candidate query, want findQuery", q)
		}
	}
}

// queryPlan returns the steps of SQLite's plan for query.
func queryPlan(t *testing.T, s *Store, query string, args []any) []string {
	t.Helper()
	rows, err := s.rdb.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return plan
}
