package region

import (
	"github.com/amigo-ec2/amigo/internal/awserr"
)

// This is a minimal copy of the EC2 filter rules of internal/image (values
// OR-ed, filters AND-ed, '*' any run, '?' zero or one character, '\'
// escapes), kept here until a shared filter compiler exists.

// Filter is one Filter.N of a Describe call.
type Filter struct {
	Name   string
	Values []string
}

// Limits EC2 puts on filters (FilterLimitExceeded).
const (
	maxFilters         = 50
	maxValuesPerFilter = 200
)

type compiled[R any] struct {
	field    func(R) []string
	patterns []string
}

func compile[R any](fs []Filter, fields map[string]func(R) []string) ([]compiled[R], error) {
	if len(fs) > maxFilters {
		return nil, awserr.Newf(awserr.CodeFilterLimitExceeded, "The maximum number of filters (%d) has been exceeded.", maxFilters)
	}
	out := make([]compiled[R], 0, len(fs))
	for _, f := range fs {
		if f.Name == "" {
			return nil, awserr.InvalidParameterValue("The filter 'null' is invalid")
		}
		fd, ok := fields[f.Name]
		if !ok {
			return nil, awserr.InvalidParameterValue("The filter '%s' is invalid", f.Name)
		}
		if len(f.Values) > maxValuesPerFilter {
			return nil, awserr.Newf(awserr.CodeFilterLimitExceeded, "The maximum number of filter values specified on a single call is %d", maxValuesPerFilter)
		}
		out = append(out, compiled[R]{field: fd, patterns: f.Values})
	}
	return out, nil
}

func matchAll[R any](fs []compiled[R], r R) bool {
	for _, f := range fs {
		hit := false
		for _, v := range f.field(r) {
			for _, p := range f.patterns {
				if glob([]rune(p), []rune(v)) {
					hit = true
				}
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// glob matches EC2 filter wildcards by dynamic programming over the
// positions of s, so no pattern can make it backtrack.
func glob(p, s []rune) bool {
	cur := make([]bool, len(s)+1)
	next := make([]bool, len(s)+1)
	cur[0] = true
	for i := 0; i < len(p); i++ {
		clear(next)
		switch c := p[i]; {
		case c == '*':
			seen := false
			for j := range cur {
				seen = seen || cur[j]
				next[j] = seen
			}
		case c == '?':
			for j := range cur {
				if cur[j] {
					next[j] = true
					if j < len(s) {
						next[j+1] = true
					}
				}
			}
		default:
			if c == '\\' && i+1 < len(p) {
				i++
				c = p[i]
			}
			for j := 0; j < len(s); j++ {
				if cur[j] && s[j] == c {
					next[j+1] = true
				}
			}
		}
		cur, next = next, cur
	}
	return cur[len(s)]
}
