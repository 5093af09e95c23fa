package iam

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

type check struct {
	action, resource string
	want             Decision
}

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func runChecks(t *testing.T, p *Policy, checks []check) {
	t.Helper()
	for _, c := range checks {
		if got := p.Decide(c.action, c.resource); got != c.want {
			t.Errorf("Decide(%q, %q) = %v, want %v", c.action, c.resource, got, c.want)
		}
		if got, want := p.Allows(c.action, c.resource), c.want == Allowed; got != want {
			t.Errorf("Allows(%q, %q) = %v, want %v", c.action, c.resource, got, want)
		}
	}
}

const imageARN = "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0"

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		checks []check
	}{
		{
			name: "action prefix wildcard",
			doc:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`,
			checks: []check{
				{"ec2:DescribeImages", "*", Allowed},
				{"ec2:DescribeImageAttribute", imageARN, Allowed},
				{"ec2:Describe", "*", Allowed},
				{"ec2:CreateImage", "*", ImplicitDeny},
				{"ec2:XDescribeImages", "*", ImplicitDeny},
				{"iam:DescribeImages", "*", ImplicitDeny},
			},
		},
		{
			name: "action names ignore case, in the document and in the call",
			doc:  `{"Statement":{"Effect":"Allow","Action":["EC2:describeIMAGES","ec2:copy?MAGE"],"Resource":"*"}}`,
			checks: []check{
				{"ec2:DescribeImages", "*", Allowed},
				{"ec2:describeimages", "*", Allowed},
				{"EC2:DESCRIBEIMAGES", "*", Allowed},
				{"ec2:CopyImage", "*", Allowed},
				{"ec2:copyimage", "*", Allowed},
				{"ec2:DescribeImage", "*", ImplicitDeny},
			},
		},
		{
			name: "resource wildcards are case-sensitive",
			doc:  `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:ec2:*::image/ami-*"}]}`,
			checks: []check{
				{"ec2:DescribeImages", imageARN, Allowed},
				{"ec2:DescribeImages", "arn:aws:ec2:eu-west-1::image/ami-1", Allowed},
				{"ec2:DescribeImages", "arn:aws:ec2:us-east-1::IMAGE/ami-1", ImplicitDeny},
				{"ec2:DescribeImages", "arn:aws:ec2:us-east-1::image/AMI-1", ImplicitDeny},
				{"ec2:DescribeImages", "arn:aws:ec2:us-east-1::snapshot/snap-1", ImplicitDeny},
				{"ec2:DescribeImages", "*", ImplicitDeny},
			},
		},
		{
			name: "question mark is exactly one character",
			doc:  `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":["arn:aws:ec2:us-east-?::image/*", "x?y"]}]}`,
			checks: []check{
				{"ec2:A", "arn:aws:ec2:us-east-1::image/ami-1", Allowed},
				{"ec2:A", "arn:aws:ec2:us-east-::image/ami-1", ImplicitDeny},
				{"ec2:A", "arn:aws:ec2:us-east-12::image/ami-1", ImplicitDeny},
				{"ec2:A", "xéy", Allowed}, // a character, not a byte
				{"ec2:A", "xy", ImplicitDeny},
			},
		},
		{
			name: "explicit deny beats allow regardless of order",
			doc: `{"Statement":[
				{"Effect":"Allow","Action":"*","Resource":"*"},
				{"Sid":"NoDeregister","Effect":"Deny","Action":"ec2:DeregisterImage","Resource":"*"}]}`,
			checks: []check{
				{"ec2:DescribeImages", imageARN, Allowed},
				{"ec2:DeregisterImage", imageARN, ExplicitDeny},
				{"ec2:deregisterimage", "*", ExplicitDeny},
			},
		},
		{
			name: "deny alone is still a deny, unmatched calls default-deny",
			doc:  `{"Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}`,
			checks: []check{
				{"ec2:DescribeImages", "*", ExplicitDeny},
				{"s3:GetObject", "*", ImplicitDeny},
			},
		},
		{
			name: "NotAction allows everything but the listed actions",
			doc:  `{"Statement":[{"Effect":"Allow","NotAction":["ec2:Deregister*","ec2:Delete*"],"Resource":"*"}]}`,
			checks: []check{
				{"ec2:DescribeImages", "*", Allowed},
				{"ec2:DeregisterImage", "*", ImplicitDeny},
				{"ec2:deleteSnapshot", "*", ImplicitDeny},
			},
		},
		{
			name: "NotResource with Deny protects everything but one image",
			doc: `{"Statement":[
				{"Effect":"Allow","Action":"ec2:*","Resource":"*"},
				{"Effect":"Deny","Action":"ec2:ModifyImageAttribute","NotResource":"arn:aws:ec2:*::image/ami-sandbox"}]}`,
			checks: []check{
				{"ec2:ModifyImageAttribute", "arn:aws:ec2:us-east-1::image/ami-sandbox", Allowed},
				{"ec2:ModifyImageAttribute", imageARN, ExplicitDeny},
				{"ec2:DescribeImages", imageARN, Allowed},
			},
		},
		{
			name: "several allows: any one is enough",
			doc: `{"Statement":[
				{"Effect":"Allow","Action":"ec2:DescribeImages","Resource":"*"},
				{"Effect":"Allow","Action":"ec2:CreateTags","Resource":["arn:aws:ec2:*::image/*","arn:aws:ec2:*::snapshot/*"]}]}`,
			checks: []check{
				{"ec2:DescribeImages", "*", Allowed},
				{"ec2:CreateTags", "arn:aws:ec2:us-east-1::snapshot/snap-1", Allowed},
				{"ec2:CreateTags", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", ImplicitDeny},
				{"ec2:DescribeSnapshots", "*", ImplicitDeny},
			},
		},
		{
			name: "stars in the middle backtrack",
			doc:  `{"Statement":[{"Effect":"Allow","Action":"ec2:*Image*","Resource":"a*b*c"}]}`,
			checks: []check{
				{"ec2:DescribeImageAttribute", "abc", Allowed},
				{"ec2:CopyImage", "aXbYbZc", Allowed},
				{"ec2:Image", "abbc", Allowed},
				{"ec2:CopyImage", "aXbYcZ", ImplicitDeny},
				{"ec2:DescribeSnapshots", "abc", ImplicitDeny},
			},
		},
		{
			name: "the 2008 version and Id are accepted",
			doc:  `{"Version":"2008-10-17","Id":"p1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			checks: []check{
				{"ec2:AnyThing", "anything", Allowed},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runChecks(t, mustParse(t, tt.doc), tt.checks)
		})
	}
}

func TestNilPolicyAllowsEverything(t *testing.T) {
	var p *Policy
	runChecks(t, p, []check{
		{"ec2:DeregisterImage", imageARN, Allowed},
		{"", "", Allowed},
	})
}

// A statement given as one object and as a one-element list, with values as
// strings and as lists, must all compile to the same decisions.
func TestEquivalentShapes(t *testing.T) {
	docs := []string{
		`{"Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`,
		`{"Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":["ec2:Describe*"],"Resource":["*"]}]}`,
		`{"Statement":{"Effect":"Allow","Action":["ec2:Describe*"],"Resource":"*"}}`,
	}
	checks := []check{
		{"ec2:DescribeImages", imageARN, Allowed},
		{"ec2:CreateImage", imageARN, ImplicitDeny},
	}
	for _, doc := range docs {
		t.Run(doc, func(t *testing.T) { runChecks(t, mustParse(t, doc), checks) })
	}
}

func TestFromValue(t *testing.T) {
	allowDescribe := []check{
		{"ec2:DescribeImages", "*", Allowed},
		{"ec2:CreateImage", "*", ImplicitDeny},
	}
	tests := []struct {
		name string
		v    any
	}{
		{"map[string]any as go.yaml.in/yaml/v3 decodes it", map[string]any{
			"Version":   "2012-10-17",
			"Statement": []any{map[string]any{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}},
		}},
		{"map[any]any", map[any]any{
			"Statement": map[any]any{"Effect": "Allow", "Action": []any{"ec2:Describe*"}, "Resource": "*"},
		}},
		{"string holding JSON", `{"Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`},
		{"bytes holding JSON", []byte(`{"Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`)},
		{"[]string values built in Go", map[string]any{
			"Statement": map[string]any{"Effect": "Allow", "Action": []string{"ec2:Describe*"}, "Resource": []string{"*"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FromValue(tt.v)
			if err != nil {
				t.Fatalf("FromValue: %v", err)
			}
			runChecks(t, p, allowDescribe)
		})
	}
}

func TestBadDocuments(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // substring of the error
	}{
		{"not JSON", `{"Statement":`, "not valid JSON"},
		{"trailing data", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} {}`, "trailing data"},
		{"not an object", `["Allow"]`, "must be an object, got a list"},
		{"null", `null`, "must be an object, got null"},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement"},
		{"empty statement list", `{"Statement":[]}`, "empty Statement list"},
		{"statement is a string", `{"Statement":"Allow"}`, "Statement[0]: must be an object, got a string"},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "Version 2020-01-01"},
		{"version is a number", `{"Version":2012,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "Version 2012"},
		{"unknown top-level element", `{"Statment":[]}`, `unknown element "Statment"`},
		{"unknown statement element", `{"Statement":{"Effect":"Allow","Action":"*","Resouce":"*"}}`, `unknown element "Resouce"`},
		{"condition", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"Cond","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			`Statement[1] (Sid "Cond"): Condition is not supported`},
		{"principal", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, "Principal is not supported"},
		{"not principal", `{"Statement":{"Effect":"Allow","NotPrincipal":"*","Action":"*","Resource":"*"}}`, "NotPrincipal is not supported"},
		{"missing effect", `{"Statement":{"Action":"*","Resource":"*"}}`, "missing Effect"},
		{"lower-case effect", `{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, "Effect allow is not Allow or Deny"},
		{"missing action", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, "needs Action or NotAction"},
		{"action and not action", `{"Statement":{"Effect":"Allow","Action":"*","NotAction":"ec2:X","Resource":"*"}}`, "both Action and NotAction"},
		{"missing resource", `{"Statement":{"Effect":"Allow","Action":"*"}}`, "needs Resource or NotResource"},
		{"resource and not resource", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"x"}}`, "both Resource and NotResource"},
		{"empty action list", `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, "Action: is an empty list"},
		{"action is a number", `{"Statement":{"Effect":"Allow","Action":7,"Resource":"*"}}`, "Action: must be a string or a list of strings, got a number"},
		{"non-string in list", `{"Statement":{"Effect":"Allow","Action":"*","Resource":["*",true]}}`, "Resource: element 1 must be a string, got a boolean"},
		{"empty action", `{"Statement":{"Effect":"Allow","Action":"","Resource":"*"}}`, `Action "": is empty`},
		{"action without service", `{"Statement":{"Effect":"Allow","Action":"DescribeImages","Resource":"*"}}`, `is not "*" or "service:Action"`},
		{"empty resource", `{"Statement":{"Effect":"Allow","Action":"*","Resource":""}}`, `Resource "": is empty`},
		{"policy variable", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"arn:aws:ec2:*::image/${aws:username}"}}`, "policy variables are not supported"},
		{"duplicate sid", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, `Statement[1] repeats the Sid "A" of Statement[0]`},
		{"sid is a number", `{"Statement":{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}}`, "Sid must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse(%s) = %v, nil; want error containing %q", tt.doc, p, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%s) error = %q, want it to contain %q", tt.doc, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "iam: ") {
				t.Errorf("error %q lacks the iam: prefix", err)
			}
		})
	}
}

func TestFromValueRejectsOtherTypes(t *testing.T) {
	for _, v := range []any{nil, 42, []any{}, map[any]any{1: "x"}} {
		if _, err := FromValue(v); err == nil {
			t.Errorf("FromValue(%#v) succeeded, want error", v)
		}
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{ImplicitDeny: "ImplicitDeny", Allowed: "Allowed", ExplicitDeny: "ExplicitDeny", 9: "Decision(9)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", d, got, want)
		}
	}
}

// globRegexp is the obvious, slow reference for glob.
func globRegexp(p string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	if fold {
		b.WriteString("(?i)")
	}
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString("(?s:.*)")
		case '?':
			b.WriteString("(?s:.)")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func TestPatternMatchesReference(t *testing.T) {
	patterns := []string{"*", "**", "a", "a*", "*a", "a*b", "a?b", "*a*", "a**b", "?", "??", "?*", "*?", "a*b*c", "é?", "*é", "ab*ab", "*ab*ab*"}
	inputs := []string{"", "a", "b", "ab", "aab", "abb", "axb", "abc", "aXbYc", "é", "éx", "xé", "ababab", "abab", "a\nb"}
	for _, p := range patterns {
		for _, fold := range []bool{false, true} {
			cp := compilePattern(p, fold)
			re := globRegexp(p, false)
			for _, s := range inputs {
				in := s
				if fold {
					// Folding is ASCII only: action names are ASCII.
					in = strings.Map(func(r rune) rune {
						if 'a' <= r && r <= 'z' {
							return r - 'a' + 'A'
						}
						return r
					}, s)
				}
				want := re.MatchString(s)
				if got := cp.match(in); got != want {
					t.Errorf("pattern %q (fold %v) on %q = %v, want %v", p, fold, in, got, want)
				}
			}
		}
	}
}

func FuzzGlob(f *testing.F) {
	f.Add("a*b?c", "aXXbYc")
	f.Add("*é?", "ééé")
	f.Add("arn:aws:ec2:*::image/ami-*", imageARN)
	f.Fuzz(func(t *testing.T, p, s string) {
		if !utf8.ValidString(p) || !utf8.ValidString(s) {
			t.Skip() // the reference regexp works on runes
		}
		cp := compilePattern(p, false)
		if p == "" {
			return // never compiled: Parse rejects empty values
		}
		if got, want := cp.match(s), globRegexp(p, false).MatchString(s); got != want {
			t.Fatalf("pattern %q on %q = %v, want %v", p, s, got, want)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(`{"Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`, "ec2:DescribeImages", "*")
	f.Add(`{"Statement":[{"Effect":"Deny","NotAction":"a:?","NotResource":["x*"]}]}`, "a:b", "y")
	f.Fuzz(func(t *testing.T, doc, action, resource string) {
		p, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		d := p.Decide(action, resource)
		if d != Allowed && d != ImplicitDeny && d != ExplicitDeny {
			t.Fatalf("Decide returned %v", d)
		}
	})
}

func BenchmarkDecide(b *testing.B) {
	p := mustParse(b, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ec2:Describe*","ec2:CopyImage","ec2:CreateTags"],"Resource":"*"},
		{"Effect":"Allow","Action":"ec2:*Image*","Resource":"arn:aws:ec2:*::image/ami-*"},
		{"Effect":"Deny","Action":"ec2:DeregisterImage","Resource":"arn:aws:ec2:*::image/ami-prod*"}]}`)
	cases := []struct{ name, action, resource string }{
		{"prefix allow", "ec2:DescribeImages", "*"},
		{"glob allow", "ec2:ModifyImageAttribute", imageARN},
		{"default deny", "ec2:RunInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-1"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Decide(c.action, c.resource)
			}
		})
	}
}
