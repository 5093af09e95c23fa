package e2e

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/bench"
	"github.com/amigo-ec2/amigo/internal/server"
)

// Bounds of the short hostile suite: the server here shares the test's
// process, so memory is the Go heap in use, attackers' buffers included.
const (
	hostileHeapBound = 256 << 20
	hostileP99Bound  = 2 * time.Second // a loaded two-core CI machine
)

// tightLimits are small budgets, so each attack class reaches them within
// a fraction of a second.
var tightLimits = server.Limits{
	MaxHeaderBytes: 64 << 10, MaxBodyBytes: 256 << 10, MaxBodyMemory: 2 << 20,
	HeaderTimeout: 300 * time.Millisecond, BodyTimeout: 300 * time.Millisecond,
	WriteTimeout: 300 * time.Millisecond, RequestTimeout: 5 * time.Second,
	MaxConns: 48, MaxInFlight: 4,
}

// TestHostileClients is the short form of `amigo bench hostile`: each
// class of hostile client attacks for a moment while a polite client keeps
// asking; the server must stay up, keep its memory bounded, keep serving
// the polite client and refuse the attacker with a 4xx or 503.
func TestHostileClients(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile suite")
	}
	e := startEnv(t, func(c *app.Config) { c.Limits = tightLimits })
	for i := range 40 { // answers of tens of kilobytes, for the never-read class
		e.register(owner, fmt.Sprintf("hostile-%02d", i))
	}
	k := keys[owner]
	cfg := bench.HostileConfig{
		Endpoint: e.endpoint, Region: region, Principal: bench.NewPrincipal(owner, k[0], k[1]),
		Duration: 700 * time.Millisecond, Scale: 1, MaxBodyBytes: tightLimits.MaxBodyBytes,
		MemoryBound: hostileHeapBound, P99Bound: hostileP99Bound,
		Memory: func() (uint64, error) {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return m.HeapInuse, nil
		},
	}
	reps, err := bench.Hostile(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_ = bench.WriteHostile(&out, reps)
	t.Logf("\n%s", out.String())
	for _, r := range reps {
		if len(r.Problems) > 0 {
			t.Errorf("%s: %v", r.Class, r.Problems)
		}
	}
	if n := e.app.Server.InFlight(); n != 0 {
		t.Errorf("%d requests still in flight after the suite", n)
	}
}
