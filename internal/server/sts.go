package server

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/iam"
	"github.com/amigo-ec2/amigo/internal/region"
	"github.com/amigo-ec2/amigo/internal/sigv4"
	"github.com/amigo-ec2/amigo/internal/sts"
)

// Identity is what the edge needs beyond EC2: the Regions requests may be
// signed for, STS on the same endpoint, and the sealer that encodes
// UnauthorizedOperation messages.
type Identity struct {
	Regions *region.Set
	STS     *sts.Service
	Sealer  *iam.Sealer
}

// SetIdentity installs id; call it before serving. Without it the server
// takes any region shaped like one and answers EC2 alone.
func (s *Server) SetIdentity(id Identity) {
	s.identity = id
	if id.Regions != nil {
		// EC2 answers a scope Region it does not serve as it answers one
		// not enabled for the account (spec around-images §1.5).
		s.verifier.RegionCheck = func(r string) *awserr.Error {
			if id.Regions.Serves(r) {
				return nil
			}
			return awserr.AuthFailureCredentials(sigv4.MsgAuthFailure)
		}
	}
	s.stsVerifier = sigv4.NewVerifier(s.verifier.Lookup)
	s.stsVerifier.Service = "sts"
	// One clock for both, so a test that pins the EC2 verifier's pins STS's.
	s.stsVerifier.Now = func() time.Time {
		if s.verifier.Now != nil {
			return s.verifier.Now()
		}
		return time.Now()
	}
	s.stsVerifier.RegionCheck = func(r string) *awserr.Error {
		if id.Regions == nil || id.Regions.Serves(r) {
			return nil
		}
		return awserr.STS.New(awserr.CodeSignatureDoesNotMatch, "Credential should be scoped to a valid region. ")
	}
}

// stsService picks the service of a request on the shared endpoint (spec
// around-images §2.1): the credential scope's service; with no signature,
// the API version (the request's Version parameter). "" is EC2.
func (s *Server) stsService(r *http.Request, version string) string {
	if s.identity.STS == nil {
		return ""
	}
	switch svc := sigv4.ScopeService(r); svc {
	case "ec2":
		return ""
	case "":
		if version == sts.Version {
			return "sts"
		}
		return ""
	default:
		return svc
	}
}

// handleSTS answers a request routed away from EC2: STS itself, or a
// service amigo does not serve (iam, for instance), which gets STS's
// InvalidClientTokenId so that clients falling back between identity calls
// (the Terraform provider) move on to the next.
func (s *Server) handleSTS(ctx context.Context, r *http.Request, req *request, body []byte, params url.Values, svc string) (out any, err error) {
	req.json = false // the JSON envelope is an EC2 extension
	req.action = params.Get("Action")
	if svc != "sts" {
		return nil, errInvalidToken()
	}
	res, err := s.stsVerifier.VerifyHashed(r, body, req.bodyHash)
	if err != nil {
		return nil, stsAuthError(err, r, s.stsVerifier.Now)
	}
	key, ok := s.dir.Key(res.AccessKeyID)
	if !ok {
		return nil, errInvalidToken()
	}
	req.account = key.Account
	// Recorded as CloudTrail records STS (spec around-images §6.1):
	// eventSource sts.amazonaws.com, read-only, so with --audit-reads like
	// EC2's reads; a refusal always, with its bare code. Unauthenticated
	// calls are not recorded (nor are EC2's).
	_, event := s.beginAuditOf(ctx, r, req, key, res.Region, audit.SourceSTS, true)
	defer func() { finishAuditAs(ctx, event, err, false) }()
	for name := range params {
		if sigv4.IsAuthParam(name) {
			params.Del(name)
		}
	}
	return s.identity.STS.Do(sts.Caller{Principal: key.Principal(), Policy: key.Policy}, req.action, params)
}

func errInvalidToken() *awserr.Error {
	return awserr.STS.New(awserr.CodeInvalidClientTokenId, "The security token included in the request is invalid.")
}

// stsAuthError rewords the verifier's EC2 answers as STS gives them.
func stsAuthError(err error, r *http.Request, now func() time.Time) error {
	e := awserr.From(err)
	switch e.Code {
	case awserr.CodeMissingParameter:
		return awserr.STS.New(awserr.CodeMissingAuthenticationToken, "Request is missing Authentication Token")
	case awserr.CodeAuthFailure:
		return errInvalidToken()
	case awserr.CodeRequestExpired:
		t := time.Now()
		if now != nil {
			t = now()
		}
		t = t.UTC()
		date := r.Header.Get("X-Amz-Date")
		if date == "" {
			date = r.URL.Query().Get(sigv4.ParamDate)
		}
		const layout = "20060102T150405Z"
		return awserr.STS.New(awserr.CodeSignatureDoesNotMatch,
			"Signature expired: "+date+" is now earlier than "+t.Add(-sigv4.DefaultSkew).Format(layout)+
				" ("+t.Format(layout)+" - 15 min.)")
	}
	return e
}

// writeSTS writes a successful STS answer.
func (s *Server) writeSTS(w http.ResponseWriter, req *request, out any) {
	buf := s.getBuf()
	defer s.putBuf(buf)
	sts.WriteResponse(buf, req.action, req.id, out)
	writeSTSBody(w, req, http.StatusOK, buf)
}

// writeSTSError writes STS's error envelope.
func (s *Server) writeSTSError(w http.ResponseWriter, req *request, e *awserr.Error) {
	buf := s.getBuf()
	defer s.putBuf(buf)
	sts.WriteError(buf, e, req.id)
	writeSTSBody(w, req, e.Status, buf)
}

func writeSTSBody(w http.ResponseWriter, req *request, status int, buf *bytes.Buffer) {
	h := w.Header()
	h.Set("x-amzn-RequestId", req.id)
	h.Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// authorizer is the caller's IAM check for EC2 actions: nil for a key
// without a policy; otherwise a denial becomes EC2's UnauthorizedOperation
// naming the principal, action and resource, with the encoded message
// when the action has resource-level permissions (spec around-images §4.1).
func (s *Server) authorizer(key account.Key, rgn string) func(action, resource string) error {
	if key.Policy == nil {
		return nil
	}
	pol, sealer := key.Policy, s.identity.Sealer
	return func(action, resource string) error {
		d := pol.Decide(action, resource)
		if d == iam.Allowed {
			return nil
		}
		den := iam.Denial{Principal: key.Principal(), Action: action, Resource: resource, Decision: d, Region: rgn}
		encoded := ""
		if sealer != nil && resource != "*" {
			encoded = sealer.Seal(den)
		}
		return awserr.New(awserr.CodeUnauthorizedOperation, den.Message(encoded))
	}
}
