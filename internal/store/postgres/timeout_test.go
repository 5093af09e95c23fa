package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
)

// stallProxy forwards loopback connections to a PostgreSQL server. While
// stalled it holds every byte, both ways, and opens no new connection to
// the server: a frozen database or a network partition, as the store sees
// one. Resumed, it delivers what it held.
type stallProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	stalled bool
	resume  chan struct{} // closed by Resume
	conns   []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target, resume: make(chan struct{})}
	close(p.resume)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stalled {
		p.stalled, p.resume = true, make(chan struct{})
	}
}

func (p *stallProxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		p.stalled = false
		close(p.resume)
	}
}

// gate returns once the proxy is not stalled.
func (p *stallProxy) gate() {
	p.mu.Lock()
	ch := p.resume
	p.mu.Unlock()
	<-ch
}

func (p *stallProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *stallProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(client)
		go func() {
			p.gate()
			server, err := net.Dial("tcp", p.target)
			if err != nil {
				client.Close()
				return
			}
			p.track(server)
			go p.pipe(server, client)
			p.pipe(client, server)
		}()
	}
}

func (p *stallProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *stallProxy) close() {
	p.ln.Close()
	p.Resume()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// splitDSN returns the server address of a postgres:// dsn, and a function
// that gives the dsn with another address.
func splitDSN(t *testing.T, dsn string) (addr string, with func(addr string) string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Skip("the stall test needs a postgres:// DSN")
	}
	addr = u.Host
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "5432")
	}
	return addr, func(a string) string {
		v := *u
		v.Host = a
		return v.String()
	}
}

// A stalled database costs each View and Update a bounded time and an
// error carrying store.ErrUnavailable, whichever step it stalls: opening a
// connection, waiting for one, or a statement on an open one. Once the
// database answers again the store works, without being reopened.
func TestStalledDatabase(t *testing.T) {
	target, with := splitDSN(t, pgtest.Start(t))
	p := newStallProxy(t, target)
	proxied := with(p.ln.Addr().String())

	const bound = 300 * time.Millisecond
	s := openTest(t, proxied, Options{MaxConns: 1, ConnectTimeout: bound, AcquireTimeout: bound, StatementTimeout: bound})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	img := &image.Image{Region: "us-east-1", ID: "ami-0123456789abcdef0", OwnerID: "111122223333", State: image.StateAvailable}
	if err := s.Update(ctx, func(tx image.Tx) error { return tx.InsertImage(ctx, img) }); err != nil {
		t.Fatal(err)
	}
	read := func(ctx context.Context) error {
		return s.View(ctx, func(tx image.Tx) error {
			_, err := tx.Image(ctx, img.Region, img.ID)
			return err
		})
	}
	write := func(ctx context.Context) error {
		return s.Update(ctx, func(tx image.Tx) error {
			got, err := tx.Image(ctx, img.Region, img.ID)
			if err != nil {
				return err
			}
			got.Description = "changed"
			return tx.UpdateImage(ctx, got)
		})
	}
	// The limit every stalled call must answer within: its bounds (a
	// statement plus grace, or an acquire plus a connect) and slack for a
	// loaded machine.
	const limit = 3 * time.Second
	expectUnavailable := func(t *testing.T, name string, call func(context.Context) error) {
		t.Helper()
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		t.Logf("%s: %v after %v", name, err, took)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: error %v, want store.ErrUnavailable", name, err)
		}
		if took > limit {
			t.Errorf("%s took %v, want under %v", name, took, limit)
		}
	}

	// A statement inside a transaction begun before the stall.
	expectUnavailable(t, "a statement of a View", func(ctx context.Context) error {
		return s.View(ctx, func(tx image.Tx) error {
			p.Stall()
			_, err := tx.Image(ctx, img.Region, img.ID)
			return err
		})
	})
	// The statement's connection is gone: BEGIN on a new one.
	expectUnavailable(t, "View on a new connection", read)
	// That connection is gone; a new one cannot be opened.
	expectUnavailable(t, "Update needing a new connection", write)

	// With the only connection held by a stalled call, the next call
	// waits for the pool no longer than the acquire bound.
	done := make(chan error, 1)
	go func() { done <- read(ctx) }()
	time.Sleep(50 * time.Millisecond)
	expectUnavailable(t, "View waiting for the pool", read)
	if err := <-done; !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("concurrent View: %v, want store.ErrUnavailable", err)
	}

	// The caller's own cancellation is not the store's unavailability.
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if err := read(cctx); errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled View: %v, want context.Canceled alone", err)
	}

	// Opening a store cannot connect either, for no longer than
	// ConnectTimeout.
	expectUnavailable(t, "Open", func(ctx context.Context) error {
		s2, err := Open(ctx, proxied, Options{ConnectTimeout: bound})
		if err == nil {
			s2.Close()
		}
		return err
	})

	p.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := write(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var desc string
	if err := s.View(ctx, func(tx image.Tx) error {
		got, err := tx.Image(ctx, img.Region, img.ID)
		if err == nil {
			desc = got.Description
		}
		return err
	}); err != nil || desc != "changed" {
		t.Fatalf("after recovery: description %q, error %v", desc, err)
	}
}

// PostgreSQL itself cancels a statement past StatementTimeout, and the
// store says so with store.ErrUnavailable; the connection stays usable.
func TestStatementTimeoutOnTheServer(t *testing.T) {
	s := openTest(t, pgtest.Start(t), Options{MaxConns: 1, StatementTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	start := time.Now()
	err := s.View(ctx, func(itx image.Tx) error {
		t := itx.(*tx)
		_, err := t.tx.Exec(ctx, `SELECT pg_sleep(5)`)
		return t.fail(err, "sleep")
	})
	if !errors.Is(err, store.ErrUnavailable) || time.Since(start) > 3*time.Second {
		t.Fatalf("slow statement: %v after %v, want store.ErrUnavailable within 3s", err, time.Since(start))
	}
	if err := s.View(ctx, func(itx image.Tx) error {
		_, err := itx.Image(ctx, "us-east-1", "ami-0123456789abcdef0")
		if errors.Is(err, resource.ErrNotFound) {
			return nil
		}
		return err
	}); err != nil {
		t.Fatalf("after the timeout: %v", err)
	}
}

// The classification of errors the store wraps.
func TestUnavailableClassification(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"deadline", context.DeadlineExceeded, true},
		{"cancelled by the caller", context.Canceled, false},
		{"connection lost", io.ErrUnexpectedEOF, true},
		{"network", &net.OpError{Op: "read", Err: errors.New("reset")}, true},
		{"statement_timeout", &pgconn.PgError{Code: "57014"}, true},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"domain error", resource.ErrNotFound, false},
		{"plain error", errors.New("syntax"), false},
	}
	for _, tc := range cases {
		got := errors.Is(unavailable(tc.err), store.ErrUnavailable)
		if got != tc.want {
			t.Errorf("%s: unavailable = %v, want %v", tc.name, got, tc.want)
		}
	}
	if err := unavailable(unavailable(context.DeadlineExceeded)); err.Error() != store.ErrUnavailable.Error()+": "+context.DeadlineExceeded.Error() {
		t.Errorf("wrapped twice: %q", err)
	}
}
