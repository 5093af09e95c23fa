package instance

import (
	"strings"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

func TestCheckClientToken(t *testing.T) {
	for _, tok := range []string{"", "a", strings.Repeat("x", 64), "550e8400-e29b-41d4-a716-446655440000", "terraform-2026!~"} {
		if err := CheckClientToken(tok); err != nil {
			t.Errorf("%q: %v", tok, err)
		}
	}
	for _, tok := range []string{strings.Repeat("x", 65), "é", "a\nb"} {
		var ae *awserr.Error
		if err := CheckClientToken(tok); !asErr(err, &ae) || ae.Code != "InvalidParameterValue" {
			t.Errorf("%q: %v", tok, err)
		}
	}
}

func TestRequestFingerprint(t *testing.T) {
	type req struct {
		ImageID string
		Count   int
		Tags    map[string]string
	}
	a, _ := RequestFingerprint(req{"ami-1", 1, map[string]string{"a": "1", "b": "2"}})
	b, _ := RequestFingerprint(req{"ami-1", 1, map[string]string{"b": "2", "a": "1"}})
	c, _ := RequestFingerprint(req{"ami-1", 2, nil})
	if a != b || a == c || len(a) != 32 {
		t.Fatalf("%s %s %s", a, b, c)
	}
	if _, err := RequestFingerprint(func() {}); err == nil {
		t.Fatal("a func has no fingerprint")
	}
}

func TestTokenUse(t *testing.T) {
	rec := &TokenRecord{Fingerprint: "fp"}
	now := t0.Add(48 * time.Hour)
	recent, old := t0.Add(47*time.Hour), t0
	tests := []struct {
		name       string
		fp         string
		terminated []*time.Time
		use        TokenUse
		code       string
	}{
		{"same request, running", "fp", []*time.Time{nil}, Replay, ""},
		{"same request, one of two terminated", "fp", []*time.Time{&recent, nil}, Replay, ""},
		{"other request", "other", []*time.Time{nil}, Replay, "IdempotentParameterMismatch"},
		{"all terminated", "fp", []*time.Time{&recent, &recent}, Replay, "IdempotentInstanceTerminated"},
		{"mismatch comes first", "other", []*time.Time{&recent}, Replay, "IdempotentParameterMismatch"},
		{"instances long gone from the store", "fp", nil, Replay, "IdempotentInstanceTerminated"},
		{"terminated over a day ago", "other", []*time.Time{&old}, Forget, ""},
		{"one terminated long ago, one recently", "fp", []*time.Time{&old, &recent}, Replay, "IdempotentInstanceTerminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			use, err := rec.Use(tt.fp, tt.terminated, now)
			if use != tt.use {
				t.Fatalf("use %v", use)
			}
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *awserr.Error
			if !asErr(err, &ae) || ae.Code != tt.code || ae.Status != 400 {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
		})
	}
}
