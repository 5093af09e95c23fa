package e2e

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/faults"
	"github.com/amigo-ec2/amigo/internal/throttle"
)

// scrape returns the text of /_amigo/metrics.
func (e *env) scrape(t *testing.T) string {
	t.Helper()
	resp, err := httpClient.Get(e.endpoint + "/_amigo/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: HTTP %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// wantLines asserts every line appears in a scrape, exactly.
func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		have[l] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("metrics lack %q", l)
		}
	}
}

// A scripted workload shows up in the scrape with exact counts; labels take
// known values only.
func TestMetricsAfterWorkload(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	id := e.register(owner, "counted")
	for range 3 {
		must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}))
	}
	_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-bad"}})
	apiErr(t, err, "InvalidAMIID.Malformed", 400)
	if r := e.post(t, owner, form("Action", "NoSuchAction", "Version", "2016-11-15"), nil); r.status != 400 {
		t.Fatalf("unknown action: HTTP %d", r.status)
	}
	text := e.scrape(t)
	wantLines(t, text,
		`amigo_requests_total{action="RegisterImage",code="",status="200"} 1`,
		`amigo_requests_total{action="DescribeImages",code="",status="200"} 3`,
		`amigo_requests_total{action="DescribeImages",code="InvalidAMIID.Malformed",status="400"} 1`,
		`amigo_requests_total{action="unknown",code="InvalidAction",status="400"} 1`,
		`amigo_request_duration_seconds_count{action="DescribeImages"} 4`,
		`amigo_images{region="us-east-1"} 1`,
		`amigo_requests_in_flight 0`,
		`amigo_requests_shed_total 0`,
	)
	for _, name := range []string{"amigo_store_commits_total ", "amigo_store_commit_batch_size_count ",
		"amigo_store_commit_duration_seconds_count ", "amigo_store_fsync_duration_seconds_count ",
		"go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(text, "\n"+name) {
			t.Errorf("metrics lack %s", name)
		}
	}
	if !onPostgres() { // the read cache is SQLite's
		for _, name := range []string{"amigo_store_cache_hits_total ", "amigo_store_cache_misses_total "} {
			if !strings.Contains(text, "\n"+name) {
				t.Errorf("metrics lack %s", name)
			}
		}
	}
}

// With --throttle ec2, a burst past the bucket is refused with EC2's
// RequestLimitExceeded, and the SDK's standard retryer gets every call
// through. The bucket is small here so the test is quick; the real table
// is throttle's unit test.
func TestThrottleBurstAndRetry(t *testing.T) {
	small := throttle.Bucket{Capacity: 5, Refill: 5}
	e := startEnv(t, func(c *app.Config) {
		c.Throttle = &throttle.Options{Buckets: func(string, bool) throttle.Bucket { return small }}
	})
	id := e.register(owner, "busy")
	c := e.client(owner) // no retries: see the refusals
	limited := 0
	for range 20 {
		_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if err != nil {
			if msg := apiErr(t, err, "RequestLimitExceeded", 503); msg != "Request limit exceeded." {
				t.Fatalf("message %q", msg)
			}
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("a burst of 20 past a bucket of 5 was never refused")
	}

	// Another account's bucket is full again: the burst below is its
	// capacity plus two seconds of refill.
	k := keys[member]
	retrying := ec2.New(ec2.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(k[0], k[1], ""),
		HTTPClient:   httpClient,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.MaxBackoff = time.Second
		}),
	})
	// About the bucket's capacity plus two seconds of refill, at once.
	const calls = 15
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	start := time.Now()
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := retrying.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("with retries: %v", err)
		}
	}
	t.Logf("%d calls through a 5/5 bucket in %v", calls, time.Since(start))
	// The burst dialled connections that never carried a request; the
	// server's graceful shutdown would wait 5 s for each to speak.
	httpClient.CloseIdleConnections()
	if !strings.Contains(e.scrape(t), `amigo_requests_total{action="DescribeImages",code="RequestLimitExceeded",status="503"} `) {
		t.Error("throttled calls are not in the metrics")
	}
}

// faultsDo sends one request to /_amigo/faults.
func (e *env) faultsDo(t *testing.T, method, body string, hdr map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, e.endpoint+"/_amigo/faults", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// A fault document makes every second CopyImage fail and another copy go
// pending → failed, which the SDK's image-available waiter sees.
func TestFaultsEverySecondCopyAndFailedOutcome(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner) // no retries: every counts HTTP attempts
	src := e.register(owner, "source")
	doomed := e.register(owner, "doomed-source")
	doc := `rules:
  - action: CopyImage
    resource: ` + doomed + `
    outcome: {state: failed, after: 5s, message: "Copy failed: rehearsal."}
  - action: CopyImage
    every: 2
    error: {code: InternalError, status: 500}
`
	if r := e.faultsDo(t, http.MethodPut, doc, map[string]string{"Content-Type": "application/yaml"}); r.status != 200 {
		t.Fatalf("PUT: HTTP %d: %s", r.status, r.body)
	}
	if r := e.faultsDo(t, http.MethodGet, "", nil); r.status != 200 || !strings.Contains(r.body, `"every":2`) {
		t.Fatalf("GET: HTTP %d: %s", r.status, r.body)
	}
	copyOf := func(id, name string) (string, error) {
		out, err := c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(id), SourceRegion: aws.String(region), Name: aws.String(name)})
		if err != nil {
			return "", err
		}
		return *out.ImageId, nil
	}
	for i, name := range []string{"copy-1", "copy-2", "copy-3", "copy-4"} {
		_, err := copyOf(src, name)
		if i%2 == 0 && err != nil {
			t.Fatalf("copy %d: %v", i+1, err)
		}
		if i%2 == 1 {
			apiErr(t, err, "InternalError", 500)
		}
	}
	// The fifth CopyImage passes the every-2 rule and meets the outcome.
	cp, err := copyOf(doomed, "doomed-copy")
	if err != nil {
		t.Fatal(err)
	}
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{cp}})).Images[0]
	if img.State != ec2types.ImageStatePending {
		t.Fatalf("doomed copy is %s, want pending", img.State)
	}
	e.clock.Advance(6 * time.Second)
	fast := func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	}
	err = ec2.NewImageAvailableWaiter(c, fast).Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{cp}}, 5*time.Second)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "failure") {
		t.Fatalf("waiter: %v, want a failure", err)
	}
	img = must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{cp}})).Images[0]
	if img.State != ec2types.ImageStateFailed || img.StateReason == nil || aws.ToString(img.StateReason.Message) != "Copy failed: rehearsal." {
		t.Fatalf("doomed copy: %s %+v", img.State, img.StateReason)
	}
	wantLines(t, e.scrape(t),
		`amigo_faults_injected_total{action="CopyImage",kind="error"} 2`,
		`amigo_faults_injected_total{action="CopyImage",kind="outcome"} 1`,
		`amigo_requests_total{action="CopyImage",code="InternalError",status="500"} 2`)

	if r := e.faultsDo(t, http.MethodDelete, "", nil); r.status != 204 {
		t.Fatalf("DELETE: HTTP %d", r.status)
	}
	for i := range 3 {
		if _, err := copyOf(src, "after-"+string(rune('a'+i))); err != nil {
			t.Fatalf("after DELETE: %v", err)
		}
	}
}

// With --admin-token, /_amigo/faults wants it as a bearer token; a bad
// document is refused whole.
func TestFaultsAdminToken(t *testing.T) {
	e := startEnv(t, func(c *app.Config) { c.AdminToken = "s3cret" })
	if r := e.faultsDo(t, http.MethodGet, "", nil); r.status != 401 {
		t.Fatalf("no token: HTTP %d", r.status)
	}
	if r := e.faultsDo(t, http.MethodGet, "", map[string]string{"Authorization": "Bearer wrong"}); r.status != 401 {
		t.Fatalf("wrong token: HTTP %d", r.status)
	}
	auth := map[string]string{"Authorization": "Bearer s3cret"}
	if r := e.faultsDo(t, http.MethodPut, `{"rules":[{"action":"DescribeImages","error":{"code":"Unavailable"}}]}`, auth); r.status != 200 {
		t.Fatalf("PUT JSON: HTTP %d: %s", r.status, r.body)
	}
	_, err := e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{})
	apiErr(t, err, "Unavailable", 503)
	if r := e.faultsDo(t, http.MethodPut, `{"rules":[{"action":"DescribeImages"}]}`, auth); r.status != 400 {
		t.Fatalf("rule doing nothing: HTTP %d: %s", r.status, r.body)
	}
	// The refused document left the previous one in place.
	_, err = e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "Unavailable" {
		t.Fatalf("after a refused PUT: %v", err)
	}
	// Metrics stay open.
	e.scrape(t)
}

// Rules given at start (--faults) act from the first call; a delay rule
// slows matching calls only.
func TestFaultsDelayFromStart(t *testing.T) {
	doc, err := faults.Parse([]byte("rules:\n  - action: DescribeImages\n    region: " + region + "\n    delay: 300ms\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, func(c *app.Config) { c.Faults = doc })
	c := e.client(owner)
	start := time.Now()
	must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}))
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("delayed call took %v", d)
	}
	start = time.Now()
	must[*ec2.DescribeImagesOutput](t)(e.clientIn(owner, "eu-west-1").DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}))
	if d := time.Since(start); d >= 300*time.Millisecond {
		t.Fatalf("a call in another region took %v", d)
	}
	wantLines(t, e.scrape(t), `amigo_faults_injected_total{action="DescribeImages",kind="delay"} 1`)
}
