package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/ec2"
	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/query"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// handleFunc is the fake DescribeImages of these tests.
type handleFunc func(ctx context.Context, in *ec2api.DescribeImagesRequest) (any, error)

// testServer serves s on a loopback port with its budgets, as the app does.
type testServer struct {
	s   *Server
	ln  *limitListener
	url string
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func startServer(t *testing.T, l Limits, h handleFunc) *testServer {
	t.Helper()
	return startServerDir(t, account.Default(), l, h)
}

// twoKeys is a directory of two accounts: the default key's and otherKey's.
func twoKeys(t *testing.T) *account.Directory {
	t.Helper()
	d, err := account.Parse([]byte(`accounts:
  - id: "` + account.DefaultAccount + `"
    access_keys: [{id: ` + account.DefaultKeyID + `, secret: ` + account.DefaultSecret + `}]
  - id: "111122223333"
    access_keys: [{id: ` + otherKey + `, secret: ` + otherSecret + `}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const (
	otherKey    = "AKIAOTHERKEY0000001"
	otherSecret = "othersecret"
	// fakeAuth names the default key with a signature that cannot match.
	fakeAuth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000"
)

// signedAs is a form POST of body signed with key id (otherKey's secret).
func signedAs(t *testing.T, url, body, id string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", form)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: otherSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "ec2", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

func startServerDir(t *testing.T, dir *account.Directory, l Limits, h handleFunc) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	actions := map[string]ec2.Action{"DescribeImages": {
		New: func() any { return new(ec2api.DescribeImagesRequest) },
		Handle: func(ctx context.Context, _ resource.Caller, in any) (any, error) {
			return h(ctx, in.(*ec2api.DescribeImagesRequest))
		},
	}}
	s := New(dir, actions, slog.New(slog.NewJSONHandler(logs, nil)))
	s.SetLimits(l)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer()
	lln := LimitListener(ln, s.Limits().MaxConns, nil).(*limitListener)
	go func() { _ = hs.Serve(lln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return &testServer{s: s, ln: lln, url: "http://" + ln.Addr().String() + "/", log: logs}
}

func empty(context.Context, *ec2api.DescribeImagesRequest) (any, error) {
	return &ec2api.DescribeImagesResult{}, nil
}

// signed is a POST of body signed with the default key.
func signed(t *testing.T, url, contentType, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", contentType)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: account.DefaultKeyID, SecretAccessKey: account.DefaultSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "ec2", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

const form = "application/x-www-form-urlencoded; charset=utf-8"

// call sends r and returns the status and the EC2 error code.
func call(t *testing.T, r *http.Request) (int, string, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	code, msg := between(string(b), "<Code>", "</Code>"), between(string(b), "<Message>", "</Message>")
	return resp.StatusCode, code, msg
}

func between(s, open, close string) string {
	_, s, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	s, _, _ = strings.Cut(s, close)
	return s
}

// filters is a form with n filters of one value each: 2n parameters.
func filters(n int) string {
	var b strings.Builder
	b.WriteString("Action=DescribeImages&Version=" + APIVersion)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "&Filter.%d.Name=name&Filter.%d.Value.1=v", i, i)
	}
	return b.String()
}

func TestParameterLimitIsTheCodecs(t *testing.T) {
	ts := startServer(t, Limits{}, empty)
	// 10,004 parameters: over net/url's own cap of 10,000, under the codec's.
	if status, code, msg := call(t, signed(t, ts.url, form, filters(5001))); status != 200 {
		t.Errorf("10,004 parameters: %d %s %s, want 200", status, code, msg)
	}
	n := query.MaxParameters/2 + 1
	status, code, msg := call(t, signed(t, ts.url, form, filters(n)))
	want := query.TooManyParameters(2*n + 2)
	if status != 400 || code != want.Code || msg != want.Message {
		t.Errorf("%d parameters: %d %s %q, want 400 %s %q", 2*n+2, status, code, msg, want.Code, want.Message)
	}
}

func TestMalformedBodies(t *testing.T) {
	ts := startServer(t, Limits{MaxBodyBytes: 1 << 10}, empty)
	tests := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"truncated JSON", "application/json", `{"Action":"DescribeImages","Owners":["se`, 400, "MalformedQueryString"},
		{"JSON without Action", "application/json", `{"Owners":["self"]}`, 400, "MissingAction"},
		{"JSON", "application/json", `{"Action":"DescribeImages","Owners":["self"]}`, 200, ""},
		{"bad escape", form, "Action=DescribeImages&Version=" + APIVersion + "&Owner.1=%zz", 400, "MalformedQueryString"},
		{"semicolon", form, "Action=DescribeImages&Version=" + APIVersion + "&Owner.1=a;b", 400, "MalformedQueryString"},
		{"body over the cap", form, "Action=DescribeImages&Version=" + APIVersion + "&X=" + strings.Repeat("a", 1<<10), 400, "MalformedQueryString"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, code, msg := call(t, signed(t, ts.url, tc.contentType, tc.body))
			if status != tc.status || code != tc.code {
				t.Errorf("%d %s %q, want %d %s", status, code, msg, tc.status, tc.code)
			}
		})
	}
}

func TestShedsPastTheInFlightCap(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 8)
	ts := startServer(t, Limits{MaxInFlight: 2, MaxRunQueue: -1}, func(ctx context.Context, _ *ec2api.DescribeImagesRequest) (any, error) {
		entered <- struct{}{}
		<-release
		return &ec2api.DescribeImagesResult{}, nil
	})
	body := "Action=DescribeImages&Version=" + APIVersion
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, code, _ := call(t, signed(t, ts.url, form, body)); status != 200 {
				t.Errorf("admitted request: %d %s", status, code)
			}
		}()
		<-entered
	}
	start := time.Now()
	status, code, msg := call(t, signed(t, ts.url, form, body))
	if status != 503 || code != "Unavailable" || msg != "The server is overloaded and can&#39;t handle the request." && msg != "The server is overloaded and can't handle the request." {
		t.Errorf("past the cap: %d %s %q, want 503 Unavailable", status, code, msg)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shedding took %s: it must not queue", d)
	}
	for _, probe := range []string{"_amigo/health", "_amigo/ready"} {
		resp, err := http.Get(ts.url + probe)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s during the overload: %d, want 200 (probes bypass the cap)", probe, resp.StatusCode)
		}
	}
	close(release)
	wg.Wait()
	if n := ts.s.InFlight(); n != 0 {
		t.Errorf("%d in flight after the requests ended", n)
	}
}

func TestRequestDeadline(t *testing.T) {
	ts := startServer(t, Limits{RequestTimeout: 100 * time.Millisecond}, func(ctx context.Context, _ *ec2api.DescribeImagesRequest) (any, error) {
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("no deadline on the request's context")
		}
		<-ctx.Done()
		return nil, fmt.Errorf("store scan: %w", ctx.Err())
	})
	status, code, _ := call(t, signed(t, ts.url, form, "Action=DescribeImages&Version="+APIVersion))
	if status != 503 || code != "ServiceUnavailable" {
		t.Errorf("past the request deadline: %d %s, want 503 ServiceUnavailable", status, code)
	}
}

func TestClientGoneIsNotAnError(t *testing.T) {
	entered := make(chan struct{})
	done := make(chan struct{})
	ts := startServer(t, Limits{}, func(ctx context.Context, _ *ec2api.DescribeImagesRequest) (any, error) {
		close(entered)
		<-ctx.Done()
		defer close(done)
		return nil, ctx.Err()
	})
	r := signed(t, ts.url, form, "Action=DescribeImages&Version="+APIVersion)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	if _, err := http.DefaultClient.Do(r.WithContext(ctx)); err == nil {
		t.Fatal("the request was answered")
	}
	<-done
	time.Sleep(50 * time.Millisecond) // the access log line follows the handler
	logs := ts.log.String()
	if strings.Contains(logs, "InternalError") || strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("a client that went away was logged as an error:\n%s", logs)
	}
	if !strings.Contains(logs, `"status":499`) {
		t.Errorf("no access log line with status 499:\n%s", logs)
	}
}

// TestWriteDeadline asks for a long answer and never reads it: the server
// must give up after the write deadline, close the connection and free the
// writer slot.
func TestWriteDeadline(t *testing.T) {
	images := make([]ec2api.Image, 20000)
	desc := strings.Repeat("d", 200)
	for i := range images {
		images[i].Description = &desc
	}
	ts := startServer(t, Limits{WriteTimeout: 200 * time.Millisecond}, func(context.Context, *ec2api.DescribeImagesRequest) (any, error) {
		return &ec2api.DescribeImagesResult{Images: images}, nil
	})
	r := signed(t, ts.url, form, "Action=DescribeImages&Version="+APIVersion)
	conn, err := net.Dial("tcp", r.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	if err := r.Write(conn); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(50 * time.Millisecond)
		if ts.s.writers.n.Load() == 0 && ts.s.InFlight() == 0 && strings.Contains(ts.log.String(), "ClientTimeout") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the answer to a client that does not read is still being written after 10 s; log:\n%s", ts.log.String())
		}
	}
	// The server closed the connection (what the kernel still holds of
	// the answer is no longer amigo's).
	for ts.ln.Open() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open after the write deadline", ts.ln.Open())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReady(t *testing.T) {
	ts := startServer(t, Limits{}, empty)
	get := func(path string) int {
		t.Helper()
		resp, err := http.Get(ts.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	set := func(f func(context.Context) error) { ts.s.SetReadyCheck(f) }

	set(func(context.Context) error { return nil })
	if got := get("_amigo/ready"); got != 200 {
		t.Errorf("ready with a store that answers: %d", got)
	}
	set(func(context.Context) error { return errors.New("connection refused") })
	if got := get("_amigo/ready"); got != 503 {
		t.Errorf("ready with a store that fails: %d, want 503", got)
	}
	if got := get("_amigo/health"); got != 200 {
		t.Errorf("health (liveness) with a store that fails: %d, want 200", got)
	}
	set(func(context.Context) error { time.Sleep(3 * ReadyTimeout); return nil }) // ignores its context
	start := time.Now()
	if got := get("_amigo/ready"); got != 503 {
		t.Errorf("ready with a store that hangs: %d, want 503", got)
	}
	if d := time.Since(start); d > ReadyTimeout+time.Second {
		t.Errorf("ready took %s with a hanging store, want about %s", d, ReadyTimeout)
	}
	if got := get("_amigo/nothing"); got != 404 {
		t.Errorf("an unknown probe: %d, want 404", got)
	}
}

func TestConnectionCap(t *testing.T) {
	ts := startServer(t, Limits{MaxConns: 2}, empty)
	host := strings.TrimSuffix(strings.TrimPrefix(ts.url, "http://"), "/")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// Accepting is asynchronous: wait for both to count.
	time.Sleep(100 * time.Millisecond)
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /_amigo/health HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || !strings.Contains(string(b), "<Code>Unavailable</Code>") {
		t.Errorf("past the connection cap: %d %s, want 503 Unavailable", resp.StatusCode, b)
	}
	held[0].Close()
	time.Sleep(100 * time.Millisecond)
	resp2, err := http.Get(ts.url + "_amigo/health")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 200 {
		t.Errorf("after a connection closed: %d, want 200", resp2.StatusCode)
	}
}

func TestBodyMemoryBudget(t *testing.T) {
	ts := startServer(t, Limits{MaxBodyMemory: 40 << 10, BodyTimeout: 2 * time.Second}, empty)
	host := strings.TrimSuffix(strings.TrimPrefix(ts.url, "http://"), "/")
	// A client that promises a large body but sends little holds little:
	// many of them fit in a small budget.
	for range 8 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Signed-looking, so the body must be read (an unsigned one is
		// refused unread: TestUnsignedBodyNotRead).
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nAuthorization: %s\r\nContent-Length: 500000\r\n\r\nAction=", form, fakeAuth)
	}
	time.Sleep(100 * time.Millisecond)
	if status, code, _ := call(t, signed(t, ts.url, form, "Action=DescribeImages&Version="+APIVersion)); status != 200 {
		t.Errorf("beside slow bodies: %d %s, want 200", status, code)
	}
}

// FuzzScanParams checks the pre-authentication scan against net/url: both
// accept the same forms, and the scan finds the Action url.ParseQuery would.
func FuzzScanParams(f *testing.F) {
	for _, s := range []string{"Action=DescribeImages&Version=2016-11-15", "Action=%41ction", "a=%zz", "a;b=c", "&&", "Action", "%", "a=%2", "Version=1&Version=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p preamble
		n, err := scanForm(s, &p, "malformed")
		want, werr := url.ParseQuery(s)
		if strings.Count(s, "&") >= 10000 {
			return // net/url's own cap
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("scanForm(%q) = %v, url.ParseQuery: %v", s, err, werr)
		}
		if err != nil {
			return
		}
		m := make(url.Values)
		if err := parseForm(m, s); err != nil {
			t.Fatalf("parseForm(%q) = %v after the scan accepted it", s, err)
		}
		total := 0
		for _, vs := range m {
			total += len(vs)
		}
		if total != n {
			t.Fatalf("scanForm counted %d pairs of %q, parseForm found %d", n, s, total)
		}
		if p.action != "" && !slices.Contains(want["Action"], p.action) {
			t.Fatalf("scanForm found Action %q in %q, url.ParseQuery %q", p.action, s, want["Action"])
		}
	})
}

// A body that its signed X-Amz-Content-Sha256 does not describe is refused
// before it is parsed (its malformed escape would be MalformedQueryString)
// and before the action runs.
func TestPayloadHashCheckedBeforeParsing(t *testing.T) {
	var ran atomic.Bool
	ts := startServer(t, Limits{}, func(context.Context, *ec2api.DescribeImagesRequest) (any, error) {
		ran.Store(true)
		return &ec2api.DescribeImagesResult{}, nil
	})
	claimed := "Action=DescribeImages&Version=" + APIVersion
	r := signed(t, ts.url, form, claimed)
	sum := sha256.Sum256([]byte(claimed))
	r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	// Re-signed with the claim, then given another body.
	creds := aws.Credentials{AccessKeyID: account.DefaultKeyID, SecretAccessKey: account.DefaultSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "ec2", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	other := "Action=DescribeImages&Version=" + APIVersion + "&Owner.1=%zz"
	r.Body, r.ContentLength = io.NopCloser(strings.NewReader(other)), int64(len(other))
	status, code, _ := call(t, r)
	if status != 403 || code != "SignatureDoesNotMatch" {
		t.Errorf("a body its signed hash does not describe: %d %s, want 403 SignatureDoesNotMatch", status, code)
	}
	if ran.Load() {
		t.Error("the action ran")
	}
}
