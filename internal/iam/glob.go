package iam

import (
	"strings"
	"unicode/utf8"
)

// pattern is one Action or Resource value, classified at Parse time so that
// the common shapes ("*", "ec2:Describe*", an exact ARN) never reach the
// general matcher.
type pattern struct {
	kind patternKind
	// text is the pattern; for case-insensitive patterns it is lower-cased
	// (ASCII) once here so Decide only folds the input.
	text string
	fold bool
}

type patternKind uint8

const (
	matchAll    patternKind = iota // only stars
	matchExact                     // no wildcard
	matchPrefix                    // literal followed by one trailing star
	matchGlob                      // anything else
)

// compilePattern classifies s. fold makes the match ASCII case-insensitive,
// which is enough for action names (service prefixes and API names are ASCII).
func compilePattern(s string, fold bool) pattern {
	if fold {
		s = lowerASCII(s)
	}
	p := pattern{text: s, fold: fold}
	switch i := strings.IndexAny(s, "*?"); {
	case strings.Trim(s, "*") == "" && s != "":
		p.kind = matchAll
	case i < 0:
		p.kind = matchExact
	case i == len(s)-1 && s[i] == '*':
		p.kind = matchPrefix
		p.text = s[:i]
	default:
		p.kind = matchGlob
	}
	return p
}

func (p *pattern) match(s string) bool {
	switch p.kind {
	case matchAll:
		return true
	case matchExact:
		return len(s) == len(p.text) && hasPrefix(s, p.text, p.fold)
	case matchPrefix:
		return hasPrefix(s, p.text, p.fold)
	default:
		return glob(p.text, s, p.fold)
	}
}

// glob reports whether s matches the pattern p, where '*' matches any run of
// characters and '?' exactly one. It backtracks only to the last star, so it
// runs in O(len(p)*len(s)) at worst and never allocates. '?' and the star
// step over whole UTF-8 sequences: IAM counts characters, not bytes.
func glob(p, s string, fold bool) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			default:
				if sx < len(s) && equalByte(c, s[sx], fold) {
					px++
					sx++
					continue
				}
			}
		}
		// Mismatch: let the last star swallow one more character and retry.
		if starP >= 0 && starS < len(s) {
			_, n := utf8.DecodeRuneInString(s[starS:])
			starS += n
			px, sx = starP+1, starS
			continue
		}
		return false
	}
	return true
}

// hasPrefix reports whether s starts with prefix; with fold, prefix is
// already lower case and s is folded byte by byte.
func hasPrefix(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if !fold {
		return s[:len(prefix)] == prefix
	}
	for i := 0; i < len(prefix); i++ {
		if !equalByte(prefix[i], s[i], true) {
			return false
		}
	}
	return true
}

// equalByte compares a pattern byte with an input byte; with fold the
// pattern byte is lower case already.
func equalByte(pc, sc byte, fold bool) bool {
	if fold && 'A' <= sc && sc <= 'Z' {
		sc += 'a' - 'A'
	}
	return pc == sc
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
