package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/faults"
	"github.com/amigo-ec2/amigo/internal/metrics"
)

func TestFaultsAdminAcceptsLoopbackOnly(t *testing.T) {
	s := New(account.Default(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.SetOps(Ops{Faults: faults.New()})
	tests := []struct {
		remote string
		want   int
	}{
		{"127.0.0.1:5000", http.StatusOK},
		{"[::1]:5000", http.StatusOK},
		{"[::ffff:127.0.0.1]:5000", http.StatusOK},
		{"10.1.2.3:5000", http.StatusForbidden},
		{"[2001:db8::1]:5000", http.StatusForbidden},
		{"garbage", http.StatusForbidden},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/_amigo/faults", nil)
		r.RemoteAddr = tt.remote
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s: HTTP %d, want %d", tt.remote, w.Code, tt.want)
		}
	}
}

func TestInstanceCount(t *testing.T) {
	q := func(s string) url.Values { v, _ := url.ParseQuery(s); return v }
	tests := []struct {
		action string
		params url.Values
		body   string
		want   int
	}{
		{"RunInstances", q("MinCount=1&MaxCount=7"), "", 7},
		{"RunInstances", q("MaxCount=lots"), "", 1},
		{"RunInstances", nil, `{"MaxCount":3}`, 3},
		{"StopInstances", q("InstanceId.1=i-1&InstanceId.2=i-2"), "", 2},
		{"TerminateInstances", nil, `{"InstanceIds":["i-1","i-2","i-3"]}`, 3},
		{"DescribeImages", q("ImageId.1=ami-1"), "", 0},
	}
	for _, tt := range tests {
		var body []byte
		if tt.body != "" {
			body = []byte(tt.body)
		}
		if got := instanceCount(tt.action, tt.params, body); got != tt.want {
			t.Errorf("%s %v %s: %d, want %d", tt.action, tt.params, tt.body, got, tt.want)
		}
	}
}

func TestPlainCallAndResourceIDs(t *testing.T) {
	q, _ := url.ParseQuery("InstanceId.1=i-0123456789abcdef0")
	if !plainCall(q, nil) {
		t.Error("listing ids is no filter")
	}
	q, _ = url.ParseQuery("Filter.1.Name=state&Filter.1.Value.1=running")
	if plainCall(q, nil) {
		t.Error("a filter is a filter")
	}
	q, _ = url.ParseQuery("MaxResults=5")
	if plainCall(q, nil) {
		t.Error("MaxResults is pagination")
	}
	if plainCall(nil, []byte(`{"Action":"DescribeInstances","Filters":[]}`)) || !plainCall(nil, []byte(`{"Action":"DescribeInstances"}`)) {
		t.Error("JSON bodies")
	}
	q, _ = url.ParseQuery("SourceImageId=ami-0123456789abcdef0&BlockDeviceMapping.1.Ebs.SnapshotId=snap-0123456789abcdef0&Name=ami-name")
	ids := resourceIDs(q, []byte(`{"ImageId":"ami-00000000000000001"}`))
	want := map[string]bool{"ami-0123456789abcdef0": true, "snap-0123456789abcdef0": true, "ami-00000000000000001": true}
	if len(ids) != len(want) {
		t.Fatalf("ids %v", ids)
	}
	for _, id := range ids {
		if !want[id] {
			t.Fatalf("ids %v", ids)
		}
	}
}

// The metrics see the edge's cap: the request holding the only slot is in
// flight, the one past it is shed, and the scrape itself bypasses the cap.
func TestMetricsCountInFlightAndShed(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	ts := startServer(t, Limits{MaxInFlight: 1, MaxRunQueue: -1}, func(context.Context, *ec2api.DescribeImagesRequest) (any, error) {
		entered <- struct{}{}
		<-release
		return &ec2api.DescribeImagesResult{}, nil
	})
	m := metrics.New([]string{"DescribeImages"})
	m.WatchInFlight(ts.s.InFlight)
	ts.s.SetOps(Ops{Metrics: m})
	body := "Action=DescribeImages&Version=" + APIVersion
	done := make(chan struct{})
	go func() {
		defer close(done)
		call(t, signed(t, ts.url, form, body))
	}()
	<-entered
	if status, code, _ := call(t, signed(t, ts.url, form, body)); status != 503 || code != "Unavailable" {
		t.Fatalf("past the cap: %d %s", status, code)
	}
	text := scrapeText(t, ts.url+"_amigo/metrics")
	close(release)
	<-done
	for _, want := range []string{
		"amigo_requests_in_flight 1\n",
		"amigo_requests_shed_total 1\n",
		// Shed before its parameters are scanned, labelled by the
		// action that leads its body (peekAction).
		`amigo_requests_total{action="DescribeImages",code="Unavailable",status="503"} 1` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func scrapeText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %s", resp.StatusCode, b)
	}
	return string(b)
}
