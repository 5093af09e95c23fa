package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/catalog"
	"github.com/amigo-ec2/amigo/internal/faults"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/store/postgres"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
	"github.com/amigo-ec2/amigo/internal/throttle"
)

// serveOptions is what `amigo serve` is told by its flags and AMIGO_*
// variables.
type serveOptions struct {
	listen, data, store, config        string
	catalog, catalogRegions, pprofAddr string
	regions                            string
	throttle, faults, adminToken       string
	eventsURL                          string
	pgMax, pgMin, cacheImages          int
	pgConnect, pgAcquire, pgStatement  time.Duration
	quota, imageQuota                  int
	pendingDelay                       time.Duration
	auditOn, auditReads                bool
	auditRetention                     time.Duration
	auditMaxEvents                     int
	allowUnknownSnapshots              bool
	logLevel                           slog.Level
}

// serveFlags declares serve's flags on fs, with their defaults. Every one
// can also be set by its AMIGO_* variable (envFor), applied by parseFlags;
// each usage names that variable (TestServeFlagsNameTheirVariable).
func serveFlags(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{}
	fs.StringVar(&o.listen, "listen", "127.0.0.1:4566", "address to listen on (AMIGO_LISTEN)")
	fs.StringVar(&o.data, "data", "./amigo-data", "folder of the embedded SQLite store (AMIGO_DATA)")
	fs.StringVar(&o.store, "store", "", "a postgres://user@host/db URL to keep the state in PostgreSQL instead of --data; several amigo processes may share one database (AMIGO_STORE)")
	fs.IntVar(&o.pgMax, "pg-max-conns", 0, "PostgreSQL pool: most connections per process; 0 for the DSN's pool_max_conns or max(4, CPUs) (AMIGO_PG_MAX_CONNS)")
	fs.IntVar(&o.pgMin, "pg-min-conns", 0, "PostgreSQL pool: connections kept open when idle (AMIGO_PG_MIN_CONNS)")
	fs.DurationVar(&o.pgConnect, "pg-connect-timeout", postgres.DefaultConnectTimeout, "PostgreSQL: longest wait for a new connection; 0 for none (AMIGO_PG_CONNECT_TIMEOUT)")
	fs.DurationVar(&o.pgAcquire, "pg-acquire-timeout", postgres.DefaultAcquireTimeout, "PostgreSQL: longest wait for a pooled connection; past it a request answers ServiceUnavailable 503; 0 for none (AMIGO_PG_ACQUIRE_TIMEOUT)")
	fs.DurationVar(&o.pgStatement, "pg-statement-timeout", postgres.DefaultStatementTimeout, "PostgreSQL: longest run of one statement (statement_timeout, and a client-side deadline); 0 for none (AMIGO_PG_STATEMENT_TIMEOUT)")
	fs.IntVar(&o.cacheImages, "cache-images", sqlite.DefaultCacheImages, "how many decoded images (and resources' tags) the store's read cache keeps, about 2 KB each; 0 for none; on PostgreSQL per process, kept exact across processes by LISTEN/NOTIFY (AMIGO_CACHE_IMAGES)")
	fs.StringVar(&o.config, "config", "", "bootstrap YAML file with accounts, keys and organizations (AMIGO_CONFIG); default: account 000000000000 with key test/test")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info (one line per request), warn or error (AMIGO_LOG_LEVEL)")
	fs.IntVar(&o.quota, "public-image-quota", image.DefaultPublicImageQuota, "public images allowed per account and region: 0 for none, -1 for no limit (AMIGO_PUBLIC_IMAGE_QUOTA)")
	fs.IntVar(&o.imageQuota, "image-quota", image.DefaultImageQuota, "images allowed per account and region, deregistered ones aside, as EC2's AMIs quota; -1 for no limit (AMIGO_IMAGE_QUOTA)")
	fs.StringVar(&o.catalog, "catalog", "", "public image catalogue: a YAML or JSON-lines file, or none; default: the embedded catalogue (AMIGO_CATALOG)")
	fs.StringVar(&o.pprofAddr, "pprof", "", "serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060 (AMIGO_PPROF); off by default")
	fs.DurationVar(&o.pendingDelay, "pending-delay", 0, "how long new images (RegisterImage, CopyImage, CreateImage), volumes and snapshots stay pending (creating) before they are available (completed), and instances pending (launch, start) and stopping, e.g. 30s; 0 for at once (AMIGO_PENDING_DELAY)")
	fs.BoolVar(&o.allowUnknownSnapshots, "allow-unknown-snapshots", false, "compatible mode for test suites written against looser emulators: RegisterImage accepts a well-formed snapshot id amigo has no record of as an external reference instead of answering InvalidSnapshot.NotFound (AMIGO_ALLOW_UNKNOWN_SNAPSHOTS)")
	fs.StringVar(&o.catalogRegions, "catalog-regions", "", "comma-separated regions the catalogue is loaded into (AMIGO_CATALOG_REGIONS); default: every served region")
	fs.StringVar(&o.regions, "regions", "", "comma-separated regions served; requests signed for any other are refused (AMIGO_REGIONS); default: every commercial region")
	fs.StringVar(&o.throttle, "throttle", "off", "request throttling: off, or ec2 for EC2's token buckets per account, region and action; per process (AMIGO_THROTTLE)")
	fs.StringVar(&o.faults, "faults", "", "YAML file of fault injection rules, {rules: [...]}; /_amigo/faults replaces them at run time (AMIGO_FAULTS)")
	fs.StringVar(&o.adminToken, "admin-token", "", "bearer token the admin endpoints (/_amigo/faults) require; unset, they answer loopback clients only (AMIGO_ADMIN_TOKEN)")
	fs.BoolVar(&o.auditOn, "audit", true, "keep the CloudTrail audit trail that LookupEvents reads; false records nothing (AMIGO_AUDIT)")
	fs.BoolVar(&o.auditReads, "audit-reads", false, "record read-only calls (Describe*, Get*) in the audit trail too, through the asynchronous queue (AMIGO_AUDIT_READS)")
	fs.DurationVar(&o.auditRetention, "audit-retention", audit.DefaultRetention, "how long audit events are kept, as CloudTrail's 90-day event history (AMIGO_AUDIT_RETENTION)")
	fs.IntVar(&o.auditMaxEvents, "audit-max-events", audit.DefaultMaxEvents, "most audit events kept per account; the oldest beyond it are pruned (AMIGO_AUDIT_MAX_EVENTS)")
	fs.StringVar(&o.eventsURL, "events-url", "", "POST every AMI state change event (EventBridge's \"EC2 AMI State Change\": available, failed, deregistered, disabled) as JSON to this http(s) URL, at least once and in order per image, from a durable outbox (AMIGO_EVENTS_URL); off by default")
	return o
}

// envFor is the variable that stands for a flag: --pg-max-conns is
// AMIGO_PG_MAX_CONNS.
func envFor(flagName string) string {
	return "AMIGO_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags sets every flag of fs whose variable lookup finds, then parses
// args, so a flag beats its variable and both beat the default. A variable
// that does not parse is refused, not ignored: a typo in a deployment must
// not quietly run with the default. Every such variable is reported at once.
func parseFlags(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envFor(f.Name)
		v, ok := lookup(name)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q (for --%s): %v; want %s", name, v, f.Name, err, expected(f)))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return fs.Parse(args)
}

// expected says what a flag's value looks like, for error messages.
func expected(f *flag.Flag) string {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case int, int64, uint, uint64:
			return "an integer"
		case time.Duration:
			return "a duration such as 30s or 2m"
		case float64:
			return "a number"
		case bool:
			return "true or false"
		case *slog.Level: // TextVar gets the pointer
			return "debug, info, warn or error"
		}
	}
	return "a valid value"
}

// maxPoolConns bounds the PostgreSQL pool flags; PostgreSQL's own
// max_connections is far below it on any real server.
const maxPoolConns = 10000

// appConfig turns the options into the app's configuration, loading the
// catalogue and the bootstrap file they name.
func (o *serveOptions) appConfig(log *slog.Logger) (app.Config, error) {
	cfg := app.Config{Listen: o.listen, DataDir: o.data, Logger: log, Store: o.store,
		Postgres: postgres.Options{MaxConns: int32(o.pgMax), MinConns: int32(o.pgMin),
			ConnectTimeout: o.pgConnect, AcquireTimeout: o.pgAcquire, StatementTimeout: o.pgStatement,
			CacheImages: cacheSize(o.cacheImages)},
		CacheImages: cacheSize(o.cacheImages),
		Image: image.Options{PublicImageQuota: o.quota, ImageQuota: o.imageQuota, PendingDelay: o.pendingDelay,
			AllowUnknownSnapshots: o.allowUnknownSnapshots},
		Instance: instance.Options{Delays: instance.Delays{Pending: o.pendingDelay, Stopping: o.pendingDelay}}}
	for _, p := range []struct {
		flag string
		n    int
	}{{"pg-max-conns", o.pgMax}, {"pg-min-conns", o.pgMin}} {
		// pgx takes int32: a larger number would wrap into a negative pool.
		if p.n < 0 || p.n > maxPoolConns {
			return app.Config{}, fmt.Errorf("--%s %d: want 0 to %d connections", p.flag, p.n, maxPoolConns)
		}
	}
	if o.pgMin > o.pgMax && o.pgMax != 0 {
		return app.Config{}, fmt.Errorf("--pg-min-conns %d is more than --pg-max-conns %d", o.pgMin, o.pgMax)
	}
	if o.imageQuota == 0 || o.imageQuota < -1 {
		// The image options read 0 as "EC2's default"; a quota refusing
		// every image is no deployment anyone means.
		return app.Config{}, fmt.Errorf("--image-quota %d: want a positive number of images, or -1 for no limit", o.imageQuota)
	}
	switch o.catalog {
	case "none":
	case "":
		es, err := catalog.Default()
		if err != nil {
			return app.Config{}, err
		}
		cfg.Catalog = es
	default:
		es, err := catalog.Load(o.catalog)
		if err != nil {
			return app.Config{}, err
		}
		cfg.Catalog = es
	}
	switch o.throttle {
	case "off", "":
	case "ec2":
		cfg.Throttle = &throttle.Options{}
	default:
		return app.Config{}, fmt.Errorf("--throttle: want off or ec2, got %q", o.throttle)
	}
	if o.faults != "" {
		data, err := os.ReadFile(o.faults)
		if err != nil {
			return app.Config{}, fmt.Errorf("--faults: %w", err)
		}
		if cfg.Faults, err = faults.Parse(data); err != nil {
			return app.Config{}, fmt.Errorf("--faults %s: %w", o.faults, err)
		}
	}
	cfg.AdminToken = o.adminToken
	if o.auditOn {
		if o.auditRetention <= 0 || o.auditMaxEvents <= 0 {
			return app.Config{}, fmt.Errorf("--audit-retention and --audit-max-events must be positive (turn the trail off with --audit=false)")
		}
		cfg.Audit = &audit.Options{Reads: o.auditReads, Retention: o.auditRetention, MaxEvents: o.auditMaxEvents}
	}
	if o.eventsURL != "" {
		u, err := url.Parse(o.eventsURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return app.Config{}, fmt.Errorf("--events-url: want an http:// or https:// URL, got %q", o.eventsURL)
		}
		cfg.EventsURL = o.eventsURL
	}
	cfg.CatalogRegions = splitList(o.catalogRegions)
	cfg.Regions = splitList(o.regions)
	if o.config != "" {
		d, err := account.Load(o.config)
		if err != nil {
			return app.Config{}, err
		}
		cfg.Directory = d
	}
	return cfg, nil
}

// cacheSize maps --cache-images to the store's option, where 0 means the
// default and negative means none.
func cacheSize(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// splitList reads a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
