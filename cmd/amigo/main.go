// Command amigo serves the EC2 image API.
//
//	amigo serve [--listen 127.0.0.1:4566] [--data ./amigo-data] [--config bootstrap.yaml]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/bench"
	"github.com/amigo-ec2/amigo/internal/catalog"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/store/postgres"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "bench":
		err = bench.Main(os.Args[2:])
	case "generate":
		err = generate(os.Args[2:])
	case "export":
		err = export(os.Args[2:])
	case "import":
		err = importCmd(os.Args[2:])
	case "-h", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "amigo: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "amigo:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: amigo <command> [flags]

commands:
  serve   run the EC2 image API server (amigo serve --help for flags)
  bench     load tool: populate, run, floor, compare (amigo bench --help)
  generate  fill a data folder with a large synthetic population, straight into the store
  export    write the whole state as JSON lines (backup; moving between engines)
  import    load an export into an empty store of either engine`)
}

// env returns the AMIGO_* variable for a flag, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", env("AMIGO_LISTEN", "127.0.0.1:4566"), "address to listen on (AMIGO_LISTEN)")
	data := fs.String("data", env("AMIGO_DATA", "./amigo-data"), "folder of the embedded SQLite store (AMIGO_DATA)")
	store := fs.String("store", env("AMIGO_STORE", ""), "a postgres://user@host/db URL to keep the state in PostgreSQL instead of --data; several amigo processes may share one database (AMIGO_STORE)")
	pgMax := fs.Int("pg-max-conns", envInt("AMIGO_PG_MAX_CONNS", 0), "PostgreSQL pool: most connections per process; 0 for the DSN's pool_max_conns or max(4, CPUs) (AMIGO_PG_MAX_CONNS)")
	pgMin := fs.Int("pg-min-conns", envInt("AMIGO_PG_MIN_CONNS", 0), "PostgreSQL pool: connections kept open when idle (AMIGO_PG_MIN_CONNS)")
	cacheImages := fs.Int("cache-images", envInt("AMIGO_CACHE_IMAGES", sqlite.DefaultCacheImages), "SQLite store: how many decoded images (and resources' tags) the read cache keeps, about 2 KB each; 0 for none (AMIGO_CACHE_IMAGES)")
	config := fs.String("config", env("AMIGO_CONFIG", ""), "bootstrap YAML file with accounts, keys and organizations (AMIGO_CONFIG); default: account 000000000000 with key test/test")
	logLevel := fs.String("log-level", env("AMIGO_LOG_LEVEL", "info"), "debug, info (one line per request), warn or error (AMIGO_LOG_LEVEL)")
	quota := fs.Int("public-image-quota", envInt("AMIGO_PUBLIC_IMAGE_QUOTA", 5), "public images allowed per account and region, -1 for no limit (AMIGO_PUBLIC_IMAGE_QUOTA)")
	catalogFlag := fs.String("catalog", env("AMIGO_CATALOG", ""), "public image catalogue: a YAML or JSON-lines file, or none; default: the embedded catalogue (AMIGO_CATALOG)")
	pprofAddr := fs.String("pprof", env("AMIGO_PPROF", ""), "serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060 (AMIGO_PPROF); off by default")
	pendingDelay := fs.Duration("pending-delay", envDuration("AMIGO_PENDING_DELAY", 0), "how long new images (RegisterImage, CopyImage, CreateImage) stay pending before they are available, e.g. 30s; 0 for at once (AMIGO_PENDING_DELAY)")
	catalogRegions := fs.String("catalog-regions", env("AMIGO_CATALOG_REGIONS", ""), "comma-separated regions the catalogue is loaded into (AMIGO_CATALOG_REGIONS); default: every served region")
	regions := fs.String("regions", env("AMIGO_REGIONS", ""), "comma-separated regions served; requests signed for any other are refused (AMIGO_REGIONS); default: every commercial region")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	tuneGC()

	cfg := app.Config{Listen: *listen, DataDir: *data, Logger: log, Store: *store,
		Postgres: postgres.Options{MaxConns: int32(*pgMax), MinConns: int32(*pgMin)}, CacheImages: cacheSize(*cacheImages),
		Image: image.Options{PublicImageQuota: *quota, PendingDelay: *pendingDelay}}
	switch *catalogFlag {
	case "none":
	case "":
		es, err := catalog.Default()
		if err != nil {
			return err
		}
		cfg.Catalog = es
	default:
		es, err := catalog.Load(*catalogFlag)
		if err != nil {
			return err
		}
		cfg.Catalog = es
	}
	cfg.CatalogRegions = splitList(*catalogRegions)
	cfg.Regions = splitList(*regions)
	if *config != "" {
		d, err := account.Load(*config)
		if err != nil {
			return err
		}
		cfg.Directory = d
	}
	if *pprofAddr != "" {
		// An opt-in listener of its own, so profiles never share the API's port.
		go func() {
			if err := http.ListenAndServe(*pprofAddr, pprofMux()); err != nil {
				log.Error("pprof listener", "err", err)
			}
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	where := *data
	if app.IsPostgres(*store) {
		where = "postgres"
	}
	log.Info("amigo listening", "addr", a.Addr(), "store", where)
	return a.Serve(ctx)
}

// cacheSize maps --cache-images to the store's option, where 0 means the
// default and negative means none.
func cacheSize(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// tuneGC sets the collector for a server whose read cache keeps tens of
// megabytes live while long listings allocate fast: half as many
// collections as Go's default (GOGC=200), held under a 300 MiB soft limit so
// resident memory stays within the 400 MB budget (docs/performance.md).
// GOGC and GOMEMLIMIT in the environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(300 << 20)
	}
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
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
