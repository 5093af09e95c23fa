// Package bench is amigo's load tool, `amigo bench`:
//
//	amigo bench populate  create images (and launch permissions) through the API, write their ids
//	amigo bench run       drive an endpoint with a weighted mix of signed requests, report rates and latencies
//	amigo bench floor     serve a fixed DescribeImages answer with no auth and no store: the upper bound
//	amigo bench compare   run the same mix against an in-process floor and against amigo, print the ratios
//	amigo bench queries   latency of each DescribeImages query shape, one request at a time
//	amigo bench hostile   the hostile-client suite against a loopback endpoint (hostile.go)
//
// Requests are what SDKs send: EC2 Query forms POSTed as
// application/x-www-form-urlencoded, SigV4-signed (service ec2) with the
// keys of the bootstrap file given by --config, over kept-alive
// connections. The tool only ever talks to the --endpoint it is given.
//
// A run has a warm-up, which is not measured, then the measured window. A
// request counts when it starts after the warm-up and ends inside the
// window. Latency percentiles come from a log-linear histogram (at most
// 1.6 % above the true value; the maximum is exact) of the successful
// requests. A request fails when no HTTP answer arrives, the status is not
// 2xx (the EC2 <Code> is reported), or a DescribeImages by id answers
// without the image. A run with more than 1 % failed requests exits
// non-zero.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
)

// DefaultMix is the mix of `run` and `compare` when --mix is not given.
const DefaultMix = "describe-id=6,describe-self=1,modify-description=2,modify-permission=1"

const defaultEndpoint = "http://127.0.0.1:4566"

// Main runs `amigo bench <subcommand> [flags]`; args follow "bench".
func Main(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return dispatch(ctx, args, os.Stdout, os.Stderr)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("bench: missing subcommand")
	}
	var err error
	switch args[0] {
	case "populate":
		err = populateCmd(ctx, args[1:], stdout, stderr)
	case "run":
		err = runCmd(ctx, args[1:], stdout, stderr)
	case "floor":
		err = floorCmd(ctx, args[1:], stderr)
	case "compare":
		err = compareCmd(ctx, args[1:], stdout, stderr)
	case "queries":
		err = queriesCmd(ctx, args[1:], stdout, stderr)
	case "hostile":
		err = hostileCmd(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return nil
	default:
		usage(stderr)
		return fmt.Errorf("bench: unknown subcommand %q", args[0])
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: amigo bench <subcommand> [flags]   (amigo bench <subcommand> -h for flags)

subcommands:
  populate  create --images N images over the bootstrap file's accounts, ~30 % shared; write their ids
  run       drive --endpoint with a weighted --mix of SigV4-signed requests; report req/s and latencies
  floor     serve a fixed DescribeImages answer without auth or store (the upper bound)
  compare   run the same mix against an in-process floor and against --endpoint; print amigo/floor ratios
  queries   latency of each DescribeImages query shape (by id, owners, executable users, names, tags, scans)
  hostile   attack a loopback --endpoint with each class of hostile client while a polite one is served

operations for --mix: describe-id, describe-self, describe-all, modify-description,
  modify-permission, describe-attribute, describe-snapshot-id (e.g. --mix describe-id=6,modify-description=2)
`)
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: amigo bench %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench %s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func loadDirectory(path string) (*account.Directory, error) {
	if path == "" {
		return nil, errors.New("--config is required: the bootstrap file whose keys sign the requests")
	}
	return account.Load(path)
}

// isTerminal reports whether w is a character device, where "\r" progress
// lines make sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func populateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("populate", "--endpoint URL --config FILE --images N [--concurrency 16] [--region us-east-1] [--out ids.txt]", stderr)
	endpoint := fs.String("endpoint", defaultEndpoint, "amigo endpoint")
	config := fs.String("config", "", "bootstrap file: the images are spread over its accounts that have keys")
	images := fs.Int("images", 0, "number of images to create")
	conc := fs.Int("concurrency", 16, "requests in flight")
	region := fs.String("region", "us-east-1", "region to sign for (images are regional)")
	out := fs.String("out", "ids.txt", "file to write \"owner-account image-id\" lines to")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, err := loadDirectory(*config)
	if err != nil {
		return err
	}
	res, err := Populate(ctx, PopulateConfig{Endpoint: *endpoint, Region: *region, Directory: dir,
		Images: *images, Concurrency: *conc, Progress: stderr})
	if res == nil {
		return err
	}
	if werr := writeIDsFile(*out, res.Images); werr != nil {
		return werr
	}
	printPopulate(stdout, res, *out)
	if err != nil {
		return err
	}
	return res.Err(*images)
}

func printPopulate(w io.Writer, res *PopulateResult, out string) {
	fmt.Fprintf(w, "registered %d images in %s (%.0f/s); shared %d, %d of them public",
		len(res.Images), res.Elapsed.Round(time.Millisecond), float64(len(res.Images))/max(res.Elapsed.Seconds(), 1e-9),
		res.Shared, res.Public)
	if res.PublicRefused > 0 {
		fmt.Fprintf(w, " (%d public grants refused: the quota of public images per account)", res.PublicRefused)
	}
	fmt.Fprintf(w, "; ids in %s\n", out)
	for c, n := range res.Failed {
		fmt.Fprintf(w, "  RegisterImage failed: %s × %d\n", c, n)
	}
	for c, n := range res.ShareFailed {
		fmt.Fprintf(w, "  ModifyImageAttribute failed: %s × %d\n", c, n)
	}
}

// runFlags are the flags run and compare share.
type runFlags struct {
	endpoint, config, mix, region, ids *string
	conc                               *int
	duration, warmup, backoff          *time.Duration
	json                               *bool
}

func addRunFlags(fs *flag.FlagSet) *runFlags {
	return &runFlags{
		endpoint: fs.String("endpoint", defaultEndpoint, "amigo endpoint"),
		config:   fs.String("config", "", "bootstrap file whose keys sign the requests"),
		mix:      fs.String("mix", DefaultMix, "weighted operations: describe-id, describe-self, describe-all, modify-description, modify-permission, describe-attribute, describe-snapshot-id"),
		region:   fs.String("region", "us-east-1", "region to sign for"),
		ids:      fs.String("ids", "ids.txt", "ids file written by populate (needed by the operations that name an image)"),
		conc:     fs.Int("concurrency", 64, "workers, each with one request in flight"),
		duration: fs.Duration("duration", 20*time.Second, "measured time"),
		warmup:   fs.Duration("warmup", 3*time.Second, "time before measuring starts"),
		json:     fs.Bool("json", false, "print the report as JSON"),
		backoff:  fs.Duration("backoff", 0, "after a 503 (the server shedding load), wait a random time up to this, doubling per 503 in a row up to 20×, as the SDKs' retryers do; 503s then count as shed, not failed (0: off)"),
	}
}

// config builds the run configuration; images are read from --ids when
// the mix needs them and none are given.
func (f *runFlags) runConfig(images []OwnedImage) (RunConfig, error) {
	mix, err := ParseMix(*f.mix)
	if err != nil {
		return RunConfig{}, fmt.Errorf("--mix: %w", err)
	}
	dir, err := loadDirectory(*f.config)
	if err != nil {
		return RunConfig{}, err
	}
	if images == nil && mix.needsImages() {
		if images, err = readIDsFile(*f.ids); err != nil {
			return RunConfig{}, fmt.Errorf("--ids: %w (run `amigo bench populate` first)", err)
		}
	}
	return RunConfig{Endpoint: *f.endpoint, Region: *f.region, Principals: principals(dir), Images: images,
		Mix: mix, Concurrency: *f.conc, Warmup: *f.warmup, Duration: *f.duration, Backoff: *f.backoff}, nil
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "--endpoint URL --config FILE [--mix "+DefaultMix+"] [--concurrency 64] [--duration 20s] [--warmup 3s] [--ids ids.txt] [--json] [--region us-east-1]", stderr)
	f := addRunFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := f.runConfig(nil)
	if err != nil {
		return err
	}
	if isTerminal(stderr) {
		cfg.Progress = stderr
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *f.json {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	return rep.Err()
}

func floorCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("floor", "--listen ADDR", stderr)
	listen := fs.String("listen", "127.0.0.1:4567", "address to listen on")
	if err := parse(fs, args); err != nil {
		return err
	}
	fl, err := StartFloor(*listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "floor listening on %s (Ctrl-C to stop)\n", fl.URL())
	<-ctx.Done()
	return fl.Close()
}
