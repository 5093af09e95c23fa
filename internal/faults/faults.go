// Package faults injects failures for rehearsals: errors, delays and images
// that fail, by rules that match a request's action, account, Region and
// resource. The rules come from a YAML or JSON document (--faults FILE, or
// PUT /_amigo/faults) of the form {"rules": [rule, ...]}.
package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/image"
)

// Document is the rules, in the order they are tried.
type Document struct {
	Rules []Rule `json:"rules" yaml:"rules"`
}

// A Rule matches on its optional fields (empty matches anything) and then
// does exactly one of Error, Delay or Outcome. Probability and Every thin
// out the matches it acts on; they count HTTP attempts, per process.
type Rule struct {
	Action   string `json:"action,omitempty" yaml:"action,omitempty"`
	Account  string `json:"account,omitempty" yaml:"account,omitempty"`
	Region   string `json:"region,omitempty" yaml:"region,omitempty"`
	Resource string `json:"resource,omitempty" yaml:"resource,omitempty"`

	// Probability acts on each match with this chance (0..1); Seed makes
	// the draws repeatable.
	Probability *float64 `json:"probability,omitempty" yaml:"probability,omitempty"`
	Seed        *uint64  `json:"seed,omitempty" yaml:"seed,omitempty"`
	// Every acts on the Nth, 2Nth, … match.
	Every int `json:"every,omitempty" yaml:"every,omitempty"`

	Error   *Error    `json:"error,omitempty" yaml:"error,omitempty"`
	Delay   *Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
	Outcome *Outcome  `json:"outcome,omitempty" yaml:"outcome,omitempty"`
}

// Error is the EC2 error a rule answers with. Status defaults to the code's
// in amigo's table (500 for a code it does not know); Message to a generic
// one.
type Error struct {
	Code    string `json:"code" yaml:"code"`
	Status  int    `json:"status,omitempty" yaml:"status,omitempty"`
	Message string `json:"message,omitempty" yaml:"message,omitempty"`
}

// Outcome makes the image a matching RegisterImage, CopyImage or
// CreateImage creates stay pending for After, then fail with Message; the
// snapshot a matching CreateSnapshot or CopySnapshot creates goes to error
// instead (snapshots fail into error, images into failed).
type Outcome struct {
	State   string   `json:"state" yaml:"state"`
	After   Duration `json:"after,omitempty" yaml:"after,omitempty"`
	Message string   `json:"message,omitempty" yaml:"message,omitempty"`
}

// Duration reads and writes as Go's duration text ("300ms", "5s").
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads "300ms" (JSON documents are read as YAML too).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 300ms or 5s", n.Line, s)
	}
	if v < 0 {
		return fmt.Errorf("line %d: duration %s is negative", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// maxDelay bounds an injected delay: a rehearsal, not a way to hold
// connections open forever.
const maxDelay = 5 * time.Minute

var codePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*$`)

// Parse reads a document, YAML or JSON (JSON is YAML), refusing unknown
// fields and rules that do not say exactly one thing.
func Parse(data []byte) (Document, error) {
	var doc Document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty document (io.EOF) is no rules.
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return Document{}, fmt.Errorf("faults: %w", err)
	}
	for i := range doc.Rules {
		if err := doc.Rules[i].check(); err != nil {
			return Document{}, fmt.Errorf("faults: rule %d: %w", i+1, err)
		}
	}
	if doc.Rules == nil {
		doc.Rules = []Rule{}
	}
	return doc, nil
}

func (r *Rule) check() error {
	n := 0
	if r.Error != nil {
		n++
		if !codePattern.MatchString(r.Error.Code) {
			return fmt.Errorf("error.code %q is not an error code such as InternalError", r.Error.Code)
		}
		if r.Error.Status == 0 {
			r.Error.Status = 500
			if awserr.Known(r.Error.Code) {
				r.Error.Status = awserr.StatusOf(r.Error.Code)
			}
		}
		if r.Error.Status < 400 || r.Error.Status > 599 {
			return fmt.Errorf("error.status %d is not an HTTP error status (400-599)", r.Error.Status)
		}
		if r.Error.Message == "" {
			r.Error.Message = "An internal error has occurred"
		}
	}
	if r.Delay != nil {
		n++
		if time.Duration(*r.Delay) > maxDelay {
			return fmt.Errorf("delay %s is longer than %s", r.Delay, maxDelay)
		}
	}
	if r.Outcome != nil {
		n++
		if r.Outcome.State != image.StateFailed {
			return fmt.Errorf("outcome.state %q: only %q is supported", r.Outcome.State, image.StateFailed)
		}
		if r.Outcome.Message == "" {
			r.Outcome.Message = "Failed by a fault injection rule."
		}
	}
	if n != 1 {
		return errors.New("a rule does exactly one of error, delay and outcome")
	}
	if p := r.Probability; p != nil && (*p < 0 || *p > 1) {
		return fmt.Errorf("probability %v is not between 0 and 1", *p)
	}
	if r.Every < 0 {
		return fmt.Errorf("every %d is negative", r.Every)
	}
	if r.Every > 0 && r.Probability != nil {
		return errors.New("a rule takes probability or every, not both")
	}
	if r.Seed != nil && r.Probability == nil {
		return errors.New("seed goes with probability")
	}
	return nil
}

// Request is what rules match on.
type Request struct {
	Action, Account, Region string
	// Resources are the image and snapshot ids in the request's parameters.
	Resources []string
}

// Decision is what the matching rules do to one request.
type Decision struct {
	// Delay is the sum of the acting delay rules'.
	Delay time.Duration
	// Err is the first acting error rule's, nil if none.
	Err *awserr.Error
	// Outcome is the first acting outcome rule's, nil if none.
	Outcome *image.Outcome
}

// Injector holds the current rules and their counters. Replacing the
// document resets the counters.
type Injector struct {
	mu    sync.Mutex // serialises Set
	rules atomic.Pointer[ruleSet]
}

type ruleSet struct {
	doc   Document
	rules []*live
}

type live struct {
	Rule
	seen atomic.Int64 // matching attempts
	mu   sync.Mutex   // guards rng
	rng  *rand.Rand
}

// New returns an Injector with no rules.
func New() *Injector {
	in := &Injector{}
	in.rules.Store(&ruleSet{doc: Document{Rules: []Rule{}}})
	return in
}

// Set replaces the rules.
func (in *Injector) Set(doc Document) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if doc.Rules == nil {
		doc.Rules = []Rule{}
	}
	rs := &ruleSet{doc: doc}
	for _, r := range doc.Rules {
		l := &live{Rule: r}
		if r.Probability != nil {
			seed := rand.Uint64()
			if r.Seed != nil {
				seed = *r.Seed
			}
			l.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		}
		rs.rules = append(rs.rules, l)
	}
	in.rules.Store(rs)
}

// Document returns the current rules.
func (in *Injector) Document() Document { return in.rules.Load().doc }

// Decide applies the rules to one HTTP attempt. Every rule that matches
// counts the attempt, whether or not it acts on it.
func (in *Injector) Decide(r Request) Decision {
	var d Decision
	rs := in.rules.Load()
	for _, l := range rs.rules {
		if !l.matches(r) || !l.fires() {
			continue
		}
		switch {
		case l.Error != nil:
			if d.Err == nil {
				e := awserr.New(l.Error.Code, l.Error.Message)
				e.Status = l.Error.Status
				d.Err = e
			}
		case l.Delay != nil:
			d.Delay += time.Duration(*l.Delay)
		case l.Outcome != nil:
			if d.Outcome == nil {
				d.Outcome = &image.Outcome{After: time.Duration(l.Outcome.After),
					Reason: image.StateReason{Code: "Server.InternalError", Message: l.Outcome.Message}}
			}
		}
	}
	return d
}

// Empty reports whether there are no rules, so the edge can skip
// collecting resources.
func (in *Injector) Empty() bool { return len(in.rules.Load().rules) == 0 }

func (l *live) matches(r Request) bool {
	if l.Action != "" && l.Action != r.Action ||
		l.Account != "" && l.Account != r.Account ||
		l.Region != "" && l.Region != r.Region {
		return false
	}
	if l.Resource == "" {
		return true
	}
	for _, id := range r.Resources {
		if id == l.Resource {
			return true
		}
	}
	return false
}

// fires counts a match and says whether the rule acts on it.
func (l *live) fires() bool {
	n := l.seen.Add(1)
	switch {
	case l.Every > 0:
		return n%int64(l.Every) == 0
	case l.rng != nil:
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.rng.Float64() < *l.Probability
	}
	return true
}
