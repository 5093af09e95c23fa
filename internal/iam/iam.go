// Package iam evaluates IAM-style identity policies: the optional policy an
// access key carries decides whether a call may act on a resource.
//
// The supported subset is what identity policies on EC2 image actions need:
// Version, Id, and a Statement (one object or a list) whose statements have
// Effect Allow or Deny, Action or NotAction, Resource or NotResource, and an
// optional Sid. Action and Resource values are strings or lists of strings
// with the wildcards '*' (any run of characters) and '?' (one character).
// Action names compare case-insensitively, resources case-sensitively.
//
// Condition, Principal, NotPrincipal and policy variables (${...}) are not
// supported; a document that uses them is rejected at load rather than
// evaluated differently from AWS. A Deny with a condition we ignored would
// deny too much, and a Deny whose "${aws:username}" resource we took
// literally would silently deny nothing.
//
// Evaluation follows IAM: an explicit Deny wins over every Allow, and a call
// that no statement allows is denied by default.
package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Decision is the outcome of evaluating a policy for one action and resource.
type Decision uint8

const (
	// ImplicitDeny: no statement allowed the call (and none denied it).
	ImplicitDeny Decision = iota
	// Allowed: some Allow statement matched and no Deny statement did.
	Allowed
	// ExplicitDeny: a Deny statement matched; no Allow can override it.
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allowed:
		return "Allowed"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return fmt.Sprintf("Decision(%d)", uint8(d))
}

// Policy is a parsed, compiled policy document. It is immutable and safe for
// concurrent use. A nil *Policy allows everything: a key without a policy may
// do anything in its account.
type Policy struct {
	// statements holds every Deny before every Allow, so Decide can stop at
	// the first statement that matches.
	statements []statement
}

type statement struct {
	sid         string
	deny        bool
	notAction   bool
	actions     []pattern
	notResource bool
	resources   []pattern
}

// Decide evaluates the policy for action (such as "ec2:DescribeImages") on
// resource (an ARN, or "*" for actions without resource-level permissions).
func (p *Policy) Decide(action, resource string) Decision {
	if p == nil {
		return Allowed
	}
	for i := range p.statements {
		st := &p.statements[i]
		if !st.matches(action, resource) {
			continue
		}
		if st.deny {
			return ExplicitDeny
		}
		// Denies come first, so no later statement can deny.
		return Allowed
	}
	return ImplicitDeny
}

// Allows reports whether Decide returns Allowed.
func (p *Policy) Allows(action, resource string) bool {
	return p.Decide(action, resource) == Allowed
}

func (st *statement) matches(action, resource string) bool {
	return anyMatch(st.actions, action) != st.notAction &&
		anyMatch(st.resources, resource) != st.notResource
}

func anyMatch(ps []pattern, s string) bool {
	for i := range ps {
		if ps[i].match(s) {
			return true
		}
	}
	return false
}

// Parse parses and compiles a JSON policy document.
func Parse(doc []byte) (*Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("iam: policy is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("iam: policy has trailing data after the JSON document")
	}
	return FromValue(v)
}

// FromValue compiles a policy that was already decoded, as a YAML or JSON
// decoder gives it for a mapping (map[string]any, or map[any]any), or a string
// or []byte holding the JSON document.
func FromValue(v any) (*Policy, error) {
	switch v := v.(type) {
	case string:
		return Parse([]byte(v))
	case []byte:
		return Parse(v)
	}
	m, err := asObject(v)
	if err != nil {
		return nil, fmt.Errorf("iam: policy: %w", err)
	}
	return compile(m)
}

var (
	documentKeys  = []string{"Version", "Id", "Statement"}
	statementKeys = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource"}
	// unsupportedKeys are real IAM elements that we refuse rather than ignore.
	unsupportedKeys = []string{"Condition", "Principal", "NotPrincipal"}
)

func compile(doc map[string]any) (*Policy, error) {
	if err := checkKeys(doc, documentKeys, nil); err != nil {
		return nil, fmt.Errorf("iam: policy: %w", err)
	}
	if v, ok := doc["Version"]; ok {
		// IAM also accepts the 2008 version; it differs only in policy
		// variables, which we reject anyway.
		if s, _ := v.(string); s != "2012-10-17" && s != "2008-10-17" {
			return nil, fmt.Errorf("iam: policy: Version %v is not 2012-10-17 or 2008-10-17", v)
		}
	}
	if v, ok := doc["Id"]; ok {
		if _, isString := v.(string); !isString {
			return nil, fmt.Errorf("iam: policy: Id must be a string, got %s", typeName(v))
		}
	}
	raw, ok := doc["Statement"]
	if !ok {
		return nil, errors.New("iam: policy has no Statement")
	}
	var list []any
	switch raw := raw.(type) {
	case []any:
		list = raw
	default:
		list = []any{raw}
	}
	if len(list) == 0 {
		return nil, errors.New("iam: policy has an empty Statement list")
	}
	p := &Policy{statements: make([]statement, 0, len(list))}
	sids := make(map[string]int)
	for i, v := range list {
		st, err := compileStatement(v)
		if err != nil {
			return nil, fmt.Errorf("iam: policy: Statement[%d]%s: %w", i, sidLabel(v), err)
		}
		if st.sid != "" {
			if j, dup := sids[st.sid]; dup {
				return nil, fmt.Errorf("iam: policy: Statement[%d] repeats the Sid %q of Statement[%d]", i, st.sid, j)
			}
			sids[st.sid] = i
		}
		p.statements = append(p.statements, st)
	}
	// Stable, so statements keep their document order within each effect.
	slices.SortStableFunc(p.statements, func(a, b statement) int {
		switch {
		case a.deny == b.deny:
			return 0
		case a.deny:
			return -1
		}
		return 1
	})
	return p, nil
}

func compileStatement(v any) (statement, error) {
	var st statement
	m, err := asObject(v)
	if err != nil {
		return st, err
	}
	if err := checkKeys(m, statementKeys, unsupportedKeys); err != nil {
		return st, err
	}
	if v, ok := m["Sid"]; ok {
		s, isString := v.(string)
		if !isString {
			return st, fmt.Errorf("the Sid must be a string, got %s", typeName(v))
		}
		st.sid = s
	}
	switch e := m["Effect"]; e {
	case "Allow":
	case "Deny":
		st.deny = true
	case nil:
		return st, errors.New("missing Effect")
	default:
		return st, fmt.Errorf("the Effect %v is not Allow or Deny", e)
	}
	st.actions, st.notAction, err = patterns(m, "Action", "NotAction", true)
	if err != nil {
		return st, err
	}
	st.resources, st.notResource, err = patterns(m, "Resource", "NotResource", false)
	return st, err
}

// patterns compiles whichever of key or notKey the statement has; exactly one
// is required.
func patterns(m map[string]any, key, notKey string, isAction bool) ([]pattern, bool, error) {
	v, has := m[key]
	nv, hasNot := m[notKey]
	switch {
	case has && hasNot:
		return nil, false, fmt.Errorf("has both %s and %s", key, notKey)
	case !has && !hasNot:
		return nil, false, fmt.Errorf("needs %s or %s", key, notKey)
	case hasNot:
		key, v = notKey, nv
	}
	values, err := stringList(v)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", key, err)
	}
	ps := make([]pattern, 0, len(values))
	for _, s := range values {
		if err := checkValue(s, isAction); err != nil {
			return nil, false, fmt.Errorf("%s %q: %w", key, s, err)
		}
		ps = append(ps, compilePattern(s, isAction))
	}
	return ps, hasNot, nil
}

func checkValue(s string, isAction bool) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case strings.Contains(s, "${"):
		return errors.New("policy variables are not supported")
	case isAction && s != "*":
		service, name, ok := strings.Cut(s, ":")
		if !ok || service == "" || name == "" {
			return errors.New(`is not "*" or "service:Action"`)
		}
	}
	return nil
}

// stringList accepts a string or a non-empty list of strings.
func stringList(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, errors.New("is an empty list")
		}
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d must be a string, got %s", i, typeName(e))
			}
			out[i] = s
		}
		return out, nil
	case []string: // a caller building the value in Go
		if len(v) == 0 {
			return nil, errors.New("is an empty list")
		}
		return v, nil
	}
	return nil, fmt.Errorf("must be a string or a list of strings, got %s", typeName(v))
}

// asObject accepts the mapping types the JSON and YAML decoders produce.
func asObject(v any) (map[string]any, error) {
	switch v := v.(type) {
	case map[string]any:
		return v, nil
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("key %v is not a string", k)
			}
			m[s] = e
		}
		return m, nil
	}
	return nil, fmt.Errorf("must be an object, got %s", typeName(v))
}

// checkKeys rejects keys outside known, naming unsupported ones as such. A
// misspelt "Resouce" must not turn a statement into something broader.
func checkKeys(m map[string]any, known, unsupported []string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic error messages
	for _, k := range keys {
		switch {
		case slices.Contains(known, k):
		case slices.Contains(unsupported, k):
			return fmt.Errorf("%s is not supported by amigo", k)
		default:
			return fmt.Errorf("unknown element %q", k)
		}
	}
	return nil
}

func sidLabel(v any) string {
	if m, err := asObject(v); err == nil {
		if s, ok := m["Sid"].(string); ok && s != "" {
			return fmt.Sprintf(" (Sid %q)", s)
		}
	}
	return ""
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, int, int64, uint64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
