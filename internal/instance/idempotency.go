package instance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// RunInstances idempotency (spec §3.2). The SDKs fill ClientToken with a
// fresh UUID per call and resend it on every retry of that call, so a
// launch whose answer was lost is answered again, never repeated. The
// record of a token is written in the same transaction as the instances it
// launched.

const (
	// maxClientToken is the model's limit: 64 ASCII characters.
	maxClientToken = 64
	// TokenRetention is how long a token is kept after the last instance of
	// its reservation terminated; after that it may launch anew.
	TokenRetention = 24 * time.Hour
)

// TokenRecord is what one ClientToken launched. Its key is (Region,
// Account, Token, Zone); Zone is set when the request named a zone, since
// such tokens are per zone.
type TokenRecord struct {
	Region, Account, Token, Zone string
	// Fingerprint condenses the request (RequestFingerprint).
	Fingerprint   string
	ReservationID string
	InstanceIDs   []string
	CreatedAt     time.Time
}

// CheckClientToken answers a token EC2 would refuse.
func CheckClientToken(token string) error {
	if len(token) > maxClientToken {
		return awserr.InvalidParameterValue("Value for parameter ClientToken is invalid. The client token must be at most %d characters long.", maxClientToken)
	}
	for i := 0; i < len(token); i++ {
		if token[i] < 0x20 || token[i] > 0x7e {
			return awserr.InvalidParameterValue("Value for parameter ClientToken is invalid. The client token must contain only printable ASCII characters.")
		}
	}
	return nil
}

// RequestFingerprint condenses a parsed request, defaults applied and
// ClientToken and DryRun cleared by the caller, into the string two
// requests share exactly when they ask for the same launch. JSON of plain
// data is deterministic (struct fields in order, map keys sorted).
func RequestFingerprint(request any) (string, error) {
	b, err := json.Marshal(request)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

// TokenUse is what a RunInstances with a known token does.
type TokenUse int

const (
	// Replay answers with the recorded reservation; nothing is launched.
	Replay TokenUse = iota
	// Forget launches anew and replaces the record: it has outlived
	// TokenRetention.
	Forget
)

// msgIdempotencyMismatch is EC2's IdempotentParameterMismatch message.
const msgIdempotencyMismatch = "Arguments on this idempotent request are inconsistent with arguments used in previous request(s)."

// Use decides a repeat of a recorded token. terminatedAt holds, for each
// recorded instance still known, when it terminated (nil while it has not).
// The mismatch is checked before the terminated case, as EC2 does.
//
// Returns IdempotentParameterMismatch and IdempotentInstanceTerminated.
func (r *TokenRecord) Use(fingerprint string, terminatedAt []*time.Time, now time.Time) (TokenUse, error) {
	var last time.Time
	for _, t := range terminatedAt {
		if t == nil {
			last = time.Time{}
			break
		}
		if t.After(last) {
			last = *t
		}
	}
	allGone := len(terminatedAt) == 0 || !last.IsZero()
	if allGone && !last.IsZero() && now.Sub(last) > TokenRetention {
		return Forget, nil
	}
	if fingerprint != r.Fingerprint {
		return Replay, awserr.New(awserr.CodeIdempotentParameterMismatch, msgIdempotencyMismatch)
	}
	if allGone {
		return Replay, awserr.New(awserr.CodeIdempotentInstanceTerminated,
			"The client token you have provided is associated with a terminated instance. Please use a different client token.")
	}
	return Replay, nil
}
