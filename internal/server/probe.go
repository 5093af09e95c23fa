package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// Probes live under /_amigo/ and bypass the in-flight cap, so that a load
// balancer's checks get through an overload (the connection cap still
// applies to them).
const probePrefix = "/_amigo/"

// ReadyTimeout bounds the store query behind /_amigo/ready.
const ReadyTimeout = 2 * time.Second

// readyReuse is how long one readiness answer is reused, so that a flood
// of probes costs one store query a second.
const readyReuse = time.Second

func (s *Server) probe(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/_amigo/health":
		// Liveness: the process answers HTTP. Nothing else is checked, so a
		// slow store never gets a healthy process restarted.
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	case "/_amigo/ready":
		if err := s.ready.check(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			b, _ := json.Marshal(struct {
				Status string `json:"status"`
				Error  string `json:"error"`
			}{"unavailable", err.Error()})
			_, _ = w.Write(b)
			return
		}
		_, _ = io.WriteString(w, `{"status":"ready"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"status":"not found"}`)
	}
}

// SetReadyCheck installs the readiness check: a cheap store query that
// must answer within ReadyTimeout for /_amigo/ready to answer 200. Without
// one, ready is always 200.
func (s *Server) SetReadyCheck(f func(context.Context) error) {
	s.ready.mu.Lock()
	defer s.ready.mu.Unlock()
	s.ready.fn = f
	s.ready.at = time.Time{}
}

// readiness runs the check at most once per readyReuse and never longer
// than ReadyTimeout, even when the store ignores its context: a check that
// overruns is left to finish on its own and the answer is "not ready".
type readiness struct {
	mu      sync.Mutex
	fn      func(context.Context) error
	at      time.Time
	err     error
	running bool
}

type errNotReady string

func (e errNotReady) Error() string { return string(e) }

func (rd *readiness) check() error {
	rd.mu.Lock()
	if rd.fn == nil {
		rd.mu.Unlock()
		return nil
	}
	if time.Since(rd.at) < readyReuse || rd.running {
		err := rd.err
		if rd.running && rd.at.IsZero() {
			err = errNotReady("the store has not answered yet")
		}
		rd.mu.Unlock()
		return err
	}
	rd.running = true
	fn := rd.fn
	rd.mu.Unlock()

	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	go func() {
		defer cancel()
		done <- fn(ctx)
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(ReadyTimeout):
		err = errNotReady("the store did not answer within " + ReadyTimeout.String())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = errNotReady("the store did not answer within " + ReadyTimeout.String())
	} else if err != nil {
		err = errNotReady("the store does not answer: " + err.Error())
	}
	rd.mu.Lock()
	rd.at, rd.err = time.Now(), err
	rd.running = false
	rd.mu.Unlock()
	return err
}
