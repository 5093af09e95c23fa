// Package pgtest gives tests a throw-away PostgreSQL database.
//
// A test calls Start and gets the DSN of a new, empty database that is
// dropped when the test ends:
//
//	dsn := pgtest.Start(t)
//
// The databases live on one server per test binary. When AMIGO_TEST_POSTGRES
// holds a DSN, that server is used (its user must be allowed to CREATE
// DATABASE). Otherwise the first Start finds the PostgreSQL binaries on this
// machine (pg_config --bindir, /usr/lib/postgresql/*/bin, then PATH), runs
// initdb into a temporary directory and starts a server on a free loopback
// port with fsync off. Running as root, both run as the postgres OS user
// (created when missing), since PostgreSQL refuses to run as root.
//
// A package that uses Start should stop that server when its tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
// Without it the server still stops when the test binary exits (it gets a
// parent-death signal), but its temporary directory is left behind until a
// later run sweeps it.
//
// When neither a DSN nor the binaries are available, Start skips the test
// with a message containing "postgres binaries not found", which CI treats
// as a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvDSN names the environment variable holding the DSN of an existing
// server to use instead of starting one.
const EnvDSN = "AMIGO_TEST_POSTGRES"

// EnvRequire, when set (CI sets it), turns the skip for missing PostgreSQL
// binaries into a failure.
const EnvRequire = "AMIGO_REQUIRE_POSTGRES"

// ErrNoBinaries is returned by StartServer when PostgreSQL is not installed.
var ErrNoBinaries = errors.New("pgtest: postgres binaries not found (install PostgreSQL, e.g. apt-get install postgresql, or set " + EnvDSN + ")")

// startTimeout bounds initdb plus server start-up.
const startTimeout = 60 * time.Second

// shared is the server of this test binary, started on first use.
var shared struct {
	once sync.Once
	srv  *server
	err  error
}

// Start returns the DSN of a new, empty database, dropped when t ends. It
// skips t when no PostgreSQL is available and fails it when one cannot be
// started.
func Start(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			shared.srv, shared.err = external(dsn)
		} else {
			shared.srv, shared.err = startLocal()
		}
	})
	if errors.Is(shared.err, ErrNoBinaries) {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("%v (%s is set: CI must run the PostgreSQL tests)", shared.err, EnvRequire)
		}
		t.Skip(shared.err.Error())
	}
	if shared.err != nil {
		t.Fatalf("pgtest: %v", shared.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, err := shared.srv.createDatabase(ctx)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := shared.srv.dropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return withDatabase(shared.srv.dsn, name)
}

// Run runs the tests of m and then stops the server Start started, if any.
// It returns m's exit code, for TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
func Run(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	return code
}

// StartServer starts a private server, not the shared one, and returns the
// DSN of its "postgres" database (a superuser connection) and a function
// that stops it and removes its files. It returns ErrNoBinaries when
// PostgreSQL is not installed. AMIGO_TEST_POSTGRES is not consulted.
func StartServer() (dsn string, stop func() error, err error) {
	srv, err := startLocal()
	if err != nil {
		return "", nil, err
	}
	return srv.dsn, srv.stop, nil
}

// server is a PostgreSQL server tests create databases on.
type server struct {
	dsn   string        // superuser DSN of the maintenance database
	admin *pgxpool.Pool // on dsn, for CREATE and DROP DATABASE

	// Set for a server this process started.
	cmd  *exec.Cmd
	dir  string
	done chan struct{} // closed when cmd has exited
}

func external(dsn string) (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := connectAdmin(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvDSN, err)
	}
	return &server{dsn: dsn, admin: admin}, nil
}

func connectAdmin(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func (s *server) createDatabase(ctx context.Context) (string, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "amigo_test_" + hex.EncodeToString(b[:])
	// template0 is never connected to, so copying it never waits.
	if _, err := s.admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8'`); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	return name, nil
}

func (s *server) dropDatabase(ctx context.Context, name string) error {
	// FORCE ends sessions a test left open (PostgreSQL 13 and later).
	if _, err := s.admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// withDatabase returns dsn with its database replaced by name. dsn is a URL
// (postgres://…) or keyword/value string.
func withDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			u.Path = "/" + name
			return u.String()
		}
	}
	// A later keyword overrides an earlier one.
	return dsn + " dbname=" + name
}

// stop shuts a local server down and removes its directory; for an external
// server it only closes the admin pool.
func (s *server) stop() error {
	s.admin.Close()
	if s.cmd == nil {
		return nil
	}
	// SIGINT is PostgreSQL's fast shutdown: sessions are ended, nothing is
	// waited for.
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// startLocal initializes and starts a server in a new temporary directory.
func startLocal() (srv *server, err error) {
	bindir, err := findBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	sweep()
	dir, err := os.MkdirTemp(tempRoot(), "amigo-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	initdb := exec.CommandContext(ctx, filepath.Join(bindir, "initdb"),
		"-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}

	// A port taken between choosing and binding fails the start; try again
	// with another.
	var lastErr error
	for range 3 {
		srv, err := launch(ctx, bindir, dir, data, cred)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(ctx context.Context, bindir, dir, data string, cred *syscall.Credential) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	defer logFile.Close()
	// Durability is no concern here: fsync off and friends make it fast.
	// max_connections leaves room for many pools of parallel tests.
	cmd := exec.Command(filepath.Join(bindir, "postgres"),
		"-D", data,
		"-p", strconv.Itoa(port),
		"-k", dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=400",
		"-c", "shared_buffers=64MB",
		"-c", "log_min_messages=warning",
	)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Pdeathsig stops the server should this process die without stopping
	// it; Go sets it after switching credentials, so it survives that.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	srv := &server{
		dsn:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		cmd:  cmd,
		dir:  dir,
		done: done,
	}
	fail := func(err error) (*server, error) {
		_ = cmd.Process.Kill()
		<-done
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("pgtest: postgres: %w\n%s", err, log)
	}
	for {
		select {
		case <-done:
			return fail(errors.New("exited during start-up"))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(pctx, srv.dsn)
		cancel()
		if err != nil {
			continue // not accepting connections yet
		}
		_ = conn.Close(ctx)
		if srv.admin, err = connectAdmin(ctx, srv.dsn); err != nil {
			return fail(err)
		}
		return srv, nil
	}
}

// findBinaries returns the directory holding initdb and postgres.
func findBinaries() (string, error) {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	// Debian and Ubuntu install each major version side by side; prefer the
	// newest.
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return versionOf(versions[i]) > versionOf(versions[j]) })
	dirs = append(dirs, versions...)
	if p, err := exec.LookPath("postgres"); err == nil {
		if p, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if p, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(bindir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// credential returns the postgres OS user's credential when running as
// root, creating that user when missing, and nil otherwise.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		out, aerr := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres").CombinedOutput()
		if aerr != nil {
			return nil, fmt.Errorf("pgtest: running as root and no postgres user: useradd: %w\n%s", aerr, out)
		}
		if u, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: postgres gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// tempRoot is where server directories go: the system temporary directory,
// unless its path is so long that the server's Unix socket path would not
// fit in sockaddr_un (about 107 bytes).
func tempRoot() string {
	if d := os.TempDir(); len(d) < 60 {
		return d
	}
	return "/tmp"
}

// sweep removes directories left by test binaries that died without
// stopping their server: old enough, and no live postmaster in them.
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(tempRoot(), "amigo-pgtest-*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || time.Since(fi.ModTime()) < time.Hour {
			continue
		}
		if pid := postmasterPID(filepath.Join(d, "data")); pid > 0 && syscall.Kill(pid, 0) == nil {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

func postmasterPID(data string) int {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
