package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Kind is one operation the load generator can send.
type Kind int

// The operation kinds, in report order.
const (
	DescribeID         Kind = iota // DescribeImages ImageId.1=<an image of the signer>
	DescribeSelf                   // DescribeImages Owner.1=self
	DescribeAll                    // DescribeImages without arguments
	ModifyDescription              // ModifyImageAttribute Description.Value=<random>
	ModifyPermission               // ModifyImageAttribute LaunchPermission Add/Remove UserId, alternately
	DescribeAttribute              // DescribeImageAttribute Attribute=launchPermission
	DescribeSnapshotID             // DescribeSnapshots SnapshotId.1=<the root snapshot of an image of the signer>
	numKinds
)

var kindNames = [numKinds]string{
	DescribeID:         "describe-id",
	DescribeSelf:       "describe-self",
	DescribeAll:        "describe-all",
	ModifyDescription:  "modify-description",
	ModifyPermission:   "modify-permission",
	DescribeAttribute:  "describe-attribute",
	DescribeSnapshotID: "describe-snapshot-id",
}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// needsImage reports whether requests of kind k name one of the signer's
// images.
func (k Kind) needsImage() bool {
	return k != DescribeSelf && k != DescribeAll
}

// kindNamed returns the kind called name.
func kindNamed(name string) (Kind, bool) {
	for k, n := range kindNames {
		if n == name {
			return Kind(k), true
		}
	}
	return 0, false
}

// Mix is a weighted choice of operation kinds.
type Mix struct {
	weights [numKinds]int
	total   int
}

// maxWeight keeps the sum of weights far from overflow.
const maxWeight = 1_000_000

// ParseMix parses "describe-id=6,describe-self=1": comma-separated kinds,
// each with a non-negative integer weight; a kind without "=weight" weighs 1.
// Each kind may appear once and the weights must not all be zero.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := [numKinds]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, weight, hasWeight := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		k, ok := kindNamed(name)
		if !ok {
			return Mix{}, fmt.Errorf("mix: unknown operation %q (want one of %s)", name, strings.Join(kindNames[:], ", "))
		}
		if seen[k] {
			return Mix{}, fmt.Errorf("mix: %s listed twice", name)
		}
		seen[k] = true
		w := 1
		if hasWeight {
			n, err := strconv.Atoi(strings.TrimSpace(weight))
			if err != nil || n < 0 || n > maxWeight {
				return Mix{}, fmt.Errorf("mix: weight of %s must be an integer from 0 to %d, not %q", name, maxWeight, weight)
			}
			w = n
		}
		m.weights[k] = w
		m.total += w
	}
	if m.total == 0 {
		return Mix{}, fmt.Errorf("mix: %q has no operation with a positive weight", s)
	}
	return m, nil
}

// Weight returns the weight of kind k.
func (m Mix) Weight(k Kind) int { return m.weights[k] }

// Kinds returns the kinds with a positive weight, in report order.
func (m Mix) Kinds() []Kind {
	var ks []Kind
	for k, w := range m.weights {
		if w > 0 {
			ks = append(ks, Kind(k))
		}
	}
	return ks
}

// needsImages reports whether any kind of the mix names an image.
func (m Mix) needsImages() bool {
	for _, k := range m.Kinds() {
		if k.needsImage() {
			return true
		}
	}
	return false
}

// String returns the mix in the form ParseMix reads.
func (m Mix) String() string {
	var b strings.Builder
	for _, k := range m.Kinds() {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%d", k, m.weights[k])
	}
	return b.String()
}

// pick draws a kind with probability weight/total.
func (m *Mix) pick(rng *rand.Rand) Kind {
	n := rng.IntN(m.total)
	for k, w := range m.weights {
		if n < w {
			return Kind(k)
		}
		n -= w
	}
	panic("bench: mix weights out of sync with total")
}
