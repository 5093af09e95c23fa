// Package sigv4 verifies AWS Signature Version 4 on EC2 Query requests
// (spec §5), in the Authorization header form and the presigned query form.
//
// The canonical request, string to sign, signing key and constant-time
// comparison are small pure functions, each tested alone against AWS's
// published vectors; Verifier adds the EC2 checks and error codes.
//
// Choices where the spec leaves one:
//   - Authorization header and presigned query together: IncompleteSignature.
//   - X-Amz-Expires that is not an integer: IncompleteSignature; an integer
//     ≤ 0 or > 604800: RequestExpired.
//   - A presigned URL may be dated up to Skew in the future (a fast client
//     clock) but expires exactly at X-Amz-Date + X-Amz-Expires: the signer
//     chose the lifetime, so it is not stretched.
//   - A query string that does not percent-decode: MalformedQueryString, as
//     the signature cannot be canonicalised (transport errors come first, §4.4).
//   - A signed payload hash (X-Amz-Content-Sha256) that is not the body's:
//     SignatureDoesNotMatch, with S3's wording.
//   - Scope checks run in the order service, region, date; all come before
//     the clock check, which comes before the key lookup (§4.4).
package sigv4

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// service is the credential-scope service a Verifier accepts by default.
const service = "ec2"

func (v *Verifier) service() string {
	if v.Service != "" {
		return v.Service
	}
	return service
}

// DefaultSkew is how far a request's time may be from the server's (spec §5.3).
const DefaultSkew = 15 * time.Minute

// MaxExpires is the longest presigned lifetime SigV4 allows, 7 days in seconds.
const MaxExpires = 604800

// Query and header names of the signature.
const (
	ParamAlgorithm     = "X-Amz-Algorithm"
	ParamCredential    = "X-Amz-Credential"
	ParamDate          = "X-Amz-Date"
	ParamExpires       = "X-Amz-Expires"
	ParamSignedHeaders = "X-Amz-SignedHeaders"
	ParamSignature     = "X-Amz-Signature"
	ParamSecurityToken = "X-Amz-Security-Token"
	ParamContentSHA256 = "X-Amz-Content-Sha256"
)

// SecretLookup returns the secret access key for an access key id.
type SecretLookup func(accessKeyID string) (secret string, ok bool)

// Result is what a verified request proves.
type Result struct {
	AccessKeyID   string
	Region        string    // from the credential scope; the namespace of every image
	Time          time.Time // X-Amz-Date
	Presigned     bool
	SecurityToken string
}

// Verifier verifies signatures; it caches derived signing keys per
// (access key, secret, date, region). It is safe for concurrent use; set the
// fields before the first Verify.
type Verifier struct {
	// Lookup finds the secret for an access key id. A nil Lookup, or one
	// that returns an empty secret, makes every key unknown.
	Lookup SecretLookup
	// Skew is the allowed clock difference; zero or less means DefaultSkew.
	Skew time.Duration
	// Now is the server clock; nil means time.Now.
	Now func() time.Time
	// Service is the credential-scope service accepted; "" means "ec2".
	Service string
	// RegionCheck, when set, replaces the check that the scope region is
	// shaped like one: it returns the error for a region not served.
	RegionCheck func(region string) *awserr.Error

	keys keyCache
}

// NewVerifier returns a Verifier with the default skew and the system clock.
func NewVerifier(lookup SecretLookup) *Verifier {
	return &Verifier{Lookup: lookup, Skew: DefaultSkew, Now: time.Now}
}

// IsAuthParam reports whether a query parameter name belongs to the signature,
// so the codec can skip it. Names are case-sensitive, like every EC2
// parameter. X-Amz-Content-Sha256 is included: a presigned URL may carry it.
func IsAuthParam(name string) bool {
	switch name {
	case ParamAlgorithm, ParamCredential, ParamDate, ParamExpires,
		ParamSignedHeaders, ParamSignature, ParamSecurityToken, ParamContentSHA256:
		return true
	}
	return false
}

// presignMarker reports whether name shows the client meant the presigned
// form. X-Amz-Date and X-Amz-Security-Token alone do not: a header-signed
// request may carry them as ordinary signed query parameters.
func presignMarker(name string) bool {
	switch name {
	case ParamAlgorithm, ParamCredential, ParamSignedHeaders, ParamSignature:
		return true
	}
	return false
}

// Unsigned reports whether r carries no signature that its head could
// show: no Authorization header and no signature parameter (SigV4's
// presigned form, SigV2's AWSAccessKeyId) in the URL's query. Only a SigV2
// form body can still hold one; SigV4's presigned parameters count only in
// the URL, as Verify reads them (AWS's SigV4 documentation: "query string
// parameters"; the SDKs' presigners put them there). MissingAuth is the
// answer to an unsigned request.
func Unsigned(r *http.Request) bool {
	for _, a := range r.Header.Values("Authorization") {
		if strings.TrimSpace(a) != "" {
			return false
		}
	}
	params, ok := parseQuery(r.URL.RawQuery)
	if !ok {
		return false // malformed: Verify's own answer, after the transport checks
	}
	for _, p := range params {
		if presignMarker(p.name) || p.name == "AWSAccessKeyId" {
			return false
		}
	}
	return true
}

// MissingAuth is EC2's answer to a request without credentials.
func MissingAuth() error { return errMissingAuth() }

// Verify checks the SigV4 signature of r, whose body has already been read
// into body (r.Body is not read). It supports the Authorization header form
// and the presigned query form (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature, optional
// X-Amz-Security-Token).
//
// Every error is an *awserr.Error:
//   - MissingParameter (400): no signature at all.
//   - AuthFailure (401): SigV2 request, unknown access key.
//   - IncompleteSignature (400): malformed header, credential or date,
//     missing presigned parameter, host not signed, both forms at once.
//   - SignatureDoesNotMatch (403): scope service not ec2, region not shaped
//     like a Region, scope date not the request date, wrong signature.
//   - RequestExpired (400): outside the clock skew, presigned URL expired.
//   - MalformedQueryString (400): undecodable query string.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Result, error) {
	return v.VerifyHashed(r, body, "")
}

// VerifyHashed is Verify for a body whose SHA-256 (lower-case hex) the
// caller computed while reading it; "" computes it here.
func (v *Verifier) VerifyHashed(r *http.Request, body []byte, bodyHash string) (*Result, error) {
	res, err := v.verify(r, body, bodyHash)
	if err != nil {
		return nil, err // not a typed nil
	}
	return res, nil
}

// CheckPayloadHash compares the body's SHA-256 (lower-case hex), computed
// as it was read, with the X-Amz-Content-Sha256 header, so that a body the
// header does not describe is refused before anything parses it or spends
// on verifying its signature. It returns nil when the header is absent or
// UNSIGNED-PAYLOAD (the signature check covers the rest), and otherwise
// SignatureDoesNotMatch (403) with S3's wording: EC2 publishes no code of
// its own for it, and the signature covers the claimed hash, so the
// request's signature cannot describe this body.
func CheckPayloadHash(r *http.Request, bodyHash string) error {
	claim := r.Header.Get(ParamContentSHA256)
	if claim == "" || claim == unsignedPayload || strings.EqualFold(claim, bodyHash) {
		return nil
	}
	return errMismatch(msgPayloadHash)
}

// signed is what either form says about its signature.
type signed struct {
	credential    string
	signedHeaders string
	signature     string
	amzDate       time.Time
	amzDateText   string // amzDate in the ISO 8601 basic form, as signed
	presigned     bool
	expires       int64 // presigned only, seconds
	payloadHash   string
	token         string
	excludeParam  string // left out of the canonical query
}

func (v *Verifier) verify(r *http.Request, body []byte, bodyHash string) (*Result, *awserr.Error) {
	if r == nil || r.URL == nil {
		return nil, awserr.Internal(errors.New("sigv4: nil request or URL"))
	}
	params, ok := parseQuery(r.URL.RawQuery)
	if !ok {
		return nil, errMalformedQuery()
	}
	authz := r.Header.Values("Authorization")
	hasHeader := false
	for _, a := range authz {
		if strings.TrimSpace(a) != "" {
			hasHeader = true
		}
	}
	presigned := false
	for _, p := range params {
		if presignMarker(p.name) {
			presigned = true
			break
		}
	}

	var s signed
	var err *awserr.Error
	switch {
	case hasHeader && presigned:
		return nil, errIncomplete(msgBothForms)
	case hasHeader:
		if len(authz) > 1 {
			return nil, errIncomplete("The Authorization header must appear only once.")
		}
		s, err = fromHeader(r, authz[0])
		if err == nil && s.token == "" {
			// A token may travel in the (signed) query instead (spec §3.1).
			for _, p := range params {
				if p.name == ParamSecurityToken {
					s.token = p.value
					break
				}
			}
		}
	case presigned:
		s, err = fromQuery(r, params)
	case isSigV2(r, params, body):
		return nil, errAuthFailure()
	default:
		return nil, errMissingAuth()
	}
	if err != nil {
		return nil, err
	}
	return v.check(r, body, bodyHash, params, &s)
}

// fromHeader reads the Authorization header form.
func fromHeader(r *http.Request, h string) (signed, *awserr.Error) {
	a, err := parseAuthorization(h)
	if err != nil {
		return signed{}, err
	}
	// X-Amz-Date wins over Date (spec §5.1).
	date, isAmz := r.Header.Get("X-Amz-Date"), true
	if date == "" {
		date, isAmz = r.Header.Get("Date"), false
	}
	if msg := missingComponents(a, date != "", h); msg != "" {
		return signed{}, errIncomplete("%s", msg)
	}
	var t time.Time
	var ok bool
	if isAmz {
		t, ok = parseAmzDate(date)
	} else {
		t, ok = parseDateHeader(date)
	}
	if !ok {
		return signed{}, errBadDate(date)
	}
	if !isAmz {
		date = t.Format(amzDateLayout)
	}
	s := signed{
		credential:    a.credential,
		signedHeaders: a.signedHeaders,
		signature:     a.signature,
		amzDate:       t,
		amzDateText:   date,
		token:         r.Header.Get(ParamSecurityToken),
		payloadHash:   r.Header.Get(ParamContentSHA256),
	}
	return s, nil
}

func errBadDate(date string) *awserr.Error {
	return errIncomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", echo(date))
}

// fromQuery reads the presigned form. Each signature parameter may appear
// once: with two, client and server could read different ones.
func fromQuery(r *http.Request, params []queryParam) (signed, *awserr.Error) {
	var got [8]string
	var seen [8]bool
	names := [8]string{ParamAlgorithm, ParamCredential, ParamDate, ParamExpires,
		ParamSignedHeaders, ParamSignature, ParamSecurityToken, ParamContentSHA256}
	for _, p := range params {
		for i, n := range names {
			if p.name != n {
				continue
			}
			if seen[i] {
				return signed{}, errIncomplete("Query parameter '%s' must appear only once.", n)
			}
			seen[i], got[i] = true, p.value
		}
	}
	alg, cred, date, exp, sh, sig, token, hash := got[0], got[1], got[2], got[3], got[4], got[5], got[6], got[7]
	if alg == "" || cred == "" || date == "" || exp == "" || sh == "" || sig == "" {
		return signed{}, errIncomplete(msgPresignMissing)
	}
	if alg != Algorithm {
		return signed{}, errIncomplete("X-Amz-Algorithm only supports \"%s\"", Algorithm)
	}
	t, ok := parseAmzDate(date)
	if !ok {
		return signed{}, errBadDate(date)
	}
	n, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil {
		return signed{}, errIncomplete("X-Amz-Expires should be a number")
	}
	if !seen[7] {
		hash = r.Header.Get(ParamContentSHA256)
	}
	if !seen[6] {
		token = r.Header.Get(ParamSecurityToken)
	}
	return signed{
		credential:    cred,
		signedHeaders: sh,
		signature:     sig,
		amzDate:       t,
		amzDateText:   date,
		presigned:     true,
		expires:       n,
		payloadHash:   hash,
		token:         token,
		excludeParam:  ParamSignature,
	}, nil
}

// isSigV2 recognises a Signature Version 2 request: AWSAccessKeyId in the
// query or in a form body.
func isSigV2(r *http.Request, params []queryParam, body []byte) bool {
	for _, p := range params {
		if p.name == "AWSAccessKeyId" {
			return true
		}
	}
	if r.Method != http.MethodPost ||
		!strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") ||
		!bytes.Contains(body, []byte("AWSAccessKeyId")) {
		return false
	}
	form, _ := parseQuery(string(body))
	for _, p := range form {
		if p.name == "AWSAccessKeyId" {
			return true
		}
	}
	return false
}

// check validates the scope and the clock, looks up the secret and compares
// the signature.
func (v *Verifier) check(r *http.Request, body []byte, bodyHash string, params []queryParam, s *signed) (*Result, *awserr.Error) {
	sc, err := parseCredential(s.credential)
	if err != nil {
		return nil, err
	}
	if !signsHost(s.signedHeaders) {
		return nil, errIncomplete(msgHostNotSigned)
	}
	if err := checkSignedHeaders(s.signedHeaders); err != nil {
		return nil, err
	}
	if want := v.service(); sc.service != want {
		return nil, errMismatch("Credential should be scoped to correct service: '" + want + "'.")
	}
	if v.RegionCheck != nil {
		if err := v.RegionCheck(sc.region); err != nil {
			return nil, err
		}
	} else if !validRegion(sc.region) {
		return nil, errMismatch(msgInvalidRegion)
	}
	if d := s.amzDateText[:len(dateLayout)]; sc.date != d {
		return nil, errMismatch("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			echo(sc.date) + "' != '" + d + "', from '" + s.amzDateText + "'.")
	}
	if err := v.checkTime(s); err != nil {
		return nil, err
	}

	if sc.accessKeyID == "" || v.Lookup == nil {
		return nil, errAuthFailure()
	}
	secret, ok := v.Lookup(sc.accessKeyID)
	if !ok || secret == "" {
		return nil, errAuthFailure()
	}

	if bodyHash == "" {
		bodyHash = hashHex(body)
	}
	payloadHash := s.payloadHash
	if payloadHash == "" {
		payloadHash = bodyHash
	}
	creq := canonicalRequestSum(r.Method, canonicalURI(r.URL.EscapedPath()),
		canonicalQuery(params, s.excludeParam), r, s.signedHeaders, payloadHash)
	key := v.keys.get(sc.accessKeyID, secret, sc.date, sc.region, sc.service)
	want := signature(key, stringToSignSum(s.amzDateText, sc.scope, creq))
	if !signatureMatches(s.signature, want) {
		return nil, errMismatch(MsgSignatureMismatch)
	}
	// The signature covers the claimed hash; the claim must cover the body.
	if payloadHash != unsignedPayload && !strings.EqualFold(payloadHash, bodyHash) {
		return nil, errMismatch(msgPayloadHash)
	}
	return &Result{
		AccessKeyID:   sc.accessKeyID,
		Region:        sc.region,
		Time:          s.amzDate,
		Presigned:     s.presigned,
		SecurityToken: s.token,
	}, nil
}

// checkTime applies the clock skew to a header signature, and the skew on
// the early side plus the exact lifetime to a presigned one.
func (v *Verifier) checkTime(s *signed) *awserr.Error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	t := s.amzDate
	if !s.presigned {
		if t.Before(now.Add(-skew)) || t.After(now.Add(skew)) {
			return errExpired(MsgRequestExpired)
		}
		return nil
	}
	switch {
	case s.expires <= 0:
		return errExpired(MsgRequestExpired)
	case s.expires > MaxExpires:
		return errExpired(msgExpiresTooLong)
	case t.After(now.Add(skew)), now.After(t.Add(time.Duration(s.expires) * time.Second)):
		return errExpired(MsgRequestExpired)
	}
	return nil
}
