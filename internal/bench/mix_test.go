package bench

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // Mix.String(); "" when an error is expected
		wantErr string
	}{
		{name: "default", in: DefaultMix, want: "describe-id=6,describe-self=1,modify-description=2,modify-permission=1"},
		{name: "report order", in: "modify-permission=1,describe-id=2", want: "describe-id=2,modify-permission=1"},
		{name: "weight defaults to 1", in: "describe-all", want: "describe-all=1"},
		{name: "spaces and empty parts", in: " describe-id = 3 ,, describe-attribute=1,", want: "describe-id=3,describe-attribute=1"},
		{name: "zero weight drops the kind", in: "describe-id=1,describe-self=0", want: "describe-id=1"},
		{name: "every kind", in: "describe-id,describe-self,describe-all,modify-description,modify-permission,describe-attribute",
			want: "describe-id=1,describe-self=1,describe-all=1,modify-description=1,modify-permission=1,describe-attribute=1"},
		{name: "unknown kind", in: "describe-id=1,launch=2", wantErr: `unknown operation "launch"`},
		{name: "listed twice", in: "describe-id=1,describe-id=2", wantErr: "listed twice"},
		{name: "negative", in: "describe-id=-1", wantErr: "weight of describe-id"},
		{name: "not a number", in: "describe-id=x", wantErr: "weight of describe-id"},
		{name: "too heavy", in: "describe-id=1000001", wantErr: "weight of describe-id"},
		{name: "all zero", in: "describe-id=0", wantErr: "no operation with a positive weight"},
		{name: "empty", in: "", wantErr: "no operation with a positive weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMix(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMix(%q) = %v, %v; want error containing %q", tt.in, m, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMix(%q): %v", tt.in, err)
			}
			if got := m.String(); got != tt.want {
				t.Errorf("ParseMix(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			if again, err := ParseMix(m.String()); err != nil || again != m {
				t.Errorf("ParseMix(String()) = %v, %v; want %v", again, err, m)
			}
		})
	}
}

func TestMixPickFollowsWeights(t *testing.T) {
	m, err := ParseMix("describe-id=6,describe-self=1,modify-description=3")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 100_000
	var got [numKinds]int
	for range n {
		got[m.pick(rng)]++
	}
	for k := range numKinds {
		want := float64(n) * float64(m.Weight(k)) / float64(m.total)
		if d := float64(got[k]) - want; d > 0.02*n || d < -0.02*n {
			t.Errorf("%s picked %d times of %d, want about %.0f", k, got[k], n, want)
		}
	}
	if got[DescribeAll] != 0 {
		t.Errorf("describe-all has weight 0 but was picked %d times", got[DescribeAll])
	}
}

func TestMixNeedsImages(t *testing.T) {
	for in, want := range map[string]bool{
		"describe-self=1,describe-all=1": false,
		"describe-self=1,describe-id=1":  true,
		"describe-attribute":             true,
		"modify-description":             true,
	} {
		m, err := ParseMix(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.needsImages(); got != want {
			t.Errorf("ParseMix(%q).needsImages() = %v, want %v", in, got, want)
		}
	}
}
