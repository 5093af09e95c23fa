package ec2

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
)

// TestTimeOut: the hand-written formatter agrees with time.Format on
// random instants, zones and the edges of the four-digit years.
func TestTimeOut(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	cases := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, zone),
	}
	for range 2000 {
		cases = append(cases, time.Unix(rng.Int64N(400*365*86400)-100*365*86400, rng.Int64N(1e9)).In(zone))
	}
	for _, tm := range cases {
		if got, want := timeOut(tm), tm.UTC().Format(image.TimeFormat); got != want {
			t.Fatalf("timeOut(%v) = %q, want %q", tm, got, want)
		}
	}
}
