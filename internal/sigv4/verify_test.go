package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"
)

const (
	testKeyID  = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testHost   = "127.0.0.1:4566"
	testBody   = "Action=DescribeImages&Version=2016-11-15&Owner.1=self"
	testQuery  = "Action=DescribeImages&Version=2016-11-15"
	formType   = "application/x-www-form-urlencoded; charset=utf-8"
)

// testNow is the server clock in every test.
var testNow = time.Date(2026, 2, 15, 10, 21, 7, 0, time.UTC)

func testLookup(id string) (string, bool) {
	if id == testKeyID {
		return testSecret, true
	}
	return "", false
}

func testVerifier() *Verifier {
	v := NewVerifier(testLookup)
	v.Now = func() time.Time { return testNow }
	return v
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// req describes a request for the SDK signer; zero fields take the defaults
// of a botocore-style DescribeImages call.
type req struct {
	method, path, query, body string
	at                        time.Time
	keyID, secret, token      string
	region, service           string
	payloadHash               string // "" means the body's hash
	header                    map[string]string
}

func (o req) withDefaults(method string) req {
	if o.method == "" {
		o.method = method
	}
	if o.path == "" {
		o.path = "/"
	}
	if o.at.IsZero() {
		o.at = testNow
	}
	if o.keyID == "" {
		o.keyID = testKeyID
	}
	if o.secret == "" {
		o.secret = testSecret
	}
	if o.region == "" {
		o.region = "us-east-1"
	}
	if o.service == "" {
		o.service = "ec2"
	}
	if o.payloadHash == "" {
		o.payloadHash = sha256Hex(o.body)
	}
	return o
}

func (o req) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: o.keyID, SecretAccessKey: o.secret, SessionToken: o.token}
}

// failBody fails the test if Verify reads r.Body: the server has read it.
type failBody struct{ t testing.TB }

func (b failBody) Read([]byte) (int, error) {
	b.t.Error("Verify read r.Body")
	return 0, io.EOF
}
func (failBody) Close() error { return nil }

// signHeader signs like the SDKs do (Authorization header; POST form body by
// default) and returns the request as a Go server hands it over.
func signHeader(t testing.TB, o req) (*http.Request, []byte) {
	t.Helper()
	if o.body == "" && o.method == "" {
		o.body = testBody
	}
	o = o.withDefaults(http.MethodPost)
	target := "http://" + testHost + o.path
	if o.query != "" {
		target += "?" + o.query
	}
	var body io.Reader
	if o.body != "" {
		body = strings.NewReader(o.body)
	}
	r := httptest.NewRequest(o.method, target, body)
	if o.method == http.MethodPost {
		r.Header.Set("Content-Type", formType)
	}
	for k, v := range o.header {
		r.Header.Set(k, v)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), o.creds(), r, o.payloadHash, o.service, o.region, o.at); err != nil {
		t.Fatal(err)
	}
	r.Body = failBody{t}
	return r, []byte(o.body)
}

// signQuery presigns a GET whose query carries the action parameters.
func signQuery(t testing.TB, o req) *http.Request {
	t.Helper()
	if o.query == "" {
		o.query = testQuery + "&X-Amz-Expires=300"
	}
	o = o.withDefaults(http.MethodGet)
	r := httptest.NewRequest(o.method, "http://"+testHost+o.path+"?"+o.query, nil)
	uri, _, err := v4.NewSigner().PresignHTTP(context.Background(), o.creds(), r, o.payloadHash, o.service, o.region, o.at)
	if err != nil {
		t.Fatal(err)
	}
	out := httptest.NewRequest(o.method, uri, nil)
	out.Body = failBody{t}
	return out
}

// editHeader rewrites the Authorization header after signing.
func editHeader(r *http.Request, old, new string) *http.Request {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
	return r
}

// editQuery rewrites the raw query after signing.
func editQuery(r *http.Request, old, new string) *http.Request {
	r.URL.RawQuery = strings.Replace(r.URL.RawQuery, old, new, 1)
	return r
}

func TestVerifyAcceptsSDKSignatures(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T) (*http.Request, []byte)
		want  Result
	}{
		{
			name:  "header POST form",
			build: func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{}) },
			want:  Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow},
		},
		{
			name: "header POST with session token",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signHeader(t, req{token: "FQoGZXIvYXdzEXAMPLE"})
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow, SecurityToken: "FQoGZXIvYXdzEXAMPLE"},
		},
		{
			name: "header GET with the session token in the query",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signHeader(t, req{method: http.MethodGet, query: testQuery + "&X-Amz-Security-Token=tok%2Ben"})
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow, SecurityToken: "tok+en"},
		},
		{
			name: "header POST with signed content hash",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signHeader(t, req{header: map[string]string{"X-Amz-Content-Sha256": sha256Hex(testBody)}})
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow},
		},
		{
			name: "header POST with UNSIGNED-PAYLOAD",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, _ := signHeader(t, req{payloadHash: unsignedPayload,
					header: map[string]string{"X-Amz-Content-Sha256": unsignedPayload}})
				return r, []byte("Action=DescribeImages&Version=2016-11-15&Owner.1=amzn") // not covered
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow},
		},
		{
			name: "header GET with awkward query values",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signHeader(t, req{method: http.MethodGet,
					query: testQuery + "&Filter.1.Name=name&Filter.1.Value.1=my%20image%2F%2A~%2B%C3%A9&Filter.1.Value.2=a-b&Filter.1.Value.3=a%2Fb&Empty="})
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow},
		},
		{
			name: "header GET with escaped path",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signHeader(t, req{method: http.MethodGet, path: "/a%20b/c", query: testQuery})
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow},
		},
		{
			name: "header without spaces after commas",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				r.Header.Set("Authorization", strings.ReplaceAll(r.Header.Get("Authorization"), ", ", ","))
				return r, body
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow},
		},
		{
			name: "raw plus in the query read as a space",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{method: http.MethodGet, query: testQuery + "&Filter.1.Value.1=a%20b"})
				return editQuery(r, "a%20b", "a+b"), body
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow},
		},
		{
			name: "clock 14 minutes behind",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signHeader(t, req{at: testNow.Add(-14 * time.Minute)})
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow.Add(-14 * time.Minute)},
		},
		{
			name: "clock 14 minutes ahead",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signHeader(t, req{at: testNow.Add(14 * time.Minute)})
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow.Add(14 * time.Minute)},
		},
		{
			name:  "region eu-central-1",
			build: func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{region: "eu-central-1"}) },
			want:  Result{AccessKeyID: testKeyID, Region: "eu-central-1", Time: testNow},
		},
		{
			name:  "region us-gov-west-1",
			build: func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{region: "us-gov-west-1"}) },
			want:  Result{AccessKeyID: testKeyID, Region: "us-gov-west-1", Time: testNow},
		},
		{
			name:  "region cn-north-1",
			build: func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{region: "cn-north-1"}) },
			want:  Result{AccessKeyID: testKeyID, Region: "cn-north-1", Time: testNow},
		},
		{
			name:  "presigned GET",
			build: func(t *testing.T) (*http.Request, []byte) { return signQuery(t, req{}), nil },
			want:  Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow, Presigned: true},
		},
		{
			name: "presigned GET with session token",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{token: "FQoGZXIvYXdzEXAMPLE", region: "eu-west-3"}), nil
			},
			want: Result{AccessKeyID: testKeyID, Region: "eu-west-3", Time: testNow, Presigned: true, SecurityToken: "FQoGZXIvYXdzEXAMPLE"},
		},
		{
			name: "presigned 4 minutes ago, valid 5",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{at: testNow.Add(-4 * time.Minute)}), nil
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow.Add(-4 * time.Minute), Presigned: true},
		},
		{
			name: "presigned 6 days ago, valid 7",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{at: testNow.Add(-6 * 24 * time.Hour), query: testQuery + "&X-Amz-Expires=604800"}), nil
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow.Add(-6 * 24 * time.Hour), Presigned: true},
		},
		{
			name: "presigned by a clock 14 minutes ahead",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{at: testNow.Add(14 * time.Minute)}), nil
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow.Add(14 * time.Minute), Presigned: true},
		},
		{
			name: "presigned with a payload hash in the query",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{query: testQuery + "&X-Amz-Expires=60&X-Amz-Content-Sha256=" + unsignedPayload,
					payloadHash: unsignedPayload}), []byte("ignored")
			},
			want: Result{AccessKeyID: testKeyID, Region: "us-east-1", Time: testNow, Presigned: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, body := tc.build(t)
			got, err := testVerifier().Verify(r, body)
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s\nquery: %s", err, r.Header.Get("Authorization"), r.URL.RawQuery)
			}
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("Result (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyDateHeader covers the Date fallback, which no SDK sends: the
// request is signed with the package's own (vector-tested) functions.
func TestVerifyDateHeader(t *testing.T) {
	sign := func(r *http.Request, amzDate string) {
		const sh = "date;host"
		creq := canonicalRequest(r.Method, "/", "", r, sh, emptyHash)
		sts := stringToSign(amzDate, "20260215/us-east-1/ec2/aws4_request", creq)
		sig := hex.EncodeToString(signature(signingKey(testSecret, "20260215", "us-east-1", "ec2"), sts))
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKeyID+"/20260215/us-east-1/ec2/aws4_request, SignedHeaders="+sh+", Signature="+sig)
	}
	r := httptest.NewRequest(http.MethodGet, "http://"+testHost+"/", nil)
	r.Header.Set("Date", testNow.Format(http.TimeFormat))
	sign(r, "20260215T102107Z")
	got, err := testVerifier().Verify(r, nil)
	if err != nil {
		t.Fatalf("Verify with Date header: %v", err)
	}
	if !got.Time.Equal(testNow) {
		t.Errorf("Time = %v, want %v", got.Time, testNow)
	}

	// X-Amz-Date wins: here it is 20 minutes off, so the request is expired.
	r.Header.Set("X-Amz-Date", testNow.Add(20*time.Minute).Format(amzDateLayout))
	if _, err := testVerifier().Verify(r, nil); errCode(err) != "RequestExpired" {
		t.Errorf("with a stale X-Amz-Date beside Date: %v, want RequestExpired", err)
	}
}

func errCode(err error) string {
	if e, ok := err.(*awserr.Error); ok {
		return e.Code
	}
	return fmt.Sprintf("%T", err)
}

func TestVerifyRejects(t *testing.T) {
	otherSecret := func(string) (string, bool) { return "not-the-secret", true }
	authz := func(r *http.Request) string { return r.Header.Get("Authorization") }

	tests := []struct {
		name   string
		build  func(t *testing.T) (*http.Request, []byte)
		lookup SecretLookup

		code   string
		status int
		msg    string                       // exact message
		msgFor func(r *http.Request) string // or a message that quotes the request
	}{
		{
			name: "no authentication at all",
			build: func(t *testing.T) (*http.Request, []byte) {
				r := httptest.NewRequest(http.MethodPost, "http://"+testHost+"/", nil)
				r.Header.Set("Content-Type", formType)
				return r, []byte(testBody)
			},
			code: "MissingParameter", status: 400, msg: "The request must contain the parameter AWSAccessKeyId",
		},
		{
			name: "blank Authorization header",
			build: func(t *testing.T) (*http.Request, []byte) {
				r := httptest.NewRequest(http.MethodGet, "http://"+testHost+"/?"+testQuery, nil)
				r.Header.Set("Authorization", "  ")
				return r, nil
			},
			code: "MissingParameter", status: 400, msg: "The request must contain the parameter AWSAccessKeyId",
		},
		{
			name: "SigV2 in the query",
			build: func(t *testing.T) (*http.Request, []byte) {
				return httptest.NewRequest(http.MethodGet, "http://"+testHost+"/?"+testQuery+
					"&AWSAccessKeyId=AKIDEXAMPLE&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2026-02-15T10%3A21%3A07Z&Signature=abc%3D", nil), nil
			},
			code: "AuthFailure", status: 401, msg: MsgAuthFailure,
		},
		{
			name: "SigV2 in a form body",
			build: func(t *testing.T) (*http.Request, []byte) {
				r := httptest.NewRequest(http.MethodPost, "http://"+testHost+"/", nil)
				r.Header.Set("Content-Type", formType)
				return r, []byte(testBody + "&AWSAccessKeyId=AKIDEXAMPLE&SignatureVersion=2&Signature=abc%3D")
			},
			code: "AuthFailure", status: 401, msg: MsgAuthFailure,
		},
		{
			name: "header and presigned at once",
			build: func(t *testing.T) (*http.Request, []byte) {
				h, _ := signHeader(t, req{})
				r := signQuery(t, req{})
				r.Header.Set("Authorization", authz(h))
				return r, nil
			},
			code: "IncompleteSignature", status: 400, msg: msgBothForms,
		},
		{
			name: "two Authorization headers",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				r.Header.Add("Authorization", authz(r))
				return r, body
			},
			code: "IncompleteSignature", status: 400, msg: "The Authorization header must appear only once.",
		},
		{
			name: "other algorithm",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				return editHeader(r, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), body
			},
			code: "IncompleteSignature", status: 400,
			msgFor: func(r *http.Request) string {
				return "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'. Authorization=" + authz(r)
			},
		},
		{
			name: "SigV2-style header",
			build: func(t *testing.T) (*http.Request, []byte) {
				r := httptest.NewRequest(http.MethodGet, "http://"+testHost+"/?"+testQuery, nil)
				r.Header.Set("Authorization", "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")
				return r, nil
			},
			code: "IncompleteSignature", status: 400,
			msg: "Unsupported AWS 'algorithm': 'AWS'. Authorization=AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
		},
		{
			name: "missing Signature",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				h := authz(r)
				return editHeader(r, h[strings.Index(h, ", Signature="):], ""), body
			},
			code: "IncompleteSignature", status: 400,
			msgFor: func(r *http.Request) string {
				return "Authorization header requires 'Signature' parameter. Authorization=" + authz(r)
			},
		},
		{
			name: "empty Signature",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				h := authz(r)
				return editHeader(r, h[strings.Index(h, ", Signature="):], ", Signature="), body
			},
			code: "IncompleteSignature", status: 400,
			msgFor: func(r *http.Request) string {
				return "Authorization header requires 'Signature' parameter. Authorization=" + authz(r)
			},
		},
		{
			name: "missing Credential and SignedHeaders",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				h := authz(r)
				return editHeader(r, h, "AWS4-HMAC-SHA256 "+h[strings.Index(h, "Signature="):]), body
			},
			code: "IncompleteSignature", status: 400,
			msgFor: func(r *http.Request) string {
				return "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=" + authz(r)
			},
		},
		{
			name: "algorithm alone and no date",
			build: func(t *testing.T) (*http.Request, []byte) {
				r := httptest.NewRequest(http.MethodGet, "http://"+testHost+"/", nil)
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256")
				return r, nil
			},
			code: "IncompleteSignature", status: 400,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " +
				"Authorization=AWS4-HMAC-SHA256",
		},
		{
			name: "component without equal sign",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				return editHeader(r, "SignedHeaders=", "SignedHeaders "), body
			},
			code: "IncompleteSignature", status: 400,
			msgFor: func(r *http.Request) string {
				h := authz(r)
				part := h[strings.Index(h, "SignedHeaders "):]
				part = part[:strings.Index(part, ",")]
				return "'" + part + "' not a valid key=value pair (missing equal-sign) in Authorization header: '" + h + "'."
			},
		},
		{
			name: "no date header",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				r.Header.Del("X-Amz-Date")
				return r, body
			},
			code: "IncompleteSignature", status: 400,
			msgFor: func(r *http.Request) string {
				return "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + authz(r)
			},
		},
		{
			name: "unparsable X-Amz-Date",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				r.Header.Set("X-Amz-Date", "2026-02-15T10:21:07Z")
				return r, body
			},
			code: "IncompleteSignature", status: 400,
			msg: "Date must be in ISO-8601 'basic format'. Got '2026-02-15T10:21:07Z'. See http://en.wikipedia.org/wiki/ISO_8601",
		},
		{
			name: "credential with four elements",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				return editHeader(r, "/ec2/aws4_request", "/aws4_request"), body
			},
			code: "IncompleteSignature", status: 400,
			msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20260215/us-east-1/aws4_request'",
		},
		{
			name: "credential with a wrong terminator",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				return editHeader(r, "/aws4_request", "/aws4_reqest"), body
			},
			code: "IncompleteSignature", status: 400,
			msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'.",
		},
		{
			name: "SignedHeaders without host",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				return editHeader(r, ";host;", ";"), body
			},
			code: "IncompleteSignature", status: 400, msg: msgHostNotSigned,
		},
		{
			name:  "wrong service",
			build: func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{service: "s3"}) },
			code:  "SignatureDoesNotMatch", status: 403, msg: "Credential should be scoped to correct service: 'ec2'.",
		},
		{
			name:  "region not shaped like a region",
			build: func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{region: "moon"}) },
			code:  "SignatureDoesNotMatch", status: 403, msg: "Credential should be scoped to a valid region.",
		},
		{
			name:  "upper-case region",
			build: func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{region: "US-EAST-1"}) },
			code:  "SignatureDoesNotMatch", status: 403, msg: "Credential should be scoped to a valid region.",
		},
		{
			name: "scope date is not the request date",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				return editHeader(r, "/20260215/", "/20260214/"), body
			},
			code: "SignatureDoesNotMatch", status: 403,
			msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260214' != '20260215', from '20260215T102107Z'.",
		},
		{
			name: "clock 16 minutes behind",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signHeader(t, req{at: testNow.Add(-16 * time.Minute)})
			},
			code: "RequestExpired", status: 400, msg: "Request has expired.",
		},
		{
			name: "clock 16 minutes ahead",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signHeader(t, req{at: testNow.Add(16 * time.Minute)})
			},
			code: "RequestExpired", status: 400, msg: "Request has expired.",
		},
		{
			name:  "unknown access key",
			build: func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{keyID: "AKIDUNKNOWN"}) },
			code:  "AuthFailure", status: 401, msg: MsgAuthFailure,
		},
		{
			name: "empty access key",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				return editHeader(r, "Credential="+testKeyID+"/", "Credential=/"), body
			},
			code: "AuthFailure", status: 401, msg: MsgAuthFailure,
		},
		{
			name:   "lookup returns an empty secret",
			build:  func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{}) },
			lookup: func(string) (string, bool) { return "", true },
			code:   "AuthFailure", status: 401, msg: MsgAuthFailure,
		},
		{
			name:   "wrong secret",
			build:  func(t *testing.T) (*http.Request, []byte) { return signHeader(t, req{}) },
			lookup: otherSecret,
			code:   "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name: "tampered body",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, _ := signHeader(t, req{})
				return r, []byte(strings.Replace(testBody, "self", "amzn", 1))
			},
			code: "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name: "tampered body under a signed content hash",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, _ := signHeader(t, req{header: map[string]string{"X-Amz-Content-Sha256": sha256Hex(testBody)}})
				return r, []byte(strings.Replace(testBody, "self", "amzn", 1))
			},
			code: "SignatureDoesNotMatch", status: 403, msg: msgPayloadHash,
		},
		{
			name: "UNSIGNED-PAYLOAD added after signing",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
				return r, body
			},
			code: "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name: "tampered header value",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r, body
			},
			code: "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name: "other host",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				r.Host = "127.0.0.1:4567"
				return r, body
			},
			code: "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name: "tampered query, header form",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{method: http.MethodGet, query: testQuery})
				return editQuery(r, "DescribeImages", "DeregisterImage"), body
			},
			code: "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name: "upper-case signature",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{})
				h := authz(r)
				i := strings.Index(h, "Signature=") + len("Signature=")
				return editHeader(r, h[i:], strings.ToUpper(h[i:])), body
			},
			code: "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name: "undecodable query",
			build: func(t *testing.T) (*http.Request, []byte) {
				r, body := signHeader(t, req{method: http.MethodGet, query: testQuery})
				r.URL.RawQuery += "&Bad=%zz"
				return r, body
			},
			code: "MalformedQueryString", status: 400, msg: "The query string contains an invalid percent-encoding.",
		},

		// Presigned form.
		{
			name: "presigned, tampered query",
			build: func(t *testing.T) (*http.Request, []byte) {
				return editQuery(signQuery(t, req{}), "DescribeImages", "DeregisterImage"), nil
			},
			code: "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name: "presigned, extra unsigned parameter",
			build: func(t *testing.T) (*http.Request, []byte) {
				r := signQuery(t, req{})
				r.URL.RawQuery += "&ImageId.1=ami-0abcdef1234567890"
				return r, nil
			},
			code: "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name: "presigned, body not covered by the signature",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{}), []byte(testBody)
			},
			code: "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name:   "presigned, wrong secret",
			build:  func(t *testing.T) (*http.Request, []byte) { return signQuery(t, req{}), nil },
			lookup: otherSecret,
			code:   "SignatureDoesNotMatch", status: 403, msg: MsgSignatureMismatch,
		},
		{
			name:  "presigned, unknown key",
			build: func(t *testing.T) (*http.Request, []byte) { return signQuery(t, req{keyID: "AKIDUNKNOWN"}), nil },
			code:  "AuthFailure", status: 401, msg: MsgAuthFailure,
		},
		{
			name: "presigned, expired",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{at: testNow.Add(-5*time.Minute - time.Second)}), nil
			},
			code: "RequestExpired", status: 400, msg: "Request has expired.",
		},
		{
			name: "presigned, dated 16 minutes ahead",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{at: testNow.Add(16 * time.Minute)}), nil
			},
			code: "RequestExpired", status: 400, msg: "Request has expired.",
		},
		{
			name: "presigned, X-Amz-Expires zero",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{query: testQuery + "&X-Amz-Expires=0"}), nil
			},
			code: "RequestExpired", status: 400, msg: "Request has expired.",
		},
		{
			name: "presigned, X-Amz-Expires negative",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{query: testQuery + "&X-Amz-Expires=-60"}), nil
			},
			code: "RequestExpired", status: 400, msg: "Request has expired.",
		},
		{
			name: "presigned, X-Amz-Expires over a week",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{query: testQuery + "&X-Amz-Expires=604801"}), nil
			},
			code: "RequestExpired", status: 400, msg: "X-Amz-Expires must be less than a week (in seconds) that is 604800",
		},
		{
			name: "presigned, X-Amz-Expires not a number",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{query: testQuery + "&X-Amz-Expires=5m"}), nil
			},
			code: "IncompleteSignature", status: 400, msg: "X-Amz-Expires should be a number",
		},
		{
			name: "presigned, no X-Amz-Expires",
			build: func(t *testing.T) (*http.Request, []byte) {
				return signQuery(t, req{query: testQuery}), nil
			},
			code: "IncompleteSignature", status: 400, msg: msgPresignMissing,
		},
		{
			name: "presigned, no X-Amz-Signature",
			build: func(t *testing.T) (*http.Request, []byte) {
				r := signQuery(t, req{})
				i := strings.Index(r.URL.RawQuery, "&X-Amz-Signature=")
				r.URL.RawQuery = r.URL.RawQuery[:i]
				return r, nil
			},
			code: "IncompleteSignature", status: 400, msg: msgPresignMissing,
		},
		{
			name: "presigned, X-Amz-Signature twice",
			build: func(t *testing.T) (*http.Request, []byte) {
				r := signQuery(t, req{})
				r.URL.RawQuery += "&X-Amz-Signature=00"
				return r, nil
			},
			code: "IncompleteSignature", status: 400, msg: "Query parameter 'X-Amz-Signature' must appear only once.",
		},
		{
			name: "presigned, other algorithm",
			build: func(t *testing.T) (*http.Request, []byte) {
				return editQuery(signQuery(t, req{}), "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"), nil
			},
			code: "IncompleteSignature", status: 400, msg: `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`,
		},
		{
			name: "presigned, SignedHeaders without host",
			build: func(t *testing.T) (*http.Request, []byte) {
				return editQuery(signQuery(t, req{}), "X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date"), nil
			},
			code: "IncompleteSignature", status: 400, msg: msgHostNotSigned,
		},
		{
			name: "presigned, credential with four elements",
			build: func(t *testing.T) (*http.Request, []byte) {
				return editQuery(signQuery(t, req{}), "%2Fec2%2F", "%2F"), nil
			},
			code: "IncompleteSignature", status: 400,
			msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20260215/us-east-1/aws4_request'",
		},
		{
			name:  "presigned, wrong service",
			build: func(t *testing.T) (*http.Request, []byte) { return signQuery(t, req{service: "sts"}), nil },
			code:  "SignatureDoesNotMatch", status: 403, msg: "Credential should be scoped to correct service: 'ec2'.",
		},
		{
			name: "presigned, unparsable date",
			build: func(t *testing.T) (*http.Request, []byte) {
				return editQuery(signQuery(t, req{}), "X-Amz-Date=20260215T102107Z", "X-Amz-Date=yesterday"), nil
			},
			code: "IncompleteSignature", status: 400,
			msg: "Date must be in ISO-8601 'basic format'. Got 'yesterday'. See http://en.wikipedia.org/wiki/ISO_8601",
		},
		{
			name: "presigned, scope date is not the request date",
			build: func(t *testing.T) (*http.Request, []byte) {
				return editQuery(signQuery(t, req{}), "X-Amz-Date=20260215T102107Z", "X-Amz-Date=20260216T000000Z"), nil
			},
			code: "SignatureDoesNotMatch", status: 403,
			msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260215' != '20260216', from '20260216T000000Z'.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, body := tc.build(t)
			v := testVerifier()
			if tc.lookup != nil {
				v.Lookup = tc.lookup
			}
			res, err := v.Verify(r, body)
			if err == nil {
				t.Fatalf("Verify succeeded with %+v, want %s", res, tc.code)
			}
			if res != nil {
				t.Errorf("Verify returned a Result beside its error: %+v", res)
			}
			got, ok := err.(*awserr.Error)
			if !ok {
				t.Fatalf("Verify error is %T, want *awserr.Error", err)
			}
			msg := tc.msg
			if tc.msgFor != nil {
				msg = tc.msgFor(r)
			}
			want := &awserr.Error{Code: tc.code, Status: tc.status, Message: msg}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyOverHTTP sends SDK-signed requests through a real Go server, so
// the request is canonicalised as net/http really delivers it (Host with
// port, Content-Length moved around).
func TestVerifyOverHTTP(t *testing.T) {
	v := testVerifier()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		res, verr := v.Verify(r, body)
		if verr != nil {
			e := verr.(*awserr.Error)
			http.Error(w, e.Code, e.Status)
			return
		}
		fmt.Fprintf(w, "%s %s %v", res.AccessKeyID, res.Region, res.Presigned)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	signer := v4.NewSigner()

	do := func(r *http.Request) string {
		t.Helper()
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}

	post, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(testBody))
	post.Header.Set("Content-Type", formType)
	if err := signer.SignHTTP(context.Background(), creds, post, sha256Hex(testBody), "ec2", "eu-west-1", testNow); err != nil {
		t.Fatal(err)
	}
	if got, want := do(post), "200 AKIDEXAMPLE eu-west-1 false"; got != want {
		t.Errorf("signed POST to %s: %q, want %q", host, got, want)
	}

	get, _ := http.NewRequest(http.MethodGet, srv.URL+"/?"+testQuery+"&X-Amz-Expires=300", nil)
	uri, _, err := signer.PresignHTTP(context.Background(), creds, get, emptyHash, "ec2", "ap-south-1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	presigned, _ := http.NewRequest(http.MethodGet, uri, nil)
	if got, want := do(presigned), "200 AKIDEXAMPLE ap-south-1 true"; got != want {
		t.Errorf("presigned GET: %q, want %q", got, want)
	}

	unsigned, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(testBody))
	unsigned.Header.Set("Content-Type", formType)
	if got, want := do(unsigned), "400 MissingParameter"; got != want {
		t.Errorf("unsigned POST: %q, want %q", got, want)
	}
}

// TestSigningKeyCache checks that a cached key is reused and that a rotated
// secret is not served from the cache.
func TestSigningKeyCache(t *testing.T) {
	secret := testSecret
	v := testVerifier()
	v.Lookup = func(string) (string, bool) { return secret, true }

	r, body := signHeader(t, req{})
	for i := range 2 {
		if _, err := v.Verify(r, body); err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
	}
	k, ok := v.keys.m.Load(cacheKey{testKeyID, "20260215", "us-east-1"})
	if !ok {
		t.Fatal("signing key not cached")
	}
	if got, want := hex.EncodeToString(k.(cachedKey).key), hex.EncodeToString(signingKey(testSecret, "20260215", "us-east-1", "ec2")); got != want {
		t.Errorf("cached key %s, want %s", got, want)
	}

	secret = "rotated"
	if _, err := v.Verify(r, body); errCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("old signature after rotation: %v, want SignatureDoesNotMatch", err)
	}
	r2, body2 := signHeader(t, req{secret: "rotated"})
	if _, err := v.Verify(r2, body2); err != nil {
		t.Fatalf("new signature after rotation: %v", err)
	}
}

func TestSigningKeyCacheIsBounded(t *testing.T) {
	var c keyCache
	for i := range maxCachedKeys + 10 {
		c.get("AKID", "secret", "20260215", fmt.Sprintf("us-east-%d", i), "ec2")
	}
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	if n > maxCachedKeys {
		t.Errorf("cache holds %d keys, limit %d", n, maxCachedKeys)
	}
}

// TestVerifyConcurrent is for -race: one Verifier, many goroutines.
func TestVerifyConcurrent(t *testing.T) {
	v := testVerifier()
	regions := []string{"us-east-1", "eu-west-1", "ap-northeast-1"}
	var reqs []*http.Request
	var bodies [][]byte
	for _, region := range regions {
		r, b := signHeader(t, req{region: region})
		reqs, bodies = append(reqs, r), append(bodies, b)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				j := (g + i) % len(reqs)
				if _, err := v.Verify(reqs[j], bodies[j]); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestVerifyNilRequest(t *testing.T) {
	_, err := testVerifier().Verify(nil, nil)
	if errCode(err) != "InternalError" {
		t.Errorf("Verify(nil) = %v, want InternalError", err)
	}
	_, err = testVerifier().Verify(&http.Request{}, nil)
	if errCode(err) != "InternalError" {
		t.Errorf("Verify(no URL) = %v, want InternalError", err)
	}
}

func TestVerifyZeroVerifier(t *testing.T) {
	// The zero Verifier knows no keys but still answers with EC2 errors.
	r, body := signHeader(t, req{at: time.Now()})
	var v Verifier
	if _, err := v.Verify(r, body); errCode(err) != "AuthFailure" {
		t.Errorf("zero Verifier: %v, want AuthFailure", err)
	}
}

func BenchmarkVerifyHeader(b *testing.B) {
	v := testVerifier()
	r, body := signHeader(b, req{body: "Action=ModifyImageAttribute&Version=2016-11-15&ImageId=ami-0abcdef1234567890&LaunchPermission.Add.1.UserId=111122223333"})
	if _, err := v.Verify(r, body); err != nil { // warms the key cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPresigned(b *testing.B) {
	v := testVerifier()
	r := signQuery(b, req{query: testQuery + "&Owner.1=self&Filter.1.Name=name&Filter.1.Value.1=my%20image&X-Amz-Expires=300"})
	if _, err := v.Verify(r, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCheckPayloadHash(t *testing.T) {
	body := hashHex([]byte("Action=DescribeImages"))
	other := hashHex([]byte("Action=ModifyImageAttribute"))
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"no header", "", true},
		{"unsigned", "UNSIGNED-PAYLOAD", true},
		{"the body's", body, true},
		{"the body's in upper case", strings.ToUpper(body), true},
		{"another body's", other, false},
		{"not a hash", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "http://ec2.us-east-1.amazonaws.com/", nil)
			if tc.header != "" {
				r.Header.Set(ParamContentSHA256, tc.header)
			}
			err := CheckPayloadHash(r, body)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPayloadHash = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if e := awserr.From(err); e.Code != awserr.CodeSignatureDoesNotMatch || e.Status != 403 {
					t.Errorf("got %s %d, want SignatureDoesNotMatch 403", e.Code, e.Status)
				}
			}
		})
	}
}
