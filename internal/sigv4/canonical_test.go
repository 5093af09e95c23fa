package sigv4

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Values of AWS's SigV4 test suite (aws-sig-v4-test-suite, also shipped in
// aws-c-auth) and of the IAM user guide's worked example.
const (
	suiteKeyID  = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteDate   = "20150830T123600Z"
	suiteScope  = "20150830/us-east-1/service/aws4_request"
)

func lines(s ...string) string { return strings.Join(s, "\n") }

// TestSuiteVectors runs the pure functions on the published requests and
// compares every intermediate form, so a failure names the step that broke.
func TestSuiteVectors(t *testing.T) {
	tests := []struct {
		name          string
		method        string
		path          string // as given to canonicalURI
		rawQuery      string
		host          string
		header        http.Header
		signedHeaders string
		body          string
		scope         string
		service       string

		wantCanonical string
		wantSTSHash   string
		wantSignature string
	}{
		{
			name: "get-vanilla", method: "GET", path: "/", host: "example.amazonaws.com",
			signedHeaders: "host;x-amz-date",
			scope:         suiteScope, service: "service",
			wantCanonical: lines("GET", "/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "",
				"host;x-amz-date", emptyHash),
			wantSTSHash:   "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
			wantSignature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		},
		{
			name: "get-vanilla-query-order-key-case", method: "GET", path: "/", host: "example.amazonaws.com",
			rawQuery:      "Param2=value2&Param1=value1",
			signedHeaders: "host;x-amz-date",
			scope:         suiteScope, service: "service",
			wantCanonical: lines("GET", "/", "Param1=value1&Param2=value2", "host:example.amazonaws.com",
				"x-amz-date:20150830T123600Z", "", "host;x-amz-date", emptyHash),
			wantSignature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
		},
		{
			name: "get-utf8", method: "GET", path: "/ሴ", host: "example.amazonaws.com",
			signedHeaders: "host;x-amz-date",
			scope:         suiteScope, service: "service",
			wantCanonical: lines("GET", "/%E1%88%B4", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "",
				"host;x-amz-date", emptyHash),
			wantSTSHash:   "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
			wantSignature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
		},
		{
			name: "post-vanilla", method: "POST", path: "/", host: "example.amazonaws.com",
			signedHeaders: "host;x-amz-date",
			scope:         suiteScope, service: "service",
			wantCanonical: lines("POST", "/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "",
				"host;x-amz-date", emptyHash),
			wantSignature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
		},
		{
			name: "post-x-www-form-urlencoded", method: "POST", path: "/", host: "example.amazonaws.com",
			header:        http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			signedHeaders: "content-type;host;x-amz-date",
			body:          "Param1=value1",
			scope:         suiteScope, service: "service",
			wantCanonical: lines("POST", "/", "", "content-type:application/x-www-form-urlencoded",
				"host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "content-type;host;x-amz-date",
				"9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"),
			wantSTSHash:   "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
			wantSignature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
		},
		{
			name: "get-header-key-duplicate", method: "GET", path: "/", host: "example.amazonaws.com",
			header:        http.Header{"My-Header1": {"value2", "value2", "value1"}},
			signedHeaders: "host;my-header1;x-amz-date",
			scope:         suiteScope, service: "service",
			wantCanonical: lines("GET", "/", "", "host:example.amazonaws.com", "my-header1:value2,value2,value1",
				"x-amz-date:20150830T123600Z", "", "host;my-header1;x-amz-date", emptyHash),
			wantSTSHash:   "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
			wantSignature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
		},
		{
			// The IAM user guide's example: a GET with the action in the query.
			name: "iam-list-users", method: "GET", path: "/", host: "iam.amazonaws.com",
			rawQuery:      "Action=ListUsers&Version=2010-05-08",
			header:        http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
			signedHeaders: "content-type;host;x-amz-date",
			scope:         "20150830/us-east-1/iam/aws4_request", service: "iam",
			wantCanonical: lines("GET", "/", "Action=ListUsers&Version=2010-05-08",
				"content-type:application/x-www-form-urlencoded; charset=utf-8", "host:iam.amazonaws.com",
				"x-amz-date:20150830T123600Z", "", "content-type;host;x-amz-date", emptyHash),
			wantSTSHash:   "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
			wantSignature: "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set("X-Amz-Date", suiteDate)
			r := &http.Request{Method: tc.method, Host: tc.host, Header: h,
				URL: &url.URL{Path: tc.path, RawQuery: tc.rawQuery}}
			params, ok := parseQuery(tc.rawQuery)
			if !ok {
				t.Fatalf("parseQuery(%q) failed", tc.rawQuery)
			}
			creq := canonicalRequest(tc.method, canonicalURI(tc.path), canonicalQuery(params, ""),
				r, tc.signedHeaders, hashHex([]byte(tc.body)))
			if diff := cmp.Diff(tc.wantCanonical, creq); diff != "" {
				t.Fatalf("canonical request (-want +got):\n%s", diff)
			}
			sts := stringToSign(suiteDate, tc.scope, creq)
			if tc.wantSTSHash != "" {
				want := lines(Algorithm, suiteDate, tc.scope, tc.wantSTSHash)
				if diff := cmp.Diff(want, sts); diff != "" {
					t.Fatalf("string to sign (-want +got):\n%s", diff)
				}
			}
			date, region, _ := strings.Cut(tc.scope, "/")
			region, _, _ = strings.Cut(region, "/")
			sig := signature(signingKey(suiteSecret, date, region, tc.service), sts)
			if got := hex.EncodeToString(sig); got != tc.wantSignature {
				t.Fatalf("signature = %s, want %s", got, tc.wantSignature)
			}
			if !signatureMatches(tc.wantSignature, sig) {
				t.Fatal("signatureMatches rejected the published signature")
			}
		})
	}
}

func TestSigningKeyVectors(t *testing.T) {
	tests := []struct{ date, region, service, want string }{
		// IAM user guide, "Examples of how to derive a signing key".
		{"20120215", "us-east-1", "iam", "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"},
		// IAM user guide, "Calculate the signature".
		{"20150830", "us-east-1", "iam", "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"},
	}
	for _, tc := range tests {
		got := hex.EncodeToString(signingKey(suiteSecret, tc.date, tc.region, tc.service))
		if got != tc.want {
			t.Errorf("signingKey(%s, %s, %s) = %s, want %s", tc.date, tc.region, tc.service, got, tc.want)
		}
	}
}

func TestSignatureMatches(t *testing.T) {
	want, _ := hex.DecodeString("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	tests := []struct {
		name     string
		provided string
		ok       bool
	}{
		{"same", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", true},
		{"last digit differs", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30", false},
		{"upper-case hex", "5FA00FA31553B73EBF1942676E86291E8372FF2A2260956D9B8AAE1D763FBF31", false},
		{"short", "5fa00fa3", false},
		{"long", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf3100", false},
		{"not hex", "zfa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		if got := signatureMatches(tc.provided, want); got != tc.ok {
			t.Errorf("%s: signatureMatches = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct {
		name, raw, exclude, want string
	}{
		{"empty", "", "", ""},
		{"sorted by name then value", "b=2&a=2&a=1", "", "a=1&a=2&b=2"},
		{"case-sensitive order", "b=1&B=1&a=1", "", "B=1&a=1&b=1"},
		// '/' sorts after '-' but its escape '%2F' sorts before: sort after encoding.
		{"sorted after encoding", "k=a-b&k=a/b", "", "k=a%2Fb&k=a-b"},
		{"RFC 3986 set kept", "k=AZaz09-_.~", "", "k=AZaz09-_.~"},
		{"space as %20", "k=a%20b", "", "k=a%20b"},
		{"plus read as space", "k=a+b", "", "k=a%20b"},
		{"encoded plus stays plus", "k=a%2Bb", "", "k=a%2Bb"},
		{"reserved characters escaped, upper-case hex", "k=%2a%3d%26%3b", "", "k=%2A%3D%26%3B"},
		{"raw characters escaped", "k=!*'();:@$,[]", "", "k=%21%2A%27%28%29%3B%3A%40%24%2C%5B%5D"},
		{"utf-8", "k=%C3%A9", "", "k=%C3%A9"},
		{"name without value", "flag&a=1", "", "a=1&flag="},
		{"empty pairs skipped", "&&a=1&&", "", "a=1"},
		{"value with equals", "k=a=b", "", "k=a%3Db"},
		{"excluded name", "X-Amz-Signature=abc&a=1", ParamSignature, "a=1"},
		{"exclusion is exact", "x-amz-signature=abc&a=1", ParamSignature, "a=1&x-amz-signature=abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params, ok := parseQuery(tc.raw)
			if !ok {
				t.Fatalf("parseQuery(%q) failed", tc.raw)
			}
			if got := canonicalQuery(params, tc.exclude); got != tc.want {
				t.Errorf("canonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestParseQueryRejectsBadEscapes(t *testing.T) {
	for _, raw := range []string{"a=%zz", "%=1", "a=%4", "a%g0=1"} {
		if _, ok := parseQuery(raw); ok {
			t.Errorf("parseQuery(%q) succeeded, want failure", raw)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/a/b", "/a/b"},
		// An escaped path is escaped again, as the SDKs do for every service but S3.
		{"/a%20b", "/a%2520b"},
		{"/a b", "/a%20b"},
		{"/~._-", "/~._-"},
	}
	for _, tc := range tests {
		if got := canonicalURI(tc.in); got != tc.want {
			t.Errorf("canonicalURI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := &http.Request{
		Host: "127.0.0.1:4566",
		URL:  &url.URL{Path: "/", Host: "ignored.example"},
		Header: http.Header{
			"My-Header1":   {"  a   b   c  "},
			"My-Header2":   {`"a   b   c"`},
			"My-Header3":   {"one", " two "},
			"X-Amz-Date":   {"20150830T123600Z"},
			"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"},
		},
		ContentLength:    13,
		TransferEncoding: []string{"chunked"},
	}
	got := canonicalHeaders(r, "content-length;content-type;host;my-header1;my-header2;my-header3;missing;transfer-encoding;x-amz-date")
	want := lines(
		"content-length:13",
		"content-type:application/x-www-form-urlencoded; charset=utf-8",
		"host:127.0.0.1:4566",
		"my-header1:a b c",
		`my-header2:"a b c"`,
		"my-header3:one,two",
		"missing:",
		"transfer-encoding:chunked",
		"x-amz-date:20150830T123600Z",
		"")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("canonicalHeaders (-want +got):\n%s", diff)
	}

	// A Content-Length header as received wins over the field.
	r.Header.Set("Content-Length", "13")
	r.ContentLength = -1
	if got := canonicalHeaders(r, "content-length"); got != "content-length:13\n" {
		t.Errorf("content-length from header = %q", got)
	}
	// Without r.Host the URL's host is used.
	r.Host = ""
	if got := canonicalHeaders(r, "host"); got != "host:ignored.example\n" {
		t.Errorf("host from URL = %q", got)
	}
}

func TestParseCredential(t *testing.T) {
	got, err := parseCredential("AKID/20260215/us-east-1/ec2/aws4_request")
	if err != nil {
		t.Fatal(err)
	}
	want := credentialScope{accessKeyID: "AKID", date: "20260215", region: "us-east-1", service: "ec2",
		scope: "20260215/us-east-1/ec2/aws4_request"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(credentialScope{})); diff != "" {
		t.Errorf("parseCredential (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "a", "a/b/c/d", "a/b/c/d/aws4_request/f", "a/b/c/d/e"} {
		if _, err := parseCredential(bad); err == nil || err.Code != "IncompleteSignature" {
			t.Errorf("parseCredential(%q) = %v, want IncompleteSignature", bad, err)
		}
	}
}

func TestValidRegion(t *testing.T) {
	for _, ok := range []string{"us-east-1", "eu-central-1", "us-gov-west-1", "cn-north-1", "ap-southeast-2", "il-central-1"} {
		if !validRegion(ok) {
			t.Errorf("validRegion(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "us-east", "useast-1", "US-EAST-1", "us-east-1a", "us--east-1", "u-east-1",
		"us-1", "us-east-", "-east-1", "us-east1-1", "moon", "us-e@st-1", "us-east-1-", "aws-global"} {
		if validRegion(bad) {
			t.Errorf("validRegion(%q) = true", bad)
		}
	}
}

func TestParseAmzDate(t *testing.T) {
	if got, ok := parseAmzDate("20150830T123600Z"); !ok || got.Format(amzDateLayout) != "20150830T123600Z" {
		t.Errorf("parseAmzDate(valid) = %v, %v", got, ok)
	}
	for _, bad := range []string{"", "20150830", "2015-08-30T12:36:00Z", "20150830T123600", "20150830T1236000",
		"20150830t123600Z", "20151330T123600Z", "20150830T253600Z", "2015083OT123600Z", "20150830T 93600Z"} {
		if _, ok := parseAmzDate(bad); ok {
			t.Errorf("parseAmzDate(%q) accepted", bad)
		}
	}
	if got, ok := parseDateHeader("Sun, 30 Aug 2015 12:36:00 GMT"); !ok || got.Format(amzDateLayout) != "20150830T123600Z" {
		t.Errorf("parseDateHeader(RFC 1123) = %v, %v", got, ok)
	}
}

func TestIsAuthParam(t *testing.T) {
	for _, n := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
		"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} {
		if !IsAuthParam(n) {
			t.Errorf("IsAuthParam(%q) = false", n)
		}
	}
	for _, n := range []string{"Action", "Version", "x-amz-date", "X-Amz-Target", "AWSAccessKeyId", "Signature", ""} {
		if IsAuthParam(n) {
			t.Errorf("IsAuthParam(%q) = true", n)
		}
	}
}
