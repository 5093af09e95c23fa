package sigv4

import (
	"net/http"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// authorization holds the three components of an Authorization header;
// an absent component is "".
type authorization struct {
	credential    string
	signedHeaders string
	signature     string
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…". Components may be separated by ',' with or without spaces and
// come in any order; unknown components are ignored and the first of a
// repeated one wins. Missing components are not an error here: Verify reports
// them together with a missing date, as AWS does.
func parseAuthorization(h string) (authorization, *awserr.Error) {
	var a authorization
	v := strings.TrimSpace(h)
	alg, rest, _ := strings.Cut(v, " ")
	if alg != Algorithm {
		return a, errIncomplete("Unsupported AWS 'algorithm': '%s'. Authorization=%s", echo(alg), echo(h))
	}
	for more := true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return authorization{}, errIncomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", echo(part), echo(h))
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "Credential":
			if a.credential == "" {
				a.credential = value
			}
		case "SignedHeaders":
			if a.signedHeaders == "" {
				a.signedHeaders = value
			}
		case "Signature":
			if a.signature == "" {
				a.signature = value
			}
		}
	}
	return a, nil
}

// missingComponents is AWS's list of what an Authorization header lacks,
// ending in the header itself; "" when nothing is missing.
func missingComponents(a authorization, haveDate bool, h string) string {
	var b strings.Builder
	if a.credential == "" {
		b.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if a.signature == "" {
		b.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if a.signedHeaders == "" {
		b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if !haveDate {
		b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if b.Len() == 0 {
		return ""
	}
	b.WriteString("Authorization=")
	b.WriteString(echo(h))
	return b.String()
}

// credentialScope is keyid/date/region/service/aws4_request.
type credentialScope struct {
	accessKeyID, date, region, service string
	scope                              string // all but the key id, as in the string to sign
}

// parseCredential checks the shape of the credential; what the elements mean
// (service, region, date) is checked by Verify.
func parseCredential(cred string) (credentialScope, *awserr.Error) {
	var p [5]string
	n := 0
	for rest, more := cred, true; more; n++ {
		if n == len(p) {
			n++ // more than five
			break
		}
		p[n], rest, more = strings.Cut(rest, "/")
	}
	if n != len(p) {
		return credentialScope{}, errIncomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", echo(cred))
	}
	if p[4] != "aws4_request" {
		return credentialScope{}, errIncomplete("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", echo(p[4]))
	}
	return credentialScope{accessKeyID: p[0], date: p[1], region: p[2], service: p[3],
		scope: cred[len(p[0])+1:]}, nil
}

const (
	amzDateLayout = "20060102T150405Z"
	dateLayout    = "20060102"
)

// parseAmzDate accepts exactly YYYYMMDD'T'HHMMSS'Z'; time.Parse alone would
// also take some one-digit fields.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(amzDateLayout, s)
	if err != nil || t.Format(amzDateLayout) != s {
		return time.Time{}, false
	}
	return t, true
}

// parseDateHeader reads the Date header fallback: the ISO 8601 basic form or
// any HTTP date form.
func parseDateHeader(s string) (time.Time, bool) {
	if t, ok := parseAmzDate(s); ok {
		return t, true
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// validRegion reports whether s is shaped like an AWS Region
// (^[a-z]{2}(-[a-z]+)+-[0-9]+$): us-east-1, us-gov-west-1, cn-north-1. The
// region names a namespace, so anything else is a client mistake.
func validRegion(s string) bool {
	if len(s) > 64 || len(s) < 6 || s[2] != '-' || !lowerAlpha(s[:2]) {
		return false
	}
	last := strings.LastIndexByte(s, '-')
	if last <= 3 || last == len(s)-1 {
		return false
	}
	for i := last + 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	for rest, more := s[3:last], true; more; {
		var word string
		word, rest, more = strings.Cut(rest, "-")
		if word == "" || !lowerAlpha(word) {
			return false
		}
	}
	return true
}

func lowerAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// Bounds on the signed header list. SDKs sign five to ten headers; the
// bounds leave room for custom ones while keeping the canonical request of
// an unauthenticated request small.
const (
	maxSignedHeaders     = 64
	maxSignedHeadersSize = 2048
)

// checkSignedHeaders enforces the shape SigV4 prescribes for SignedHeaders:
// lower-case names, sorted, each once. It is checked before any canonical
// request is built, because it is what keeps that canonical request linear
// in the request's size: a name listed twice (or in two spellings) would
// copy its header's value once per listing.
func checkSignedHeaders(sh string) *awserr.Error {
	if len(sh) > maxSignedHeadersSize {
		return errIncomplete("SignedHeaders is longer than %d characters.", maxSignedHeadersSize)
	}
	prev, n := "", 0
	for rest, more := sh, true; more; {
		var name string
		name, rest, more = strings.Cut(rest, ";")
		if n++; n > maxSignedHeaders {
			return errIncomplete("SignedHeaders names more than %d headers.", maxSignedHeaders)
		}
		if !headerToken(name) {
			return errIncomplete("SignedHeaders must be lower-case header names separated by ';', got '%s'.", echo(sh))
		}
		if n > 1 && name <= prev {
			return errIncomplete("SignedHeaders must be sorted and name each header once, got '%s'.", echo(sh))
		}
		prev = name
	}
	return nil
}

// headerToken reports whether s is a non-empty lower-case HTTP token.
func headerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// signsHost reports whether the signed header list names host.
func signsHost(signedHeaders string) bool {
	for rest, more := signedHeaders, true; more; {
		var name string
		name, rest, more = strings.Cut(rest, ";")
		if strings.EqualFold(name, "host") {
			return true
		}
	}
	return false
}
