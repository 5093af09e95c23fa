package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/_amigo/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func TestLabelsAreBounded(t *testing.T) {
	m := New([]string{"DescribeImages"})
	m.Request("DescribeImages", "", 200, time.Millisecond)
	m.Request("DescribeImages", "InvalidAMIID.Malformed", 400, time.Millisecond)
	m.Request("Hack'); DROP", "MadeUp.Code", 400, time.Millisecond)
	m.Request("", "MissingAction", 400, time.Millisecond)
	m.Fault("SomethingElse", "error")
	text := scrape(t, m)
	for _, want := range []string{
		`amigo_requests_total{action="DescribeImages",code="",status="200"} 1`,
		`amigo_requests_total{action="DescribeImages",code="InvalidAMIID.Malformed",status="400"} 1`,
		`amigo_requests_total{action="unknown",code="unknown",status="400"} 1`,
		`amigo_requests_total{action="unknown",code="MissingAction",status="400"} 1`,
		`amigo_faults_injected_total{action="unknown",kind="error"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(text, "DROP") {
		t.Error("an unknown action became a label")
	}
}

func TestNilIsSilent(t *testing.T) {
	var m *Metrics
	m.Request("x", "", 200, 0)
	m.WatchInFlight(func() int { return 0 })
	m.Shed()
	m.Fault("x", "delay")
	m.Commit(3, time.Millisecond, time.Millisecond)
	m.WatchCache(nil)
	m.WatchImages(nil, 0)
}

type counter struct {
	calls int
	err   error
}

func (c *counter) ImagesPerRegion(context.Context) (map[string]int64, error) {
	c.calls++
	return map[string]int64{"us-east-1": int64(10 * c.calls)}, c.err
}

func TestImagesCountedAtMostOncePerMinAge(t *testing.T) {
	m := New(nil)
	c := &counter{}
	m.WatchImages(c, time.Hour)
	for range 3 {
		if !strings.Contains(scrape(t, m), `amigo_images{region="us-east-1"} 10`+"\n") {
			t.Fatal("images not exported")
		}
	}
	if c.calls != 1 {
		t.Fatalf("%d counts for three scrapes within minAge", c.calls)
	}

	m = New(nil)
	c = &counter{}
	m.WatchImages(c, 0)
	scrape(t, m)
	c.err = errors.New("store closed")
	if !strings.Contains(scrape(t, m), `amigo_images{region="us-east-1"} 10`+"\n") {
		t.Fatal("a failed count lost the last good one")
	}
}
