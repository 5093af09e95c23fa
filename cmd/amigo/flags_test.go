package main

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
)

// parseServe runs serve's flag parsing with env as the whole environment
// and builds the app's configuration without the embedded catalogue.
func parseServe(args []string, env map[string]string) (app.Config, *serveOptions, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := serveFlags(fs)
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	if err := parseFlags(fs, append([]string{"--catalog", "none"}, args...), lookup); err != nil {
		return app.Config{}, nil, err
	}
	cfg, err := o.appConfig(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return cfg, o, err
}

func TestServeFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, cfg app.Config, o *serveOptions)
	}{
		{"defaults", nil, nil, func(t *testing.T, cfg app.Config, o *serveOptions) {
			if cfg.Image.PublicImageQuota != image.DefaultPublicImageQuota || cfg.Image.PendingDelay != 0 ||
				cfg.Listen != "127.0.0.1:4566" || cfg.CacheImages != sqlite.DefaultCacheImages || o.logLevel != slog.LevelInfo {
				t.Errorf("defaults: %+v, log level %v", cfg, o.logLevel)
			}
		}},
		{"--public-image-quota 0 allows none", []string{"--public-image-quota", "0"}, nil, quota(0)},
		{"--public-image-quota=-1 is unlimited", []string{"--public-image-quota=-1"}, nil, quota(-1)},
		{"AMIGO_PUBLIC_IMAGE_QUOTA=0", nil, map[string]string{"AMIGO_PUBLIC_IMAGE_QUOTA": "0"}, quota(0)},
		{"the flag beats the variable", []string{"--public-image-quota", "7"}, map[string]string{"AMIGO_PUBLIC_IMAGE_QUOTA": "3"}, quota(7)},
		{"--image-quota defaults to EC2's", nil, nil, imageQuota(image.DefaultImageQuota)},
		{"--image-quota=-1 is unlimited", []string{"--image-quota=-1"}, nil, imageQuota(-1)},
		{"AMIGO_IMAGE_QUOTA=200", nil, map[string]string{"AMIGO_IMAGE_QUOTA": "200"}, imageQuota(200)},
		{"numbers and durations from the environment", nil, map[string]string{
			"AMIGO_PENDING_DELAY": "2s", "AMIGO_PG_MAX_CONNS": "8", "AMIGO_CACHE_IMAGES": "0", "AMIGO_LOG_LEVEL": "warn",
		}, func(t *testing.T, cfg app.Config, o *serveOptions) {
			if cfg.Image.PendingDelay != 2*time.Second || cfg.Instance.Delays.Pending != 2*time.Second || cfg.Instance.Delays.Stopping != 2*time.Second ||
				cfg.Postgres.MaxConns != 8 || cfg.CacheImages != -1 || o.logLevel != slog.LevelWarn {
				t.Errorf("got delay %v, max conns %d, cache %d, level %v", cfg.Image.PendingDelay, cfg.Postgres.MaxConns, cfg.CacheImages, o.logLevel)
			}
		}},
		{"strings from the environment", nil, map[string]string{"AMIGO_LISTEN": "127.0.0.1:0", "AMIGO_CATALOG_REGIONS": "eu-west-1, us-west-2"},
			func(t *testing.T, cfg app.Config, o *serveOptions) {
				if cfg.Listen != "127.0.0.1:0" || strings.Join(cfg.CatalogRegions, ",") != "eu-west-1,us-west-2" {
					t.Errorf("listen %q, regions %v", cfg.Listen, cfg.CatalogRegions)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, o, err := parseServe(tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg, o)
		})
	}
}

func quota(want int) func(*testing.T, app.Config, *serveOptions) {
	return func(t *testing.T, cfg app.Config, _ *serveOptions) {
		if got := cfg.Image.PublicImageQuota; got != want {
			t.Errorf("PublicImageQuota = %d, want %d", got, want)
		}
	}
}

func imageQuota(want int) func(*testing.T, app.Config, *serveOptions) {
	return func(t *testing.T, cfg app.Config, _ *serveOptions) {
		if got := cfg.Image.ImageQuota; got != want {
			t.Errorf("ImageQuota = %d, want %d", got, want)
		}
	}
}

// --image-quota takes a positive count or -1: 0 would refuse every image.
func TestImageQuotaFlagRefusesZero(t *testing.T) {
	for _, v := range []string{"0", "-2"} {
		if _, _, err := parseServe([]string{"--image-quota", v}, nil); err == nil || !strings.Contains(err.Error(), "--image-quota") {
			t.Errorf("--image-quota %s: %v", v, err)
		}
	}
}

// The pool sizes fit pgx's int32 and make a pool: a huge number would wrap.
func TestPoolFlagsBounded(t *testing.T) {
	for _, args := range [][]string{
		{"--pg-max-conns", "4294967297"},
		{"--pg-max-conns", "-1"},
		{"--pg-min-conns", "20000"},
		{"--pg-max-conns", "4", "--pg-min-conns", "5"},
	} {
		if _, _, err := parseServe(args, nil); err == nil || !strings.Contains(err.Error(), "--pg-m") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if cfg, _, err := parseServe([]string{"--pg-max-conns", "16", "--pg-min-conns", "2"}, nil); err != nil || cfg.Postgres.MaxConns != 16 || cfg.Postgres.MinConns != 2 {
		t.Errorf("16/2: %+v %v", cfg.Postgres, err)
	}
}

// A variable that does not parse stops the start, named with its flag.
func TestServeFlagsRefuseBadVariables(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"quota not a number", nil, map[string]string{"AMIGO_PUBLIC_IMAGE_QUOTA": "five"},
			[]string{`AMIGO_PUBLIC_IMAGE_QUOTA="five" (for --public-image-quota)`, "want an integer"}},
		{"quota empty", nil, map[string]string{"AMIGO_PUBLIC_IMAGE_QUOTA": ""},
			[]string{`AMIGO_PUBLIC_IMAGE_QUOTA="" (for --public-image-quota)`}},
		{"duration without a unit", nil, map[string]string{"AMIGO_PENDING_DELAY": "30"},
			[]string{`AMIGO_PENDING_DELAY="30" (for --pending-delay)`, "want a duration such as 30s"}},
		{"pool size with a space", nil, map[string]string{"AMIGO_PG_MAX_CONNS": " 4"}, []string{`AMIGO_PG_MAX_CONNS=" 4" (for --pg-max-conns)`}},
		{"pool size as a float", nil, map[string]string{"AMIGO_PG_MIN_CONNS": "1.5"}, []string{`AMIGO_PG_MIN_CONNS="1.5"`}},
		{"cache size in exponent form", nil, map[string]string{"AMIGO_CACHE_IMAGES": "1e3"}, []string{`AMIGO_CACHE_IMAGES="1e3" (for --cache-images)`}},
		{"unknown log level", nil, map[string]string{"AMIGO_LOG_LEVEL": "loud"},
			[]string{`AMIGO_LOG_LEVEL="loud" (for --log-level)`, "want debug, info, warn or error"}},
		// A bad variable is refused even when the flag would override it:
		// the deployment is wrong either way.
		{"refused although the flag is given", []string{"--pending-delay", "1s"}, map[string]string{"AMIGO_PENDING_DELAY": "soon"},
			[]string{"AMIGO_PENDING_DELAY"}},
		{"every bad variable at once", nil, map[string]string{"AMIGO_PENDING_DELAY": "x", "AMIGO_PUBLIC_IMAGE_QUOTA": "y"},
			[]string{"AMIGO_PENDING_DELAY", "AMIGO_PUBLIC_IMAGE_QUOTA"}},
		{"bad flag", []string{"--public-image-quota", "many"}, nil, []string{`invalid value "many" for flag -public-image-quota`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseServe(tt.args, tt.env)
			if err == nil {
				t.Fatal("parsed, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// Every serve flag reads a variable; its help must say which, so the
// README's table and --help agree with what parseFlags does.
func TestServeFlagsNameTheirVariable(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if v := envFor(f.Name); !strings.Contains(f.Usage, "("+v+")") {
			t.Errorf("--%s: usage %q does not name %s", f.Name, f.Usage, v)
		}
	})
}

// serve itself refuses to start on a variable that does not parse, before
// it opens anything.
func TestServeRefusesBadVariable(t *testing.T) {
	t.Setenv("AMIGO_PENDING_DELAY", "30")
	t.Setenv("AMIGO_DATA", t.TempDir())
	t.Setenv("AMIGO_LISTEN", "127.0.0.1:0")
	err := serve(nil)
	if err == nil || !strings.Contains(err.Error(), `AMIGO_PENDING_DELAY="30" (for --pending-delay)`) {
		t.Fatalf("serve = %v, want the variable named", err)
	}
}
