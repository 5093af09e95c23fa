package resource

import (
	"errors"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

func codeOf(err error) string {
	var e *awserr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "non-EC2 error: " + err.Error()
	}
	return ""
}

func TestPattern(t *testing.T) {
	cases := []struct {
		pattern, value string
		want           bool
	}{
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"a*", "a", true},
		{"a*", "abcdef", true},
		{"*c", "abc", true},
		{"a?c", "abc", true},
		{"a?c", "ac", true}, // ? is zero or one character
		{"a?c", "abbc", false},
		{"al2023-ami-*-x86_64", "al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64", true},
		{"al2023-ami-*-x86_64", "al2023-ami-2023.6.20241010.0-kernel-6.1-arm64", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\?`, "a?", true},
		{`a\\`, `a\`, true},
		{"2021-09-29T*", "2021-09-29T10:00:00.000Z", true},
		{"*", "", true},
		{"**?*", "x", true},
		{"ü*", "über", true},
	}
	for _, tc := range cases {
		if got := CompilePattern(tc.pattern).Match(tc.value); got != tc.want {
			t.Errorf("%q ~ %q = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
	if p, ok := CompilePattern("web-*").Prefix(); !ok || p != "web-" {
		t.Errorf("prefix of web-* = %q %v", p, ok)
	}
	if _, ok := CompilePattern("web-*-x").Prefix(); ok {
		t.Error("web-*-x is not a prefix pattern")
	}
}

func TestPageTokens(t *testing.T) {
	s := NewPages([]byte("k1"))
	tok := s.seal("ami-0123", 42)
	if after, err := s.open(tok, 42); err != nil || after != "ami-0123" {
		t.Fatalf("round trip: %q %v", after, err)
	}
	if _, err := s.open(tok, 43); codeOf(err) != "InvalidParameterValue" {
		t.Fatalf("token reused with other criteria: %v", err)
	}
	other := NewPages([]byte("k2"))
	if _, err := other.open(tok, 42); codeOf(err) != "InvalidParameterValue" {
		t.Fatalf("foreign token: %v", err)
	}
	for _, bad := range []string{"", "!!!", tok[:len(tok)-2], tok + "A"} {
		if _, err := s.open(bad, 42); codeOf(err) != "InvalidParameterValue" {
			t.Errorf("bad token %q: %v", bad, err)
		}
	}
}

// FuzzPattern: any filter value compiles and matches without panicking, a
// value without wildcards matches exactly itself, and "*" + v + "*" matches v.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"", "*", "?", `\`, `a\*b`, "al2023-ami-*-x86_64", "**??**", "ü?*", `\\*`} {
		f.Add(s, "al2023-ami-2023.6-x86_64")
	}
	f.Fuzz(func(t *testing.T, pat, value string) {
		p := CompilePattern(pat)
		_ = p.Match(value)
		if !strings.ContainsAny(pat, `*?\`) && !p.Match(pat) {
			t.Fatalf("literal %q does not match itself", pat)
		}
		if !strings.ContainsAny(value, `*?\`) && !CompilePattern("*"+value+"*").Match(value) {
			t.Fatalf("*%s* does not match %q", value, value)
		}
	})
}
