package resource

import (
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Filter is one Filter.N of a Describe call: any value may match (OR).
type Filter struct {
	Name   *string
	Values []string
}

// Limits on filters (spec §2.4.4: EC2 defines FilterLimitExceeded).
const (
	MaxFilters         = 50
	MaxValuesPerFilter = 200
)

// Field extracts the values a filter compares against from a resource and
// the caller's tags on it. A kind lists its filters as Fields; tag:<key>
// needs no entry, the compiler serves it for every kind.
type Field[R any] func(r R, tags []Tag) []string

// One is a field's single value, none when empty.
func One(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// TagKeys is the tag-key filter's field.
func TagKeys[R any](_ R, tags []Tag) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.Key
	}
	return out
}

// CompiledFilter is a validated filter ready to test resources.
type CompiledFilter[R any] struct {
	Name     string
	Patterns []Pattern
	field    Field[R]
}

// CompileFilters checks filters against a kind's fields and EC2's limits.
//
// Returns FilterLimitExceeded and InvalidParameterValue (a filter name the
// kind does not know, or none).
func CompileFilters[R any](fs []Filter, fields map[string]Field[R]) ([]CompiledFilter[R], error) {
	if len(fs) > MaxFilters {
		return nil, awserr.Newf(awserr.CodeFilterLimitExceeded, "The maximum number of filters (%d) has been exceeded.", MaxFilters)
	}
	out := make([]CompiledFilter[R], 0, len(fs))
	for _, f := range fs {
		if f.Name == nil || *f.Name == "" {
			return nil, awserr.InvalidParameterValue("The filter 'null' is invalid")
		}
		name := *f.Name
		if len(f.Values) > MaxValuesPerFilter {
			return nil, awserr.Newf(awserr.CodeFilterLimitExceeded, "The maximum number of filter values specified on a single call is %d", MaxValuesPerFilter)
		}
		cf := CompiledFilter[R]{Name: name}
		if key, ok := TagFilterKey(name); ok {
			cf.field = func(_ R, tags []Tag) []string {
				for _, t := range tags {
					if t.Key == key {
						return []string{t.Value}
					}
				}
				return nil
			}
		} else if fd, ok := fields[name]; ok {
			cf.field = fd
		} else {
			return nil, awserr.InvalidParameterValue("The filter '%s' is invalid", name)
		}
		cf.Patterns = make([]Pattern, len(f.Values))
		for i, v := range f.Values {
			cf.Patterns[i] = CompilePattern(v)
		}
		out = append(out, cf)
	}
	return out, nil
}

// TagFilterKey returns the key of a tag:<key> filter name.
func TagFilterKey(name string) (string, bool) {
	key, ok := strings.CutPrefix(name, "tag:")
	return key, ok && key != ""
}

// MatchAll reports whether every filter matches (AND of ORs).
func MatchAll[R any](fs []CompiledFilter[R], r R, tags []Tag) bool {
	for i := range fs {
		if !fs[i].Match(r, tags) {
			return false
		}
	}
	return true
}

// MatchValue reports whether one of the filter's patterns matches v.
func (f *CompiledFilter[R]) MatchValue(v string) bool {
	for _, p := range f.Patterns {
		if p.Match(v) {
			return true
		}
	}
	return false
}

// Match reports whether one of the resource's values matches one pattern.
func (f *CompiledFilter[R]) Match(r R, tags []Tag) bool {
	vals := f.field(r, tags)
	for _, p := range f.Patterns {
		for _, v := range vals {
			if p.Match(v) {
				return true
			}
		}
	}
	return false
}

// Literals returns the filter's values when none has a wildcard (so an
// index can serve them), or nil.
func (f *CompiledFilter[R]) Literals() []string {
	out := make([]string, len(f.Patterns))
	for i, p := range f.Patterns {
		if p.wild {
			return nil
		}
		out[i] = p.literal
	}
	return out
}

// Pattern is a filter value: literal text with * (any run), ? (zero or one
// character) and backslash escapes.
type Pattern struct {
	literal string // set when the value has no wildcard
	tokens  []ptoken
	wild    bool
}

type ptoken struct {
	kind byte // 'l' literal rune, '*', '?'
	r    rune
}

// CompilePattern parses one filter value.
func CompilePattern(v string) Pattern {
	if !strings.ContainsAny(v, `*?\`) {
		return Pattern{literal: v} // byte for byte, even for invalid UTF-8
	}
	var toks []ptoken
	wild := false
	var lit strings.Builder
	rs := []rune(v)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\\':
			if i+1 < len(rs) {
				i++
			}
			toks = append(toks, ptoken{kind: 'l', r: rs[i]})
			lit.WriteRune(rs[i])
		case '*', '?':
			wild = true
			toks = append(toks, ptoken{kind: byte(rs[i])})
		default:
			toks = append(toks, ptoken{kind: 'l', r: rs[i]})
			lit.WriteRune(rs[i])
		}
	}
	if !wild {
		return Pattern{literal: lit.String()}
	}
	return Pattern{tokens: toks, wild: true}
}

// Literal returns the text of a pattern without wildcards, and whether it
// has none.
func (p Pattern) Literal() (string, bool) { return p.literal, !p.wild }

// Prefix returns the literal prefix of a pattern of the form "abc*" (used
// to pick an index), and whether the pattern has exactly that form.
func (p Pattern) Prefix() (string, bool) {
	if !p.wild {
		return "", false
	}
	n := len(p.tokens)
	if n == 0 || p.tokens[n-1].kind != '*' {
		return "", false
	}
	var b strings.Builder
	for _, t := range p.tokens[:n-1] {
		if t.kind != 'l' {
			return "", false
		}
		b.WriteRune(t.r)
	}
	return b.String(), true
}

// Match reports whether s matches the pattern.
func (p Pattern) Match(s string) bool {
	if !p.wild {
		return s == p.literal
	}
	return matchTokens(p.tokens, []rune(s))
}

// matchTokens is a small backtracking-free glob matcher: dynamic
// programming over positions, linear in len(tokens)*len(s).
func matchTokens(toks []ptoken, s []rune) bool {
	cur := make([]bool, len(s)+1)
	next := make([]bool, len(s)+1)
	cur[0] = true
	for _, t := range toks {
		for i := range next {
			next[i] = false
		}
		switch t.kind {
		case '*':
			any := false
			for i := 0; i <= len(s); i++ {
				any = any || cur[i]
				next[i] = any
			}
		case '?':
			for i := 0; i <= len(s); i++ {
				if cur[i] {
					next[i] = true
					if i < len(s) {
						next[i+1] = true
					}
				}
			}
		default:
			for i := 0; i < len(s); i++ {
				if cur[i] && s[i] == t.r {
					next[i+1] = true
				}
			}
		}
		cur, next = next, cur
	}
	return cur[len(s)]
}
