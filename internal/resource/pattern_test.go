package resource

import (
	"strings"
	"testing"
)

// matchTokens is the matcher Pattern used before: dynamic programming
// over positions, O(len(tokens)·len(s)). It stays as the oracle the
// linear matcher is checked against.
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

// oracle matches as the old Pattern.Match did.
func oracle(p Pattern, s string) bool {
	if !p.wild {
		return s == p.literal
	}
	return matchTokens(p.tokens, []rune(s))
}

func TestPatternMatch(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true},
		{"?", "", true},
		{"?", "a", true},
		{"?", "ab", false},
		{"a?c", "ac", true},
		{"a?c", "abc", true},
		{"a?c", "abbc", false},
		{"a??c", "abbc", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"*ab?c*", "abxabdc", true},
		{"ab*?c", "abc", true},
		{"al2023-ami-*-x86_64", "al2023-ami-2023.6-x86_64", true},
		{"al2023-ami-*-x86_64", "al2023-ami-2023.6-arm64", false},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{`a\?*`, "a?zz", true},
		{`\\*`, `\x`, true},
		{"ü?*", "üé", true},
		{"?ü", "éü", true},
		{"*\xff?", "a\xfeb", true},
		{"*\xff?c", "a\xfeb", false},
		{"*\xff", "a\xfe", true}, // both invalid bytes are U+FFFD
		{"?", "\xff", true},
		{"*aaa?b", "aaaaab", true},
		{"*a?a?a", "aaaaaa", true},
	}
	for _, tc := range cases {
		p := CompilePattern(tc.pat)
		if got := p.Match(tc.s); got != tc.want {
			t.Errorf("%q matching %q = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
		if got := oracle(p, tc.s); got != tc.want {
			t.Errorf("oracle: %q matching %q = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

// TestPatternWide covers automata wider than one and four words.
func TestPatternWide(t *testing.T) {
	for _, n := range []int{63, 64, 65, 200, 300} {
		pat := "*" + strings.Repeat("a?", n) + "b*"
		for _, s := range []string{strings.Repeat("a", n) + "b", strings.Repeat("ax", n) + "b", strings.Repeat("a", n-1) + "b", "c" + strings.Repeat("axa", n) + "bc"} {
			p := CompilePattern(pat)
			if got, want := p.Match(s), oracle(p, s); got != want {
				t.Errorf("n=%d %q: got %v, oracle %v", n, s, got, want)
			}
		}
	}
}

// TestPatternRunsAcrossWords: runs of '?' that straddle the automaton's
// 64-bit words, ending on a literal or on the accepting state.
func TestPatternRunsAcrossWords(t *testing.T) {
	for _, lead := range []int{0, 1, 55, 60, 63, 64, 120} {
		for _, run := range []int{1, 4, 9, 70} {
			for _, tail := range []string{"b", ""} {
				pat := strings.Repeat("a", lead) + strings.Repeat("?", run) + tail
				for _, prefix := range []string{"", "*"} {
					p := CompilePattern(prefix + pat + "*")
					for _, gap := range []int{0, 1, run / 2, run, run + 1} {
						s := strings.Repeat("a", lead) + strings.Repeat("x", gap) + tail + "z"
						if got, want := p.Match(s), oracle(p, s); got != want {
							t.Errorf("%q matching %q: got %v, oracle %v", prefix+pat+"*", s, got, want)
						}
					}
				}
			}
		}
	}
}

// FuzzPatternOracle: the linear matcher agrees with the old one.
func FuzzPatternOracle(f *testing.F) {
	for _, s := range []string{"", "*", "?", `\`, `a\*b`, "al2023-ami-*-x86_64", "**??**", "ü?*", `\\*`, "*a?b*c", "?a*?", "*\xff?"} {
		f.Add(s, "al2023-ami-2023.6-x86_64")
		f.Add(s, "aabbcc\xffü")
	}
	f.Fuzz(func(t *testing.T, pat, value string) {
		p := CompilePattern(pat)
		if got, want := p.Match(value), oracle(p, value); got != want {
			t.Fatalf("%q matching %q = %v, oracle says %v", pat, value, got, want)
		}
	})
}

// hostile is the pattern of issue 11: 1,024 characters of "*a" runs
// against a 255-character description.
var (
	hostilePat  = strings.Repeat("*a", 512)
	hostileText = strings.Repeat("ab", 127) + "c"
)

func BenchmarkPatternHostile(b *testing.B) {
	p := CompilePattern(hostilePat)
	b.Run("linear", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.Match(hostileText)
		}
	})
	b.Run("old-dp", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			oracle(p, hostileText)
		}
	})
}

func BenchmarkPatternHostileQuestion(b *testing.B) {
	p := CompilePattern(strings.Repeat("*?a", 341))
	b.Run("linear", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.Match(hostileText)
		}
	})
	b.Run("old-dp", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			oracle(p, hostileText)
		}
	})
}

func BenchmarkPatternTypical(b *testing.B) {
	p := CompilePattern("al2023-ami-2023.*-kernel-6.1-x86_64")
	s := "al2023-ami-2023.6.20240101.0-kernel-6.1-x86_64"
	b.Run("linear", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.Match(s)
		}
	})
	b.Run("old-dp", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			oracle(p, s)
		}
	})
}

// BenchmarkPatternHostileBounded is the worst the bounds let through for
// the '?' automaton: one segment of 256 wildcards and literals, unanchored,
// against a 255-character description.
func BenchmarkPatternHostileBounded(b *testing.B) {
	p := CompilePattern("*" + strings.Repeat("?a", 127) + "c*")
	b.Run("linear", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.Match(hostileText)
		}
	})
	b.Run("old-dp", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			oracle(p, hostileText)
		}
	})
}
