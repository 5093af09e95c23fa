package sigv4

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Algorithm is the only signing algorithm amigo accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// emptyHash is hex SHA-256 of no bytes, the payload hash of a bodiless request.
const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// unsignedPayload is the payload hash a client may sign instead of the body's.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// queryParam is one decoded name=value pair, in the order received.
type queryParam struct{ name, value string }

// parseQuery splits a raw query string the way the SDK signers read it
// (url.ParseQuery semantics): pairs split on '&', empty pairs skipped, name
// and value split on the first '=', and both percent-decoded with '+' read as
// a space. SDKs never send a raw '+' (they send %2B or %20), and the Go SDK
// itself decodes '+' to a space before signing, so this is the reading that
// agrees with every client that signs correctly. ';' is an ordinary byte.
func parseQuery(raw string) ([]queryParam, bool) {
	if raw == "" {
		return nil, true
	}
	params := make([]queryParam, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return nil, false
		}
		value, err = url.QueryUnescape(value)
		if err != nil {
			return nil, false
		}
		params = append(params, queryParam{name, value})
	}
	return params, true
}

// unreserved reports whether RFC 3986 leaves c unescaped.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// uriEncode percent-encodes every byte outside the RFC 3986 unreserved set,
// with upper-case hex; keepSlash leaves '/' alone for paths.
func uriEncode(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved(c) && !(keepSlash && c == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

// canonicalURI encodes the path as received. Like the SDKs for every service
// but S3, it encodes the already-escaped path once more (so "%" becomes
// "%25") and does not normalise dot segments; EC2's path is always "/".
func canonicalURI(escapedPath string) string {
	if escapedPath == "" {
		return "/"
	}
	return uriEncode(escapedPath, true)
}

// canonicalQuery encodes each name and value, sorts by encoded name then
// encoded value (SigV4 sorts after encoding), and joins them. A parameter
// named exclude (X-Amz-Signature in the presigned form) is left out.
func canonicalQuery(params []queryParam, exclude string) string {
	if len(params) == 0 {
		return ""
	}
	enc := make([]queryParam, 0, len(params))
	size := 0
	for _, p := range params {
		if exclude != "" && p.name == exclude {
			continue
		}
		e := queryParam{uriEncode(p.name, false), uriEncode(p.value, false)}
		size += len(e.name) + len(e.value) + 2
		enc = append(enc, e)
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	b.Grow(size)
	for i, e := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(e.name)
		b.WriteByte('=')
		b.WriteString(e.value)
	}
	return b.String()
}

// canonicalKeys spares the hot path textproto's allocation for the header
// names SDKs usually sign.
var canonicalKeys = map[string]string{
	"content-type":          "Content-Type",
	"x-amz-date":            "X-Amz-Date",
	"x-amz-security-token":  "X-Amz-Security-Token",
	"x-amz-content-sha256":  "X-Amz-Content-Sha256",
	"x-amz-user-agent":      "X-Amz-User-Agent",
	"amz-sdk-invocation-id": "Amz-Sdk-Invocation-Id",
	"amz-sdk-request":       "Amz-Sdk-Request",
	"amz-sdk-retry":         "Amz-Sdk-Retry",
	"date":                  "Date",
}

// sink is where a canonical request is written: a strings.Builder for the
// tests, a buffered hash when verifying.
type sink interface {
	io.Writer
	io.StringWriter
	io.ByteWriter
}

// writeHeaderValues writes the values of one signed header as received,
// joined with ','. Go's server moves Host, Content-Length (sometimes) and
// Transfer-Encoding out of r.Header, so those come from the request fields.
func writeHeaderValues(b sink, r *http.Request, name string) {
	switch {
	case strings.EqualFold(name, "host"):
		if r.Host != "" {
			writeHeaderValue(b, r.Host)
		} else if r.URL != nil {
			writeHeaderValue(b, r.URL.Host)
		}
		return
	case strings.EqualFold(name, "content-length"):
		if v := r.Header["Content-Length"]; len(v) > 0 {
			writeJoined(b, v)
		} else if r.ContentLength >= 0 {
			var n [20]byte
			b.Write(strconv.AppendInt(n[:0], r.ContentLength, 10))
		}
		return
	case strings.EqualFold(name, "transfer-encoding"):
		if v := r.Header["Transfer-Encoding"]; len(v) > 0 {
			writeJoined(b, v)
		} else {
			writeJoined(b, r.TransferEncoding)
		}
		return
	}
	key, ok := canonicalKeys[name]
	if !ok {
		key = textproto.CanonicalMIMEHeaderKey(name)
	}
	writeJoined(b, r.Header[key])
}

func writeJoined(b sink, values []string) {
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		writeHeaderValue(b, v)
	}
}

// canonicalHeaders is the header block of the canonical request.
func canonicalHeaders(r *http.Request, signedHeaders string) string {
	var b strings.Builder
	writeCanonicalHeaders(&b, r, signedHeaders)
	return b.String()
}

// writeCanonicalHeaders writes "name:value\n" for each name in signedHeaders,
// in the client's order and spelling (the client signed exactly that list;
// Verify has checked it is sorted and names each header once, so this is
// linear in the request's size). Values are trimmed, runs of spaces
// collapsed, repeats joined with ','.
func writeCanonicalHeaders(b sink, r *http.Request, signedHeaders string) {
	for rest, more := signedHeaders, true; more; {
		var name string
		name, rest, more = strings.Cut(rest, ";")
		b.WriteString(name)
		b.WriteByte(':')
		writeHeaderValues(b, r, name)
		b.WriteByte('\n')
	}
}

// writeHeaderValue trims v and collapses runs of spaces to one, as the SDK
// signers do (tabs inside a value are kept).
func writeHeaderValue(b sink, v string) {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteByte(c)
	}
}

// canonicalRequest is the six parts of a SigV4 canonical request, one per
// line; the header block ends in "\n", which leaves the blank line the
// format requires.
func canonicalRequest(method, uri, query string, r *http.Request, signedHeaders, payloadHash string) string {
	var b strings.Builder
	// Room for typical headers, so the builder grows once.
	b.Grow(len(method) + len(uri) + len(query) + 2*len(signedHeaders) + len(payloadHash) + 256)
	writeCanonicalRequest(&b, method, uri, query, r, signedHeaders, payloadHash)
	return b.String()
}

// canonicalRequestSum is the SHA-256 of the canonical request, computed as
// it is written: verifying never holds the canonical request in memory.
func canonicalRequestSum(method, uri, query string, r *http.Request, signedHeaders, payloadHash string) [sha256.Size]byte {
	hw := hashWriters.Get().(*hashWriter)
	defer hashWriters.Put(hw)
	hw.h.Reset()
	hw.w.Reset(hw.h)
	writeCanonicalRequest(hw.w, method, uri, query, r, signedHeaders, payloadHash)
	_ = hw.w.Flush() // a hash never fails to write
	var sum [sha256.Size]byte
	hw.h.Sum(sum[:0])
	return sum
}

// hashWriter is a SHA-256 behind a small buffer, pooled: verification
// stays at a few allocations per request.
type hashWriter struct {
	h hash.Hash
	w *bufio.Writer
}

var hashWriters = sync.Pool{New: func() any {
	h := sha256.New()
	return &hashWriter{h: h, w: bufio.NewWriterSize(h, 2048)}
}}

func writeCanonicalRequest(b sink, method, uri, query string, r *http.Request, signedHeaders, payloadHash string) {
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	writeCanonicalHeaders(b, r, signedHeaders)
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
}

// stringToSign is the algorithm, the request time, the credential scope and
// the hash of the canonical request, one per line.
func stringToSign(amzDate, scope, canonicalReq string) string {
	return stringToSignSum(amzDate, scope, sha256.Sum256([]byte(canonicalReq)))
}

// stringToSignSum is stringToSign from the canonical request's hash.
func stringToSignSum(amzDate, scope string, sum [sha256.Size]byte) string {
	var b strings.Builder
	b.Grow(len(Algorithm) + len(amzDate) + len(scope) + 2*sha256.Size + 3)
	b.WriteString(Algorithm)
	b.WriteByte('\n')
	b.WriteString(amzDate)
	b.WriteByte('\n')
	b.WriteString(scope)
	b.WriteByte('\n')
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	b.Write(h[:])
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signingKey derives the per-day, per-region, per-service key; secret is only
// ever used here.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

// signature is the raw HMAC of the string to sign; clients send it as
// lower-case hex.
func signature(key []byte, sts string) []byte { return hmacSHA256(key, sts) }

// signatureMatches compares the client's hex signature with the expected one
// in constant time. Only lower-case hex is accepted, as SigV4 specifies.
func signatureMatches(provided string, want []byte) bool {
	if len(provided) != 2*sha256.Size || len(want) != sha256.Size {
		return false
	}
	var got [sha256.Size]byte
	for i := range got {
		hi, ok1 := fromHex(provided[2*i])
		lo, ok2 := fromHex(provided[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		got[i] = hi<<4 | lo
	}
	return hmac.Equal(got[:], want)
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// hashHex is lower-case hex SHA-256 of b.
func hashHex(b []byte) string {
	if len(b) == 0 {
		return emptyHash
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
