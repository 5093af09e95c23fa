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
	"syscall"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/bench"
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
	o := serveFlags(fs)
	applyEdge := edgeFlags(fs) // the HTTP edge's budgets, in limits.go
	if err := parseFlags(fs, args, os.LookupEnv); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: o.logLevel}))
	tuneGC()

	cfg, err := o.appConfig(log)
	if err != nil {
		return err
	}
	if err := applyEdge(&cfg); err != nil {
		return err
	}
	if o.pprofAddr != "" {
		// An opt-in listener of its own, so profiles never share the API's port.
		go func() {
			if err := http.ListenAndServe(o.pprofAddr, pprofMux()); err != nil {
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
	where := o.data
	if app.IsPostgres(o.store) {
		where = "postgres"
	}
	log.Info("amigo listening", "addr", a.Addr(), "store", where)
	return a.Serve(ctx)
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
