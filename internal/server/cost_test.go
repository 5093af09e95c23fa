package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/ec2api"
)

func TestPeekAction(t *testing.T) {
	for _, c := range []struct{ url, body, want string }{
		{"/?Action=DescribeImages&Version=2016-11-15", "", "DescribeImages"},
		{"/?Version=2016-11-15&Action=RegisterImage", "", "RegisterImage"},
		{"/", "Action=DescribeImages&Version=2016-11-15", "DescribeImages"},
		{"/", "Version=2016-11-15&Action=DescribeImages", ""}, // not first: not looked for
		{"/", "Action=" + strings.Repeat("A", 100), ""},
		{"/", "", ""},
	} {
		r := httptest.NewRequest("POST", c.url, nil)
		if got := peekAction(r, []byte(c.body)); got != c.want {
			t.Errorf("peekAction(%q, %q) = %q, want %q", c.url, c.body, got, c.want)
		}
	}
}

func TestCost(t *testing.T) {
	ts := startServer(t, Limits{MaxInFlight: 64}, empty)
	s := ts.s
	if !s.listing["DescribeImages"] {
		t.Fatal("DescribeImages (its input has MaxResults) is not a listing")
	}
	for _, c := range []struct {
		name   string
		action string
		h      costHints
		want   int64
	}{
		{"un-paged listing: an eighth of the cap", "DescribeImages", costHints{}, 8},
		{"a page of 1,000", "DescribeImages", costHints{maxResults: "1000"}, 8},
		{"a page of 5", "DescribeImages", costHints{maxResults: "5"}, 1},
		{"MaxResults that does not parse: un-paged", "DescribeImages", costHints{maxResults: "x"}, 8},
		{"by ids", "DescribeImages", costHints{ids: 3}, 1},
		{"many ids", "DescribeImages", costHints{ids: 1000}, 8},
		{"not a listing", "RegisterImage", costHints{}, 1},
	} {
		if got := s.cost(c.action, c.h); got != c.want {
			t.Errorf("%s: cost %d, want %d", c.name, got, c.want)
		}
	}
	s.inflight.limit.Store(16) // the adaptive cap shrank: so does the top
	if got := s.cost("DescribeImages", costHints{}); got != 2 {
		t.Errorf("un-paged listing under a cap of 16: %d, want 2", got)
	}

	var h costHints
	for _, p := range []string{"ImageId.1", "ImageId.2", "SnapshotId.10", "Owner.1", "MaxResults", "Id", "ImageId.x"} {
		h.note(p, "50")
	}
	if h.ids != 3 || h.maxResults != "50" {
		t.Errorf("hints %+v, want 3 ids and MaxResults 50", h)
	}
	if j := jsonHints([]byte(`{"Action":"DescribeImages","ImageIds":["a","b"],"MaxResults":7}`)); j.ids != 2 || j.maxResults != "7" {
		t.Errorf("JSON hints %+v", j)
	}
}

// One key's listings hold its share; its next request waits for the share
// and is shed when none comes back in time, while another key's request
// goes through; units given back admit a waiter.
func TestKeyShareByCost(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 8)
	ts := startServerDir(t, twoKeys(t), Limits{MaxInFlight: 16, MaxRunQueue: -1}, func(ctx context.Context, in *ec2api.DescribeImagesRequest) (any, error) {
		if len(in.ImageIds) == 0 {
			entered <- struct{}{}
			<-release
		}
		return &ec2api.DescribeImagesResult{}, nil
	})
	listing := "Action=DescribeImages&Version=" + APIVersion
	var wg sync.WaitGroup
	for range 4 { // 2 units each: the key's share of 8 is full
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, code, _ := call(t, signed(t, ts.url, form, listing)); status != 200 {
				t.Errorf("listing within the share: %d %s", status, code)
			}
		}()
		<-entered
	}
	if n := ts.s.InFlight(); n != 8 {
		t.Errorf("four listings hold %d units of the cap, want 8", n)
	}
	if status, code, _ := call(t, signed(t, ts.url, form, listing)); status != 503 || code != "Unavailable" {
		t.Errorf("past the key's share: %d %s, want 503 Unavailable after the wait", status, code)
	}
	byID := listing + "&ImageId.1=ami-12345678"
	if status, code, _ := call(t, signedAs(t, ts.url, byID, otherKey)); status != 200 {
		t.Errorf("another key beside a full share: %d %s", status, code)
	}
	// A waiter is admitted when a listing ends.
	var waiter sync.WaitGroup
	waiter.Add(1)
	go func() {
		defer waiter.Done()
		if status, code, _ := call(t, signed(t, ts.url, form, byID)); status != 200 {
			t.Errorf("waiter after a listing ended: %d %s", status, code)
		}
	}()
	for ts.s.keys.waiting.Load() == 0 {
		runtime.Gosched()
	}
	release <- struct{}{}
	waiter.Wait()
	close(release)
	wg.Wait()
	if n := ts.s.InFlight(); n != 0 {
		t.Errorf("%d units in flight after the requests ended", n)
	}
}

func TestKeyShareQueue(t *testing.T) {
	l := newLimiter(8, -1)
	k := &keyShare{lim: l, maxWaiters: 2}
	n, ok := k.tryAcquireN("A", 4)
	if !ok {
		t.Fatal("refused within the share")
	}
	ctx := context.Background()
	if k.waitN(ctx, n, 1, time.Millisecond) {
		t.Error("a full share admitted a waiter")
	}
	got := make(chan bool, 2)
	for range 2 {
		go func() { got <- k.waitN(ctx, n, 2, time.Minute) }()
	}
	for k.waiting.Load() < 2 {
		runtime.Gosched()
	}
	if k.waitN(ctx, n, 1, time.Minute) {
		t.Error("admitted past maxWaiters")
	}
	k.release(n, 4) // room for both: the first admitted passes the wake-up on
	for range 2 {
		if !<-got {
			t.Error("a waiter not admitted when the units came back")
		}
	}
	if n.Load() != 4 {
		t.Errorf("share holds %d, want 4", n.Load())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if k.waitN(cctx, n, 1, time.Minute) {
		t.Error("a waiter whose request ended was admitted")
	}
	if len(n.waiters) != 0 || k.waiting.Load() != 0 {
		t.Errorf("%d queued, %d waiting after all left", len(n.waiters), k.waiting.Load())
	}
}

// An unsigned request's large body is not read: the answer is EC2's
// missing-credentials one, given before the body arrives.
func TestUnsignedBodyNotRead(t *testing.T) {
	ts := startServer(t, Limits{BodyTimeout: time.Minute}, empty)
	host := strings.TrimSuffix(strings.TrimPrefix(ts.url, "http://"), "/")
	for _, head := range []string{
		"Content-Length: 1000000\r\n\r\nAction=DescribeImages",
		"Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n", 70<<10, strings.Repeat("a", 70<<10)),
	} {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // the body never comes: a hang fails, it does not wait
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n%s", form, head)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: %v", head[:20], err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), "<Code>MissingParameter</Code>") || !strings.Contains(string(b), "AWSAccessKeyId") {
			t.Errorf("%q: %d %s, want 400 MissingParameter (AWSAccessKeyId)", head[:20], resp.StatusCode, b)
		}
	}
	// A small unsigned body is read: the checks before authentication
	// keep their order (spec §4.4).
	r, _ := http.NewRequest(http.MethodPost, ts.url, strings.NewReader("Version="+APIVersion))
	r.Header.Set("Content-Type", form)
	if status, code, _ := call(t, r); status != 400 || code != "MissingAction" {
		t.Errorf("small unsigned body without Action: %d %s, want MissingAction", status, code)
	}
}
