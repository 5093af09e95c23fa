package sigv4

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// FuzzVerify feeds arbitrary Authorization headers, dates, query strings and
// bodies to Verify (a date starting "D:" goes in the Date header instead of
// X-Amz-Date): it must not panic, and must answer either a Result or a client
// (4xx) *awserr.Error, never both and never neither.
func FuzzVerify(f *testing.F) {
	// Seeds near valid requests, so mutations reach the deep checks.
	date := testNow.Format(amzDateLayout)
	post, body := signHeader(f, req{})
	f.Add(post.Header.Get("Authorization"), date, "", string(body))
	getH, _ := signHeader(f, req{method: http.MethodGet, query: testQuery + "&Filter.1.Value.1=a%20b"})
	f.Add(getH.Header.Get("Authorization"), date, getH.URL.RawQuery, "")
	pre := signQuery(f, req{})
	f.Add("", date, pre.URL.RawQuery, "")
	tok := signQuery(f, req{token: "tok", query: testQuery + "&X-Amz-Expires=604800&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD"})
	f.Add("", date, tok.URL.RawQuery, "x")
	f.Add("", date, "", "")
	f.Add("", date, "", testBody+"&AWSAccessKeyId=AKID&Signature=x")
	f.Add("", date, "AWSAccessKeyId=AKID&Signature=x", "")
	f.Add("AWS4-HMAC-SHA256", date, "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=", date, "X-Amz-Algorithm", "")
	f.Add("AWS4-HMAC-SHA256 Credential=a/20260215/us-east-1/ec2/aws4_request,SignedHeaders=host,Signature=00", date, "%", "\xff")
	f.Add(post.Header.Get("Authorization"), date, pre.URL.RawQuery, "")
	f.Add(post.Header.Get("Authorization"), "D:"+testNow.Format(http.TimeFormat), "", string(body))
	f.Add(post.Header.Get("Authorization"), "D:99991231T235959Z", "", string(body))
	f.Add(post.Header.Get("Authorization"), "", "", string(body))

	v := testVerifier()
	f.Fuzz(func(t *testing.T, authz, date, rawQuery, body string) {
		r := &http.Request{
			Method:        http.MethodPost,
			URL:           &url.URL{Path: "/", RawQuery: rawQuery},
			Host:          testHost,
			Header:        http.Header{},
			ContentLength: int64(len(body)),
		}
		r.Header.Set("Content-Type", formType)
		if d, ok := strings.CutPrefix(date, "D:"); ok {
			r.Header["Date"] = []string{d}
		} else if date != "" {
			r.Header["X-Amz-Date"] = []string{date}
		}
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		res, err := v.Verify(r, []byte(body))
		if err == nil {
			if res == nil {
				t.Fatal("Verify returned neither a Result nor an error")
			}
			if res.AccessKeyID != testKeyID || !validRegion(res.Region) {
				t.Fatalf("Verify accepted an impossible Result %+v", res)
			}
			return
		}
		if res != nil {
			t.Fatalf("Verify returned a Result beside %v", err)
		}
		e, ok := err.(*awserr.Error)
		if !ok {
			t.Fatalf("Verify error is %T, want *awserr.Error", err)
		}
		if e.Code == "" || e.Message == "" || e.Status < 400 || e.Status > 499 {
			t.Fatalf("Verify error %+v is not a client error", e)
		}
	})
}

// FuzzParseAuthorization checks the header parser never panics, fails only
// with IncompleteSignature, and that what it reads survives a round trip.
func FuzzParseAuthorization(f *testing.F) {
	post, _ := signHeader(f, req{})
	f.Add(post.Header.Get("Authorization"))
	f.Add(strings.ReplaceAll(post.Header.Get("Authorization"), ", ", ","))
	f.Add("AWS4-HMAC-SHA256 Signature=abc, Credential=a/b/c/d/aws4_request, SignedHeaders=host;x-amz-date, Extra=1")
	f.Add("AWS4-HMAC-SHA256 Credential")
	f.Add("AWS4-HMAC-SHA256 ,,, Credential==x,")
	f.Add("AWS AKID:sig")
	f.Add("")
	f.Add(" \tAWS4-HMAC-SHA256  Credential = x ")

	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if err.Code != "IncompleteSignature" || err.Status != http.StatusBadRequest {
				t.Fatalf("parseAuthorization error %+v, want IncompleteSignature 400", err)
			}
			return
		}
		_ = missingComponents(a, false, h)
		if a.credential != "" {
			if sc, err := parseCredential(a.credential); err == nil {
				back := sc.accessKeyID + "/" + sc.date + "/" + sc.region + "/" + sc.service + "/aws4_request"
				if back != a.credential || sc.scope != back[len(sc.accessKeyID)+1:] {
					t.Fatalf("credential %q read back as %q, scope %q", a.credential, back, sc.scope)
				}
			}
		}
		if strings.Contains(a.credential+a.signedHeaders+a.signature, ",") {
			t.Fatalf("a component kept a comma: %+v", a)
		}
		again := Algorithm + " Credential=" + a.credential + ", SignedHeaders=" + a.signedHeaders + ", Signature=" + a.signature
		b, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("re-parsing %q: %v", again, err)
		}
		if a != b {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
	})
}
