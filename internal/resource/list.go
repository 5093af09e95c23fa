package resource

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// The listing pipeline: every Describe* is a query plus a matcher, and
// List does the rest the same way for all of them — MaxResults, a
// tamper-evident NextToken bound to the caller and the query, a stable
// order, and fetching past what the matcher drops until a page is full.

// Page is what a request says about paging.
type Page struct {
	MaxResults *int32
	NextToken  *string
}

// CheckMaxResults applies EC2's bounds on MaxResults, 5 to 1000 (spec
// §2.4.6; the wording is DescribeInstances', observed).
func CheckMaxResults(n *int32) error {
	switch {
	case n == nil:
		return nil
	case *n < 5:
		return awserr.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than 5.", *n)
	case *n > 1000:
		return awserr.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value smaller than or equal to 1000.", *n)
	}
	return nil
}

// CheckPage is the paging check of a listing that also takes ids: named
// ids and MaxResults do not go together (InvalidParameterCombination,
// naming the id list's wire name, set), then CheckMaxResults.
func CheckPage(set string, ids int, n *int32) error {
	if ids > 0 && n != nil {
		return awserr.Newf(awserr.CodeInvalidParameterCombination, "The parameter %s cannot be used with the parameter maxResults", set)
	}
	return CheckMaxResults(n)
}

// Listing is one Describe* action's query and matcher. C is what the
// store returns (a candidate), R what the answer lists.
type Listing[C, R any] struct {
	// Kind names the listing in its tokens ("images"), so a token of one
	// action never continues another.
	Kind string
	// Criteria writes every part of the query into the fingerprint a token
	// carries (the caller's account and region are always in it), so a
	// token only continues the query that issued it.
	Criteria func(*Fingerprint)
	// Fetch returns candidates in key order after the cursor ("": from the
	// start), at most limit of them when limit > 0, all of them otherwise.
	Fetch func(after string, limit int) ([]C, error)
	// Key is a candidate's place in that order.
	Key func(C) string
	// Keep drops the candidates that do not match and turns the others into
	// results, in order; it sees each candidate once.
	Keep func([]C) ([]R, error)
	// ResultKey is the Key of the candidate a result came from.
	ResultKey func(R) string
}

// ListByIDs is List in one read transaction of view, for a listing that
// notes in found the ids it listed: it answers notFound for the first of
// ids, in request order, that the listing did not list (EC2 names that one).
func ListByIDs[T, C, R any](ctx context.Context, p *Pages, c Caller, pg Page,
	view TxFunc[T], listing func(T, map[string]bool) Listing[C, R],
	ids []string, notFound func(string) error) ([]R, string, error) {
	found := map[string]bool{}
	var out []R
	var next string
	err := view(ctx, func(tx T) error {
		clear(found) // the view may run fn again
		var err error
		if out, next, err = List(ctx, p, c, pg, listing(tx, found)); err != nil {
			return err
		}
		for _, id := range ids {
			if !found[id] {
				return notFound(id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// List runs a listing for the caller: every match without MaxResults,
// otherwise at most MaxResults of them and a NextToken when more may follow.
// MaxResults must have passed CheckMaxResults.
//
// Returns InvalidParameterValue for a NextToken this listing did not issue
// for this caller and query, the errors of Fetch and Keep, and ctx's error
// once the request's deadline has passed (checked before every fetch).
func List[C, R any](ctx context.Context, p *Pages, c Caller, pg Page, l Listing[C, R]) ([]R, string, error) {
	fp := fingerprint{kind: l.Kind, criteria: l.Criteria, account: c.Account, region: c.Region}
	after := ""
	if pg.NextToken != nil {
		var err error
		if after, err = p.open(*pg.NextToken, fp.sum()); err != nil {
			return nil, "", err
		}
	}
	limit, batch := 0, 0
	if pg.MaxResults != nil {
		// Fetch twice the page (at least 100): most listings drop few
		// candidates, so one round trip usually fills it.
		limit = int(*pg.MaxResults)
		batch = max(2*limit, 100)
	}
	var out []R
	for {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		cands, err := l.Fetch(after, batch)
		if err != nil {
			return nil, "", err
		}
		kept, err := l.Keep(cands)
		if err != nil {
			return nil, "", err
		}
		if limit == 0 {
			return kept, "", nil // one fetch returned everything
		}
		for _, r := range kept {
			if len(out) == limit {
				// A match is left over: the page is full and more follow.
				return out, p.seal(l.ResultKey(out[len(out)-1]), fp.sum()), nil
			}
			out = append(out, r)
		}
		if len(cands) < batch {
			return out, "", nil
		}
		after = l.Key(cands[len(cands)-1])
	}
}

// PollEvery is how many candidates a loop tests between two looks at the
// request's context: often enough to stop within microseconds of the
// deadline, rarely enough that the look costs nothing measurable.
const PollEvery = 256

// Poll returns ctx's error on every PollEvery-th i (i counts from 0), so a
// loop over many candidates stops soon after the request's deadline or
// its client's departure instead of burning on.
func Poll(ctx context.Context, i int) error {
	if i%PollEvery != 0 {
		return nil
	}
	return ctx.Err()
}

// Fingerprint condenses a query's criteria into the number a token binds.
type Fingerprint struct{ b []byte }

// Add writes criteria; parts are kept apart, so ("ab","c") ≠ ("a","bc").
func (f *Fingerprint) Add(parts ...string) {
	for _, s := range parts {
		f.b = append(f.b, s...)
		f.b = append(f.b, 0)
	}
}

// AddFilters writes a request's filters, names and values, in order: the
// criteria part every filtered listing shares.
func (f *Fingerprint) AddFilters(fs []Filter) {
	for _, fl := range fs {
		f.Add("filter", *fl.Name)
		f.Add(fl.Values...)
	}
}

// fingerprint computes a listing's fingerprint once, and only when a token
// is opened or sealed: most calls (by id, without MaxResults) need none.
type fingerprint struct {
	kind, account, region string
	criteria              func(*Fingerprint)
	done                  bool
	v                     uint64
}

func (fp *fingerprint) sum() uint64 {
	if !fp.done {
		var f Fingerprint
		f.Add(fp.kind)
		if fp.criteria != nil {
			fp.criteria(&f)
		}
		f.Add("caller", fp.account, fp.region)
		h := sha256.Sum256(f.b)
		fp.v, fp.done = binary.BigEndian.Uint64(h[:8]), true
	}
	return fp.v
}

// Pages seals and opens page tokens: base64url(criteria fingerprint,
// cursor, HMAC). Every process on one store must share the key.
type Pages struct{ key []byte }

// NewPages returns Pages signing with key.
func NewPages(key []byte) *Pages { return &Pages{key: key} }

func (p *Pages) seal(after string, fp uint64) string {
	var b []byte
	b = binary.BigEndian.AppendUint64(b, fp)
	b = append(b, after...)
	m := hmac.New(sha256.New, p.key)
	m.Write(b)
	b = append(b, m.Sum(nil)[:16]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *Pages) open(tok string, fp uint64) (string, error) {
	bad := awserr.InvalidParameterValue("Value ( %s ) for parameter NextToken is invalid. The token is invalid.", tok)
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 8+16 {
		return "", bad
	}
	body, sum := b[:len(b)-16], b[len(b)-16:]
	m := hmac.New(sha256.New, p.key)
	m.Write(body)
	if !hmac.Equal(sum, m.Sum(nil)[:16]) || binary.BigEndian.Uint64(body) != fp {
		return "", bad
	}
	return string(body[8:]), nil
}

const tokenKeySetting = "pagination-token-key"

// TokenKey reads the token key shared by every process on one store,
// creating it on first use; run it in an update.
func TokenKey(ctx context.Context, tx Tx) ([]byte, error) {
	v, err := tx.Setting(ctx, "", "", tokenKeySetting)
	if errors.Is(err, ErrNotFound) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		v = hex.EncodeToString(b[:])
		err = tx.SetSetting(ctx, "", "", tokenKeySetting, v)
	}
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(strings.TrimSpace(v))
}

// Seal and Open are seal and open for a listing outside EC2 (CloudTrail's
// LookupEvents), which answers a bad token with an error of its own: Open
// reports false instead of returning EC2's.
func (p *Pages) Seal(after string, fp uint64) string { return p.seal(after, fp) }

// Open: see Seal.
func (p *Pages) Open(tok string, fp uint64) (string, bool) {
	after, err := p.open(tok, fp)
	return after, err == nil
}

// Sum is the fingerprint of criteria, for Seal and Open.
func (f *Fingerprint) Sum() uint64 {
	h := sha256.Sum256(f.b)
	return binary.BigEndian.Uint64(h[:8])
}
