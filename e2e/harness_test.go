// Package e2e drives amigo through its real HTTP surface with the real AWS
// SDK for Go as the client.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/resource"
	snapshotpkg "github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
)

// Accounts and keys of testdata/accounts.yaml.
const (
	owner    = "111122223333"
	member   = "222233334444" // in ou-ab12-11111111
	nested   = "333344445555" // in ou-ab12-22222222, under ou-ab12-11111111
	stranger = "444455556666"

	orgARN = "arn:aws:organizations::111122223333:organization/o-exampleorg1"
	ou1ARN = "arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-11111111"
	ou2ARN = "arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-22222222"
	region = "us-east-1"
	// snapshot is a public, completed 8 GiB snapshot of snapshotOwner in
	// every region, planted in the store by e.fixture(): for tests about
	// something other than snapshots that register images on it.
	snapshot      = "snap-0123456789abcdef0"
	snapshotOwner = "999988887777"
)

var keys = map[string][2]string{
	owner:          {"AKIAOWNER0000000000", "ownersecret"},
	member:         {"AKIAMEMBER000000000", "membersecret"},
	nested:         {"AKIANESTED000000000", "nestedsecret"},
	stranger:       {"AKIASTRANGER0000000", "strangersecret"},
	"readonly":     {"AKIAOWNERREADONLY00", "rosecret"},
	"no-modify":    {"AKIAOWNERNOMODIFY00", "nomodsecret"},
	"builder":      {"AKIAOWNERBUILDER000", "buildersecret"}, // IAM user ci-builder
	"keeper":       {"AKIAOWNERKEEPER0000", "keepersecret"},  // added by withKeeper, not in accounts.yaml
	"wrong-secret": {"AKIAOWNER0000000000", "not-the-secret"},
	"unknown-key":  {"AKIANOBODY000000000", "whatever"},
}

// env is one amigo server on a random port with its own data folder.
type env struct {
	cfg      app.Config // as last started
	t        *testing.T
	dataDir  string
	endpoint string
	cancel   context.CancelFunc
	done     chan error
	opts     image.Options
	// clock is the domain's clock (image.Options.Now).
	clock *imagetest.Clock
	// configure, when set, adjusts the app's configuration before start.
	configure func(*app.Config)
	app       *app.App
	// store is the PostgreSQL URL when the suite runs on that engine.
	store string
}

// engineEnv selects the store engine of the whole suite: "postgres" runs
// every test on a fresh PostgreSQL database, anything else on SQLite.
const engineEnv = "AMIGO_E2E_STORE"

func onPostgres() bool { return os.Getenv(engineEnv) == "postgres" }

// pgDatabases counts the PostgreSQL databases tests of this binary got.
var pgDatabases atomic.Int64

// pgDatabase is pgtest.Start, counted for the engine report below.
func pgDatabase(t *testing.T) string {
	t.Helper()
	dsn := pgtest.Start(t) // skips t when PostgreSQL is missing: not counted
	pgDatabases.Add(1)
	return dsn
}

// engineMarker starts the line a PostgreSQL pass prints when it ends, so
// TestSuiteOnPostgres can tell a suite that ran on PostgreSQL from one that
// skipped its way to PASS.
const engineMarker = "amigo-e2e: postgres databases used: "

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if onPostgres() {
		fmt.Printf("%s%d\n", engineMarker, pgDatabases.Load())
	}
	os.Exit(code)
}

// startEnv starts a server whose domain runs on deterministic ids and a
// clock that stands still at imagetest.Epoch until a test moves it
// (e.clock.Advance), so answers, timestamps included, are the same on
// every run. Signatures are still made and checked on real time: the SDK
// signs with the wall clock and the server's SigV4 check uses it, so the
// domain clock never weakens the authentication the tests exercise.
// configure may set c.Image.Now = time.Now for a test about real time
// passing.
func startEnv(t *testing.T, configure ...func(*app.Config)) *env {
	t.Helper()
	ids := &imagetest.IDs{}
	clock := imagetest.NewClock(imagetest.Epoch)
	e := &env{t: t, dataDir: t.TempDir(), clock: clock, opts: image.Options{NewID: ids.Next, Now: clock.Now, PublicImageQuota: image.DefaultPublicImageQuota}}
	if len(configure) > 0 {
		e.configure = configure[0]
	}
	if onPostgres() {
		e.store = pgDatabase(t)
	}
	e.start()
	return e
}

func (e *env) start() {
	e.t.Helper()
	dir, err := account.Load("testdata/accounts.yaml")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := app.Config{Listen: "127.0.0.1:0", DataDir: e.dataDir, Directory: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Image: e.opts, Store: e.store,
		Audit: &audit.Options{}} // on, as amigo serve's default
	if e.configure != nil {
		e.configure(&cfg)
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	e.app = a
	e.cfg = cfg
	e.endpoint = "http://" + a.Addr()
	e.cancel = cancel
	e.done = make(chan error, 1)
	go func() { e.done <- a.Serve(ctx) }()
	e.t.Cleanup(e.stop)
}

// stop shuts the server down gracefully (idempotent).
func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	if err := <-e.done; err != nil {
		e.t.Errorf("serve: %v", err)
	}
	e.cancel = nil
}

func (e *env) restart() {
	e.stop()
	e.start()
}

// client returns an SDK client signing as one of the keys above.
func (e *env) client(who string) *ec2.Client {
	return e.clientIn(who, region)
}

func (e *env) clientIn(who, rgn string) *ec2.Client {
	k, ok := keys[who]
	if !ok {
		e.t.Fatalf("no key for %q", who)
	}
	return ec2.New(ec2.Options{
		Region:       rgn,
		BaseEndpoint: aws.String(e.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(k[0], k[1], ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   httpClient,
	})
}

var httpClient = &http.Client{Transport: plainBodies{&http.Transport{MaxIdleConnsPerHost: 64}}}

// plainBodies hides io.WriterTo on request bodies. smithy-go closes a request
// body as soon as the response headers arrive; on loopback that can happen
// before net/http's writeLoop has made its last read of the body, and a
// closed WriterTo body answers that read with io.EOF, which net/http takes
// for a write error: it closes the connection under the response body the
// SDK is still decoding ("use of closed network connection"). A plain
// Read reports a clean end instead.
type plainBodies struct{ *http.Transport }

func (t plainBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.Clone(r.Context())
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return t.Transport.RoundTrip(r)
}

var ctx = context.Background()

// apiErr asserts err is an EC2 error with this code and HTTP status, and
// returns its message.
func apiErr(t *testing.T, err error, code string, status int) string {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s (%d), got success", code, status)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got non-API error %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: want HTTP %d, got %d", code, status, re.HTTPStatusCode())
	}
	return ae.ErrorMessage()
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// fixture stores the shared fixture snapshot in every region unless it is
// there, and returns its id.
func (e *env) fixture() string {
	e.t.Helper()
	err := e.app.Store().Update(ctx, func(tx image.Tx) error {
		for _, rgn := range resource.RegionNames() {
			err := tx.InsertSnapshot(ctx, &snapshotpkg.Snapshot{Region: rgn, ID: snapshot, OwnerID: snapshotOwner, VolumeSize: 8,
				State: snapshotpkg.StateCompleted, StartTime: imagetest.Epoch, CompletedAt: imagetest.Epoch, Public: true})
			if errors.Is(err, resource.ErrExists) {
				continue
			}
			if err != nil {
				return err
			}
			if err := tx.SetSnapshotPermissions(ctx, rgn, snapshot, []snapshotpkg.Permission{{Group: snapshotpkg.GroupAll}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("plant %s: %v", snapshot, err)
	}
	return snapshot
}

// register creates an EBS image owned by who on a snapshot of its own
// (newSnapshot: CreateVolume, CreateSnapshot) and returns its id. Under a pending delay a new volume is
// still creating and cannot be snapshotted, so the image goes on the
// fixture snapshot instead.
func (e *env) register(who, name string) string {
	e.t.Helper()
	if e.cfg.Image.PendingDelay > 0 {
		return e.registerOn(who, name, e.fixture())
	}
	return e.registerOn(who, name, e.newSnapshot(who))
}

// registerOn registers who's EBS image on snap.
func (e *env) registerOn(who, name, snap string) string {
	e.t.Helper()
	out, err := e.client(who).RegisterImage(ctx, &ec2.RegisterImageInput{
		Name:               aws.String(name),
		RootDeviceName:     aws.String("/dev/xvda"),
		Architecture:       "x86_64",
		VirtualizationType: aws.String("hvm"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{
			DeviceName: aws.String("/dev/xvda"),
			Ebs:        &ec2types.EbsBlockDevice{SnapshotId: aws.String(snap), VolumeSize: aws.Int32(8)},
		}},
	})
	if err != nil {
		e.t.Fatalf("register %s: %v", name, err)
	}
	return *out.ImageId
}

// visibleIDs lists the image ids DescribeImages gives who for in.
func (e *env) visibleIDs(who string, in *ec2.DescribeImagesInput) []string {
	e.t.Helper()
	out, err := e.client(who).DescribeImages(ctx, in)
	if err != nil {
		e.t.Fatalf("describe as %s: %v", who, err)
	}
	ids := []string{}
	for _, img := range out.Images {
		ids = append(ids, *img.ImageId)
	}
	return ids
}
