// Package app wires amigo together: directory, store, service, server. The
// command and the end-to-end tests build the same thing through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/catalog"
	"github.com/amigo-ec2/amigo/internal/ec2"
	"github.com/amigo-ec2/amigo/internal/faults"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/metrics"
	"github.com/amigo-ec2/amigo/internal/outbox"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/server"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/store/postgres"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
	"github.com/amigo-ec2/amigo/internal/throttle"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// Config is everything `amigo serve` can be told.
type Config struct {
	Listen string
	// DataDir holds the SQLite file, used unless Store names PostgreSQL.
	DataDir string
	// Store, when a postgres:// (or postgresql://) URL, puts the state in
	// that PostgreSQL database instead; several amigo processes may share it.
	Store string
	// Postgres tunes the PostgreSQL connection pool.
	Postgres postgres.Options
	// CacheImages bounds the SQLite store's read cache (images, and as many
	// resources' tags); 0 for the default, negative for none.
	CacheImages int
	// Directory is the accounts bootstrap; nil means account.Default().
	Directory *account.Directory
	Logger    *slog.Logger
	Image     image.Options
	// Instance tunes the instance service; its clock and ids default to
	// Image's, so one injection serves both.
	Instance instance.Options
	// Catalog is loaded as public images into CatalogRegions at start-up
	// (nil: nothing); every served Region when CatalogRegions is empty.
	Catalog        []catalog.Entry
	CatalogRegions []string
	// Limits are the HTTP edge's budgets; zero fields take their defaults.
	Limits server.Limits
	// ShutdownTimeout bounds the drain on SIGTERM: in-flight requests get
	// this long to finish, then the remaining connections are closed.
	ShutdownTimeout time.Duration
	// Regions are the Regions served (requests signed for any other are
	// refused); empty serves every commercial Region.
	Regions []string
	// Throttle, when set, applies EC2's request throttling (--throttle
	// ec2); its zero value has EC2's buckets.
	Throttle *throttle.Options
	// Faults are the fault rules served from the start (--faults FILE);
	// /_amigo/faults replaces them at run time.
	Faults faults.Document
	// AdminToken is the bearer token admin endpoints require; empty, they
	// answer loopback clients alone.
	AdminToken string
	// Audit, when set, keeps the CloudTrail audit trail (--audit); its
	// clock defaults to Image's.
	Audit *audit.Options
	// EventsURL, when set, receives every AMI state change event as a POST
	// (--events-url); Events tunes the deliverer (zero: its defaults).
	EventsURL string
	Events    outbox.Options
}

// DefaultShutdownTimeout is Config.ShutdownTimeout's default.
const DefaultShutdownTimeout = 10 * time.Second

// App is a running amigo.
type App struct {
	Service   *image.Service
	Instances *instance.Service
	Server    *server.Server
	store     instance.Store
	http      *http.Server
	ln        net.Listener
	log       *slog.Logger
	drain     time.Duration
	audit     *audit.Recorder   // nil without the trail
	events    *outbox.Deliverer // nil without EventsURL
}

// New opens the store and builds the server; it does not listen yet.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Directory == nil {
		cfg.Directory = account.Default()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	actions := ec2.Actions(ec2.Services{})
	names := []string{"GetCallerIdentity", "DecodeAuthorizationMessage", "LookupEvents"} // STS's and CloudTrail's, on the same endpoint
	for name := range actions {
		names = append(names, name)
	}
	m := metrics.New(names)
	opts := sqlite.DefaultOptions()
	opts.CacheImages = cfg.CacheImages // 0 keeps sqlite's default
	opts.Observer = m
	cfg.Postgres.Observer = m
	st, err := openStore(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if c, ok := st.(metrics.CacheStats); ok {
		m.WatchCache(c)
	}
	if c, ok := st.(metrics.ImageCounter); ok {
		m.WatchImages(c, 10*time.Second)
	}
	id, err := identity(ctx, st, cfg.Regions)
	if err != nil {
		st.Close()
		return nil, err
	}
	if len(cfg.Catalog) > 0 {
		regions := cfg.CatalogRegions
		if len(regions) == 0 {
			regions = id.Regions.Names()
		}
		for _, r := range regions {
			if !id.Regions.Serves(r) {
				st.Close()
				return nil, fmt.Errorf("--catalog-regions: %q is not a served Region (see --regions)", r)
			}
		}
		if err := catalog.Install(ctx, st, regions, cfg.Catalog); err != nil {
			st.Close()
			return nil, err
		}
	}
	// Events are written only when something delivers them.
	cfg.Image.Events = cfg.Image.Events || cfg.EventsURL != ""
	svc, err := image.NewService(ctx, st, cfg.Image)
	if err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Instance.Now == nil {
		cfg.Instance.Now = cfg.Image.Now
	}
	if cfg.Instance.NewID == nil {
		cfg.Instance.NewID = cfg.Image.NewID
	}
	// Volumes and snapshots share the images' clock, ids, pending delay
	// and token key.
	vols := volume.NewService(st, svc.Pages(), volume.Options{Now: cfg.Instance.Now, NewID: cfg.Instance.NewID, PendingDelay: cfg.Image.PendingDelay})
	snaps := snapshot.NewService(st, vols, svc.Pages(), snapshot.Options{Now: cfg.Instance.Now, NewID: cfg.Instance.NewID, PendingDelay: cfg.Image.PendingDelay})
	cfg.Instance.Snapshots, cfg.Instance.Volumes = snaps, vols
	insts := instance.NewService(st, svc, cfg.Instance)
	srv := server.New(cfg.Directory, ec2.Actions(ec2.Services{Images: svc, Instances: insts, Snapshots: snaps, Volumes: vols, Regions: id.Regions}), cfg.Logger)
	srv.SetIdentity(id)
	srv.SetLimits(cfg.Limits)
	srv.SetReadyCheck(readyCheck(st))
	ops := server.Ops{Metrics: m, Faults: faults.New(), AdminToken: cfg.AdminToken}
	ops.Faults.Set(cfg.Faults)
	if cfg.Throttle != nil {
		ops.Throttle = throttle.New(*cfg.Throttle)
	}
	m.WatchInFlight(srv.InFlight)
	var rec *audit.Recorder
	if cfg.Audit != nil {
		ast, ok := st.(audit.Store)
		if !ok {
			st.Close()
			return nil, errors.New("the store engine keeps no audit trail")
		}
		o := *cfg.Audit
		if o.Now == nil {
			o.Now = cfg.Image.Now
		}
		o.Log = cfg.Logger
		rec = audit.New(ast, o)
		ops.Trail = server.Trail{Recorder: rec, Pages: svc.Pages()}
		m.WatchAuditDrops(rec.Dropped)
	}
	m.WatchInFlightLimit(srv.InFlightLimit)
	srv.SetOps(ops)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		st.Close()
		return nil, err
	}
	drain := cfg.ShutdownTimeout
	if drain <= 0 {
		drain = DefaultShutdownTimeout
	}
	a := &App{Service: svc, Instances: insts, Server: srv, store: st, log: cfg.Logger, drain: drain, audit: rec,
		ln: server.LimitListener(ln, srv.Limits().MaxConns, m.ConnRefused), http: srv.HTTPServer()}
	if cfg.EventsURL != "" {
		eo := cfg.Events
		eo.Observer = m.Events()
		if eo.Log == nil {
			eo.Log = cfg.Logger
		}
		if eo.Now == nil {
			// The domain's clock: a timed event is due when its image
			// settles by that clock.
			eo.Now = cfg.Image.Now
		}
		// Both engines keep the outbox (outbox.Store).
		a.events = outbox.NewDeliverer(st.(outbox.Store), image.TopicStateChange, cfg.EventsURL, eo)
	}
	return a, nil
}

// readyCheck is /_amigo/ready's cheap store query: one image looked up by
// an id no image has, which reaches the engine (SQLite's file, PostgreSQL's
// connection) without the read cache answering for it.
func readyCheck(st image.Store) func(context.Context) error {
	return func(ctx context.Context) error {
		return st.View(ctx, func(tx image.Tx) error {
			_, err := tx.Image(ctx, "us-east-1", "ami-00000000000000000")
			if errors.Is(err, resource.ErrNotFound) {
				return nil
			}
			return err
		})
	}
}

// OpenStore opens the store cfg names: PostgreSQL for a postgres:// URL in
// cfg.Store, otherwise the SQLite file in cfg.DataDir.
func OpenStore(ctx context.Context, cfg Config) (instance.Store, error) {
	opts := sqlite.DefaultOptions()
	opts.CacheImages = cfg.CacheImages // 0 keeps sqlite's default
	return openStore(ctx, cfg, opts)
}

// OpenStoreToRead is OpenStore for reading alone (export): a SQLite file
// that a running server owns can be read alongside it.
func OpenStoreToRead(ctx context.Context, cfg Config) (instance.Store, error) {
	opts := sqlite.DefaultOptions()
	opts.ReadOnly = true
	return openStore(ctx, cfg, opts)
}

func openStore(ctx context.Context, cfg Config, opts sqlite.Options) (instance.Store, error) {
	if IsPostgres(cfg.Store) {
		st, err := postgres.Open(ctx, cfg.Store, cfg.Postgres)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	if cfg.Store != "" {
		return nil, fmt.Errorf("--store: want a postgres:// URL, got %q (the SQLite store lives in --data)", cfg.Store)
	}
	if !opts.ReadOnly { // reading creates nothing, so a read-only mount can be exported
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, err
		}
	}
	st, err := sqlite.Open(filepath.Join(cfg.DataDir, "amigo.db"), opts)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// IsPostgres reports whether a --store value names PostgreSQL.
func IsPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// FlushAudit waits until the audit events queued so far are written (tests).
func (a *App) FlushAudit() {
	if a.audit != nil {
		a.audit.Flush()
	}
}

// Store is the app's store (tests fill it directly).
func (a *App) Store() instance.Store { return a.store }

// Addr is the address the app listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Serve answers requests until ctx ends, then finishes in-flight requests
// for at most the shutdown timeout, closes the connections still open (slow
// clients do not hold the exit) and closes the store.
func (a *App) Serve(ctx context.Context) error {
	stopAudit := func() {}
	if a.audit != nil {
		actx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.audit.Run(actx); close(done) }()
		// After the drain, before the store closes: queued events are
		// written.
		stopAudit = func() { cancel(); <-done }
	}
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.ln) }()
	// The deliverer stops before the store closes; what it has not
	// delivered waits in the outbox for the next start.
	ectx, stopEvents := context.WithCancel(context.WithoutCancel(ctx))
	eventsDone := make(chan struct{})
	go func() {
		defer close(eventsDone)
		if a.events != nil {
			a.events.Run(ectx)
		}
	}()
	var serveErr error
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	case <-ctx.Done():
		a.log.Info("shutting down: finishing in-flight requests", "drain", a.drain.String())
		sctx, cancel := context.WithTimeout(context.Background(), a.drain)
		defer cancel()
		if err := a.http.Shutdown(sctx); err != nil {
			a.log.Warn("shutdown: drain time over, closing the remaining connections", "err", err)
			_ = a.http.Close()
		}
		<-errc
	}
	stopAudit()
	stopEvents()
	<-eventsDone
	if err := a.store.Close(); err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}
