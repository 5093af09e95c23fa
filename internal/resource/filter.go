package resource

import (
	"strings"
	"unicode/utf8"

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

	// MaxFilterValueChars bounds one value, in characters (runes): four
	// times the longest text a filter compares (tag values 256,
	// descriptions 255, names 128), so every real value fits while what a
	// request makes amigo compile and match stays small. EC2 documents no
	// such bound; past it amigo answers InvalidParameterValue.
	MaxFilterValueChars = 1024
	// MaxFilterWildcards bounds the unescaped * and ? of one value: a value
	// made only of wildcards and as long as the longest compared text (256)
	// still passes. Matching is linear anyway; the bound keeps the '?'
	// automaton small.
	MaxFilterWildcards = 256
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
// kind does not know, or none; a value past MaxFilterValueChars or
// MaxFilterWildcards).
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
			if err := checkFilterValue(name, v); err != nil {
				return nil, err
			}
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

// checkFilterValue applies the bounds on one value. The wording is
// EC2-style (EC2 publishes none for this): it names the filter and the
// bound, and does not echo a value that may be huge.
func checkFilterValue(name, v string) error {
	if len(v) > MaxFilterValueChars && utf8.RuneCountInString(v) > MaxFilterValueChars {
		return awserr.InvalidParameterValue("The filter '%s' has a value longer than %d characters.", name, MaxFilterValueChars)
	}
	if wildcards(v) > MaxFilterWildcards {
		return awserr.InvalidParameterValue("The filter '%s' has a value with more than %d wildcards.", name, MaxFilterWildcards)
	}
	return nil
}

// wildcards counts the unescaped * and ? of a value.
func wildcards(v string) int {
	n := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++ // an escaped character is literal
		case '*', '?':
			n++
		}
	}
	return n
}
