package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/image"
)

func TestRunAgainstFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	fl, err := StartFloor("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	mix, err := ParseMix("describe-id=1")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), RunConfig{
		Endpoint: fl.URL(), Region: "us-east-1", Principals: principals(testDirectory(t)),
		Images: []OwnedImage{{Owner: "100000000001", ID: "ami-0123456789abcdef0"}, {Owner: "100000000003", ID: "ami-0123456789abcdef1"}},
		Mix:    mix, Concurrency: 8, Warmup: 200 * time.Millisecond, Duration: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	a := rep.Actions[0]
	if rep.Total.Requests == 0 || rep.Total.Failed != 0 || len(rep.Actions) != 1 || a.Action != "describe-id" || a.OK != a.Requests {
		t.Fatalf("report: %+v", rep)
	}
	if a.P50MS <= 0 || a.P50MS > a.P99MS || a.P99MS > a.MaxMS || rep.DurationSeconds != 1 {
		t.Errorf("implausible latencies or window: %+v", rep)
	}
	t.Logf("floor: %.0f req/s, p50 %.3f ms, p99 %.3f ms", rep.Total.RPS, a.P50MS, a.P99MS)
}

// TestCommandAgainstFloor drives `bench run --json` through the flag
// parsing, against the floor, which answers a modify with a describe
// document: good enough for a 2xx.
func TestCommandAgainstFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	fl, err := StartFloor("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(ids, []byte("100000000002 ami-0123456789abcdef0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = dispatch(context.Background(), []string{"run", "--endpoint", fl.URL(), "--config", benchAccounts, "--ids", ids,
		"--mix", "describe-id=2,modify-permission=1", "--concurrency", "4", "--duration", "500ms", "--warmup", "0s", "--json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench run: %v\n%s", err, stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout.String())
	}
	if len(rep.Actions) != 2 || rep.Total.Requests == 0 || rep.Total.Failed != 0 || rep.Mix != "describe-id=2,modify-permission=1" {
		t.Errorf("report: %s", stdout.String())
	}
}

func TestCommandErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{}, "missing subcommand"},
		{[]string{"nope"}, "unknown subcommand"},
		{[]string{"run", "--config", benchAccounts, "--mix", "bogus=1"}, "unknown operation"},
		{[]string{"run", "--mix", "describe-self=1"}, "--config is required"},
		{[]string{"run", "--config", benchAccounts, "--ids", "/nonexistent/ids.txt"}, "run `amigo bench populate` first"},
		{[]string{"run", "--config", benchAccounts, "--mix", "describe-self", "--concurrency", "0"}, "--concurrency"},
		{[]string{"run", "--config", benchAccounts, "--mix", "describe-self", "--endpoint", "localhost:4566"}, "--endpoint"},
		{[]string{"populate", "--config", benchAccounts, "--images", "0"}, "--images"},
		{[]string{"floor", "extra"}, "unexpected argument"},
	} {
		err := dispatch(context.Background(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("bench %q: error %v, want one containing %q", tt.args, err, tt.want)
		}
	}
	for _, args := range [][]string{{"-h"}, {"run", "-h"}, {"populate", "--help"}, {"compare", "-h"}, {"floor", "-h"}} {
		var out bytes.Buffer
		if err := dispatch(context.Background(), args, &out, &out); err != nil || !strings.Contains(out.String(), "usage: amigo bench") {
			t.Errorf("bench %q: %v, output %q", args, err, out.String())
		}
	}
}

// TestPopulateAndRunAgainstAmigo starts a real amigo, populates it through
// the API and runs every kind of operation for a second: SigV4, the form
// bodies and the owners of the images must all be right for zero errors.
func TestPopulateAndRunAgainstAmigo(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := testDirectory(t)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Directory: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Image:  image.Options{PublicImageQuota: image.DefaultPublicImageQuota}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	endpoint := "http://" + a.Addr()

	res, err := Populate(ctx, PopulateConfig{Endpoint: endpoint, Region: "us-east-1", Directory: dir, Images: 50, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(50); err != nil || len(res.Images) != 50 || len(res.Failed) != 0 || len(res.ShareFailed) != 0 {
		t.Fatalf("populate: %v %+v", err, res)
	}
	if res.Shared != 16 || res.Public != 1 { // 15 shares (i%10 = 3, 6, 9) and image 0 public
		t.Errorf("populate shared %d (public %d), want 16 (1)", res.Shared, res.Public)
	}
	owners := map[string]int{}
	for _, im := range res.Images {
		owners[im.Owner]++
	}
	if len(owners) != 4 {
		t.Errorf("images spread over %v, want all 4 accounts", owners)
	}

	mix, err := ParseMix("describe-id=6,describe-self=1,describe-all=1,modify-description=2,modify-permission=1,describe-attribute=1,describe-snapshot-id=1")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, RunConfig{Endpoint: endpoint, Region: "us-east-1", Principals: principals(dir), Images: res.Images,
		Mix: mix, Concurrency: 8, Warmup: 100 * time.Millisecond, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
	if rep.Total.Requests == 0 || rep.Total.Failed != 0 || rep.Total.Non2xx != 0 {
		t.Fatalf("want requests and no failures:\n%s", text.String())
	}
	for _, a := range rep.Actions {
		if a.Requests == 0 {
			t.Errorf("%s: no request in a second", a.Action)
		}
	}
}
