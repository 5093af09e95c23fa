package server

import (
	"testing"
	"time"
)

// windowed runs f after the limiter's window has passed, so the next
// release decides.
func windowed(l *limiter, f func()) {
	l.mu.Lock()
	l.start = l.start.Add(-limitWindow)
	l.mu.Unlock()
	f()
}

func TestLimiterGrowsBack(t *testing.T) {
	l := newLimiter(64, 100*time.Millisecond)
	if got := l.Limit(); got != 64 {
		t.Fatalf("a fresh limiter admits %d, want 64", got)
	}
	l.limit.Store(minLimit)
	for range minLimit {
		if !l.tryAcquire() {
			t.Fatal("refused under the cap")
		}
	}
	if l.tryAcquire() {
		t.Fatal("admitted past the cap")
	}
	// Quick work (or writes, which count no slot time) and refusals: the
	// cap opens, up to the maximum.
	for i := range 40 {
		held := time.Millisecond
		if i%2 == 0 {
			held = 0
		}
		windowed(l, func() { l.release(held) })
		l.tryAcquire()
		for l.tryAcquire() {
		}
	}
	if got := l.Limit(); got != 64 {
		t.Errorf("after quick work at the cap the limit is %d, want 64", got)
	}
}

func TestLimiterShrinksOnSlowWork(t *testing.T) {
	l := newLimiter(64, 100*time.Millisecond)
	l.limit.Store(64)
	l.n.Store(64)
	prev := l.Limit()
	for range 20 {
		windowed(l, func() { l.release(500 * time.Millisecond) })
		l.n.Add(1)
		if got := l.Limit(); got > prev {
			t.Fatalf("slow work raised the cap from %d to %d", prev, got)
		}
		prev = l.Limit()
	}
	if prev != minLimit {
		t.Errorf("after slow work the cap is %d, want the floor %d", prev, minLimit)
	}
}

// Many requests that fail at once do not hide the slow ones: the decision
// weighs slot time, not requests.
func TestLimiterWeighsSlotTime(t *testing.T) {
	l := newLimiter(64, 100*time.Millisecond)
	l.limit.Store(64)
	l.n.Store(1001)
	for range 1000 {
		l.release(100 * time.Microsecond)
	}
	windowed(l, func() { l.release(time.Second) })
	if got := l.Limit(); got != 48 {
		t.Errorf("one slow request among 1,000 quick failures left the cap at %d, want 48", got)
	}
	// A release without a measure (shed by its key's share) decides nothing.
	l.n.Store(1)
	windowed(l, func() { l.release(-1) })
	if got := l.Limit(); got != 48 {
		t.Errorf("a release without a measure moved the cap to %d", got)
	}
}

func TestLimiterFixed(t *testing.T) {
	l := newLimiter(4, -1)
	if got := l.Limit(); got != 4 {
		t.Fatalf("a fixed limiter admits %d, want 4", got)
	}
	for range 4 {
		l.tryAcquire()
	}
	windowed(l, func() { l.release(time.Hour) })
	if got := l.Limit(); got != 4 {
		t.Errorf("a fixed cap moved to %d", got)
	}
}

func TestKeyShare(t *testing.T) {
	l := newLimiter(64, -1)
	k := &keyShare{lim: l}
	var held int
	for {
		if _, ok := k.tryAcquire("AKIAHEAVY"); !ok {
			break
		}
		held++
	}
	if held != 32 {
		t.Errorf("one key holds %d of 64 slots, want half: 32", held)
	}
	if _, ok := k.tryAcquire("AKIAPOLITE"); !ok {
		t.Error("another key is refused while the first holds its share")
	}
	l.limit.Store(8) // the cap shrank: so does the share
	n, _ := k.keys.Load("AKIAPOLITE")
	for n.(interface{ Load() int64 }).Load() < 4 {
		if _, ok := k.tryAcquire("AKIAPOLITE"); !ok {
			t.Fatal("refused under half of the cap in force")
		}
	}
	if _, ok := k.tryAcquire("AKIAPOLITE"); ok {
		t.Error("a key holds more than half of the cap in force")
	}
	fixed := &keyShare{lim: l, fixed: 2}
	fixed.tryAcquire("A")
	fixed.tryAcquire("A")
	if _, ok := fixed.tryAcquire("A"); ok {
		t.Error("past a fixed per-key cap")
	}
	none := &keyShare{lim: l, fixed: -1}
	for range 100 {
		if _, ok := none.tryAcquire("A"); !ok {
			t.Fatal("refused with no per-key cap")
		}
	}
}
