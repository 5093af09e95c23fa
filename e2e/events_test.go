package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/outbox"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
)

// amiEvent is EventBridge's "EC2 AMI State Change", with the spec's names
// (around-images §7.1), written here apart from amigo's own type so the
// test checks the wire.
type amiEvent struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     struct {
		RequestID    string `json:"RequestId"`
		ImageID      string `json:"ImageId"`
		State        string `json:"State"`
		ErrorMessage string `json:"ErrorMessage"`
	} `json:"detail"`
}

// receiver is an events endpoint that keeps every event once by id and
// can go down and come back on the same address.
type receiver struct {
	t    *testing.T
	addr string

	mu     sync.Mutex
	srv    *http.Server
	posts  int
	byID   map[string]amiEvent
	order  []amiEvent          // distinct events, in order of first arrival
	states map[string][]string // image id → states, in order of first arrival
	// refuse answers the events of "image/state" with the status given,
	// once per entry of the list; tries counts those POSTs.
	refuse map[string][]int
	tries  map[string]int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, addr: freeAddr(t), byID: map[string]amiEvent{}, states: map[string][]string{},
		refuse: map[string][]int{}, tries: map[string]int{}}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/events" }

func (r *receiver) start() {
	r.t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(r.serve)}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and every connection: the receiver is down.
func (r *receiver) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	var ev amiEvent
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("receiver: %s with Content-Type %q", req.Method, req.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(req.Body).Decode(&ev); err != nil {
		r.t.Errorf("receiver: %v", err)
		http.Error(w, err.Error(), 400)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts++
	if k := ev.Detail.ImageID + "/" + ev.Detail.State; len(r.refuse[k]) > 0 {
		status := r.refuse[k][0]
		r.refuse[k] = r.refuse[k][1:]
		r.tries[k]++
		w.WriteHeader(status)
		return
	}
	if _, dup := r.byID[ev.ID]; !dup {
		r.byID[ev.ID] = ev
		r.order = append(r.order, ev)
		r.states[ev.Detail.ImageID] = append(r.states[ev.Detail.ImageID], ev.Detail.State)
	}
	w.WriteHeader(http.StatusNoContent)
}

// waitFor waits until the images of want have exactly those states, in
// that order (after de-duplication by event id), then checks it.
func (r *receiver) waitFor(want map[string][]string) {
	r.t.Helper()
	got := func() map[string][]string {
		r.mu.Lock()
		defer r.mu.Unlock()
		out := map[string][]string{}
		for id := range want {
			out[id] = append([]string(nil), r.states[id]...)
		}
		return out
	}
	deadline := time.Now().Add(60 * time.Second)
	for !cmp.Equal(want, got()) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// A moment more: an extra event (a duplicate transition under a new
	// id) would show now.
	time.Sleep(300 * time.Millisecond)
	if diff := cmp.Diff(want, got()); diff != "" {
		r.t.Fatalf("events per image (-want +got):\n%s", diff)
	}
}

// event is the first event of image reaching state.
func (r *receiver) event(image, state string) amiEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.order {
		if ev.Detail.ImageID == image && ev.Detail.State == state {
			return ev
		}
	}
	r.t.Fatalf("no %s event for %s", state, image)
	return amiEvent{}
}

// eventsEnv starts amigo on real time (events are due by the domain's
// clock) with quick polling and retries, sending to r.
func eventsEnv(t *testing.T, r *receiver) *env {
	return startEnv(t, func(c *app.Config) {
		c.Image.Now = time.Now
		c.EventsURL = r.url()
		c.Events = outbox.Options{Poll: 20 * time.Millisecond, BaseBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}
	})
}

// Every transition of spec §7.2 gives one event, in order per image, with
// the fields of §7.1; failed calls and pending give none; an image
// deregistered while pending never reports the state it did not reach.
func TestEventsEveryTransition(t *testing.T) {
	r := newReceiver(t)
	e := eventsEnv(t, r)
	c := e.client(owner)

	out, err := c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("events-a"), RootDeviceName: aws.String("/dev/xvda"),
		Architecture: "x86_64", VirtualizationType: aws.String("hvm"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture()), VolumeSize: aws.Int32(8)}}}})
	if err != nil {
		t.Fatal(err)
	}
	a := *out.ImageId
	requestID, _ := middleware.GetRequestIDMetadata(out.ResultMetadata)
	must[*ec2.DisableImageOutput](t)(c.DisableImage(ctx, &ec2.DisableImageInput{ImageId: &a}))
	must[*ec2.EnableImageOutput](t)(c.EnableImage(ctx, &ec2.EnableImageInput{ImageId: &a}))
	_, err = c.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String("ami-00000000000000fff")})
	apiErr(t, err, "InvalidAMIID.NotFound", 400) // refused: no event
	must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: &a}))

	// A copy that fails a second after it starts, and one deregistered
	// before its planned failure.
	src, quick := e.register(owner, "events-src"), e.register(owner, "events-src-2")
	doc := `rules:
  - {action: CopyImage, resource: ` + src + `, outcome: {state: failed, after: 1s, message: "Copy failed: rehearsal."}}
  - {action: CopyImage, resource: ` + quick + `, outcome: {state: failed, after: 1h}}
`
	if rr := e.faultsDo(t, http.MethodPut, doc, nil); rr.status != 200 {
		t.Fatalf("PUT faults: HTTP %d: %s", rr.status, rr.body)
	}
	copyOf := func(id, name string) string {
		return *must[*ec2.CopyImageOutput](t)(c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: &id, SourceRegion: aws.String(region), Name: aws.String(name)})).ImageId
	}
	failing, gone := copyOf(src, "events-failing"), copyOf(quick, "events-gone")
	must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: &gone}))

	r.waitFor(map[string][]string{
		a:       {"available", "disabled", "available", "deregistered"},
		src:     {"available"},
		quick:   {"available"},
		failing: {"failed"},
		gone:    {"deregistered"},
	})
	ev := r.event(a, "available")
	if ev.Version != "0" || ev.DetailType != "EC2 AMI State Change" || ev.Source != "aws.ec2" || ev.Account != owner ||
		ev.Region != region || !cmp.Equal(ev.Resources, []string{"arn:aws:ec2:" + region + "::image/" + a}) ||
		ev.Detail.RequestID != requestID || ev.Detail.ErrorMessage != "" || len(ev.ID) != 36 {
		t.Errorf("available event: %+v (request id %s)", ev, requestID)
	}
	if _, err := time.Parse(time.RFC3339, ev.Time); err != nil || strings.Contains(ev.Time, ".") {
		t.Errorf("time %q: want seconds precision, UTC", ev.Time)
	}
	if ev := r.event(failing, "failed"); ev.Detail.ErrorMessage != "Copy failed: rehearsal." {
		t.Errorf("failed event: ErrorMessage %q", ev.Detail.ErrorMessage)
	}
	// The image reads failed by the time its event is out (§7.3).
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{failing}})).Images[0]
	if img.State != ec2types.ImageStateFailed {
		t.Errorf("failing copy is %s after its event", img.State)
	}
	wantLines(t, e.scrape(t), `amigo_events_delivered_total 8`)
}

// The receiver goes down: amigo retries with backoff and delivers once it
// is back. Then amigo restarts with events undelivered, and they go out
// from the outbox.
func TestEventsSurviveReceiverAndAmigoRestarts(t *testing.T) {
	r := newReceiver(t)
	e := eventsEnv(t, r)

	r.stop()
	b := e.register(owner, "while-receiver-down")
	must[*ec2.DeregisterImageOutput](t)(e.client(owner).DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: &b}))
	// Wait for failed attempts, seen in the metrics.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		text := e.scrape(t)
		var n float64
		for _, line := range strings.Split(text, "\n") {
			fmt.Sscanf(line, "amigo_events_delivery_failures_total %g", &n)
		}
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed deliveries while the receiver is down:\n%s", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.start()
	r.waitFor(map[string][]string{b: {"available", "deregistered"}})

	// Down again; amigo restarts holding undelivered events.
	r.stop()
	cImg := e.register(owner, "across-amigo-restart")
	e.restart()
	r.start()
	r.waitFor(map[string][]string{b: {"available", "deregistered"}, cImg: {"available"}})
}

// kill -9 while events wait in the outbox (receiver down, and images still
// pending): after the restart every acknowledged image's transition
// arrives exactly once.
func TestEventsAcrossKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	dataDir := t.TempDir()
	if onPostgres() {
		dataDir = pgDatabase(t)
	}
	r := newReceiver(t)
	r.stop()
	addr := freeAddr(t)
	// The images go on an id amigo holds no record of: this test is about
	// the outbox, not snapshots.
	flags := []string{"--events-url", r.url(), "--pending-delay", "2s", "--allow-unknown-snapshots"}
	cmd := startProcess(t, dataDir, addr, flags...)
	e := &env{t: t, endpoint: "http://" + addr}

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			c := e.client(owner)
			for i := 0; i < 5; i++ {
				out, err := c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String(fmt.Sprintf("kill-%d-%d", w, i)),
					RootDeviceName: aws.String("/dev/xvda"), Architecture: "x86_64", VirtualizationType: aws.String("hvm"),
					BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
						Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snapshot), VolumeSize: aws.Int32(8)}}}})
				if err == nil {
					mu.Lock()
					acked = append(acked, *out.ImageId)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) != 40 {
		t.Fatalf("%d of 40 registrations acknowledged", len(acked))
	}

	httpClient.CloseIdleConnections()
	r.start()
	cmd = startProcess(t, dataDir, addr, flags...)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	want := map[string][]string{}
	for _, id := range acked {
		want[id] = []string{"available"}
	}
	r.waitFor(want)
}

// Two processes on one PostgreSQL database deliver each event once
// between them (FOR UPDATE SKIP LOCKED and leases), in order per image.
func TestEventsTwoProcessesDeliverOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two real processes")
	}
	if onPostgres() {
		t.Skip("runs once, in the SQLite pass") // it always uses PostgreSQL
	}
	dsn := pgtest.Start(t)
	r := newReceiver(t)
	addrA, addrB := freeAddr(t), freeAddr(t)
	procA := startProcess(t, dsn, addrA, "--events-url", r.url())
	procB := startProcess(t, dsn, addrB, "--events-url", r.url())
	defer func() {
		procA.Process.Signal(syscall.SIGTERM)
		procB.Process.Signal(syscall.SIGTERM)
		procA.Wait()
		procB.Wait()
	}()
	envs := []*env{{t: t, endpoint: "http://" + addrA}, {t: t, endpoint: "http://" + addrB}}
	want := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			e := envs[w%2]
			c := e.client(owner)
			for i := range 4 {
				id := e.register(owner, fmt.Sprintf("two-%d-%d", w, i))
				must[*ec2.DisableImageOutput](t)(c.DisableImage(ctx, &ec2.DisableImageInput{ImageId: &id}))
				must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: &id}))
				mu.Lock()
				want[id] = []string{"available", "disabled", "deregistered"}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.waitFor(want)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.posts != len(r.byID) {
		t.Errorf("%d POSTs for %d events: some were delivered twice", r.posts, len(r.byID))
	}
}
