package outbox

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// memStore is an outbox.Store that records what the deliverer does.
type memStore struct {
	mu      sync.Mutex
	due     []Message
	done    []int64
	retried map[int64]time.Time
}

func (s *memStore) Claim(_ context.Context, _ string, _ time.Time, _ time.Duration, limit int) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(limit, len(s.due))
	out := s.due[:n]
	s.due = s.due[n:]
	return out, nil
}

func (s *memStore) Done(_ context.Context, seqs []int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = append(s.done, seqs...)
	return nil
}

func (s *memStore) Retry(_ context.Context, seq int64, next time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retried == nil {
		s.retried = map[int64]time.Time{}
	}
	s.retried[seq] = next
	return nil
}

func (s *memStore) Backlog(context.Context, string) (int, error) { return 0, nil }

type counts struct {
	mu                                  sync.Mutex
	delivered, failed, gaveUp, rejected int
}

func (c *counts) Delivered()  { c.mu.Lock(); c.delivered++; c.mu.Unlock() }
func (c *counts) Failed()     { c.mu.Lock(); c.failed++; c.mu.Unlock() }
func (c *counts) GaveUp()     { c.mu.Lock(); c.gaveUp++; c.mu.Unlock() }
func (c *counts) Rejected()   { c.mu.Lock(); c.rejected++; c.mu.Unlock() }
func (c *counts) Backlog(int) {}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	d := NewDeliverer(&memStore{}, "t", "http://unused", Options{BaseBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second})
	for attempts := range 80 {
		ceiling := 10 * time.Second
		if attempts < 10 {
			ceiling = min(ceiling, 100*time.Millisecond<<attempts)
		}
		for range 50 {
			if b := d.backoff(attempts); b < ceiling/2 || b > ceiling {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempts, b, ceiling/2, ceiling)
			}
		}
	}
}

func TestRoundDeliversRetriesAndGivesUp(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	bodies := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64)
		n, _ := r.Body.Read(buf)
		mu.Lock()
		bodies[string(buf[:n])] = true
		mu.Unlock()
		if string(buf[:n]) == "refused" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	st := &memStore{due: []Message{
		{Seq: 1, ID: "a", Key: "A", Created: now, Body: []byte("ok")},
		{Seq: 2, ID: "b", Key: "B", Created: now, Body: []byte("refused"), Attempts: 3},
		{Seq: 3, ID: "c", Key: "C", Created: now.Add(-25 * time.Hour), Body: []byte("stale")},
	}}
	c := &counts{}
	d := NewDeliverer(st, "t", srv.URL, Options{Now: func() time.Time { return now }, Observer: c,
		BaseBackoff: time.Second, MaxBackoff: time.Hour})
	n, err := d.Round(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("Round = %d, %v", n, err)
	}
	if !bodies["ok"] || !bodies["refused"] || bodies["stale"] {
		t.Errorf("POSTed %v: want ok and refused, not the stale one", bodies)
	}
	if len(st.done) != 2 {
		t.Errorf("done %v, want seqs 1 and 3", st.done)
	}
	// Attempt 4 failed: backoff within [4s, 8s].
	if next, ok := st.retried[2]; !ok || next.Before(now.Add(4*time.Second)) || next.After(now.Add(8*time.Second)) {
		t.Errorf("retry of b at %v, want 4–8 s after now", next)
	}
	if c.delivered != 1 || c.failed != 1 || c.gaveUp != 1 {
		t.Errorf("observed %d delivered, %d failed, %d given up; want 1 each", c.delivered, c.failed, c.gaveUp)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		NewDeliverer(&memStore{}, "t", "http://unused", Options{Poll: time.Millisecond}).Run(ctx)
		close(done)
	}()
	cancel()
	<-done
}

func TestPermanent(t *testing.T) {
	for status, want := range map[int]bool{400: true, 401: true, 403: true, 404: true, 410: true, 413: true, 422: true, 499: true,
		408: false, 429: false, 500: false, 502: false, 503: false, 301: false, 200: false} {
		if got := Permanent(status); got != want {
			t.Errorf("Permanent(%d) = %v, want %v", status, got, want)
		}
	}
}

// A permanent refusal gives the message up at once (counted apart, and
// marked done so the key's next message goes out); 408 and 429 are
// retried like 5xx.
func TestRoundGivesUpPermanentRefusals(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 8)
		n, _ := r.Body.Read(buf)
		switch string(buf[:n]) {
		case "400":
			w.WriteHeader(http.StatusBadRequest)
		case "404":
			w.WriteHeader(http.StatusNotFound)
		case "408":
			w.WriteHeader(http.StatusRequestTimeout)
		case "429":
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	st := &memStore{due: []Message{
		{Seq: 1, ID: "a", Key: "A", Created: now, Body: []byte("400")},
		{Seq: 2, ID: "b", Key: "B", Created: now, Body: []byte("404")},
		{Seq: 3, ID: "c", Key: "C", Created: now, Body: []byte("408")},
		{Seq: 4, ID: "d", Key: "D", Created: now, Body: []byte("429")},
	}}
	c := &counts{}
	d := NewDeliverer(st, "t", srv.URL, Options{Now: func() time.Time { return now }, Observer: c})
	if n, err := d.Round(t.Context()); err != nil || n != 4 {
		t.Fatalf("Round = %d, %v", n, err)
	}
	slices.Sort(st.done)
	if fmt.Sprint(st.done) != "[1 2]" {
		t.Errorf("done %v, want the two refused for good", st.done)
	}
	if _, ok := st.retried[3]; !ok {
		t.Error("408 not retried")
	}
	if _, ok := st.retried[4]; !ok {
		t.Error("429 not retried")
	}
	if c.rejected != 2 || c.failed != 2 || c.gaveUp != 0 || c.delivered != 0 {
		t.Errorf("observed %d rejected, %d failed, %d given up, %d delivered; want 2, 2, 0, 0", c.rejected, c.failed, c.gaveUp, c.delivered)
	}
}
