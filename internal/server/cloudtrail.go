package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/iam"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/sigv4"
)

// The audit trail at the edge: each EC2 call's event begins once its
// caller is known, and LookupEvents is answered on the same endpoint
// (spec around-images §6.6).

// Trail is the audit trail: the recorder, and the page tokens' sealer.
type Trail struct {
	Recorder *audit.Recorder
	Pages    *resource.Pages
}

// cloudTrailTarget is LookupEvents' X-Amz-Target (model targetPrefix);
// the bare "CloudTrail_20131101." form is accepted too.
const (
	cloudTrailTargetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
	cloudTrailShortPrefix  = "CloudTrail_20131101."
	serviceCloudTrail      = "cloudtrail"
	jsonContentType        = "application/x-amz-json-1.1"
)

// isCloudTrail reports a CloudTrail call: its X-Amz-Target together with
// the signature's service scope (a JSON body alone still means EC2).
func isCloudTrail(r *http.Request) bool {
	t := r.Header.Get("X-Amz-Target")
	if !strings.HasPrefix(t, cloudTrailTargetPrefix) && !strings.HasPrefix(t, cloudTrailShortPrefix) {
		return false
	}
	return sigv4.ScopeService(r) == serviceCloudTrail
}

func (s *Server) trailVerifier() *sigv4.Verifier {
	s.trailOnce.Do(func() {
		v := sigv4.NewVerifier(s.verifier.Lookup)
		v.Service = serviceCloudTrail
		v.Now = func() time.Time {
			if s.verifier.Now != nil {
				return s.verifier.Now()
			}
			return time.Now()
		}
		v.RegionCheck = func(r string) *awserr.Error {
			if s.identity.Regions == nil || s.identity.Regions.Serves(r) {
				return nil
			}
			return awserr.CloudTrail.New(awserr.CodeUnrecognizedClient, "The security token included in the request is invalid.")
		}
		s.trail.verifier = v
	})
	return s.trail.verifier
}

// handleCloudTrail answers a CloudTrail call: LookupEvents over the
// caller's own trail in the signed Region.
func (s *Server) handleCloudTrail(ctx context.Context, r *http.Request, req *request, body []byte) (out any, err error) {
	req.service = serviceCloudTrail
	req.json = false
	target := r.Header.Get("X-Amz-Target")
	req.action = target[strings.LastIndexByte(target, '.')+1:]
	res, err := s.trailVerifier().Verify(r, body)
	if err != nil {
		return nil, trailAuthError(err)
	}
	key, ok := s.dir.Key(res.AccessKeyID)
	if !ok {
		return nil, awserr.CloudTrail.New(awserr.CodeUnrecognizedClient, "The security token included in the request is invalid.")
	}
	req.account = key.Account
	if req.action != "LookupEvents" {
		return nil, awserr.CloudTrail.New(awserr.CodeUnknownOperationException, "")
	}
	// LookupEvents is itself a read-only event of the trail (spec §6.1),
	// recorded after it answers, so a page never lists its own lookup.
	ctx, event := s.beginAuditOf(ctx, r, req, key, res.Region, audit.SourceTrail, true)
	defer func() { finishAuditAs(ctx, event, err, false) }()
	if event != nil {
		event.SetRequestParameters(audit.JSONParameters(body))
	}
	// CloudTrail's own rate, with EC2's throttling switched on (spec §6.7):
	// first after authentication, as EC2's buckets are.
	if l := s.ops.Throttle; l != nil {
		if err := l.AllowLookup(key.Account, res.Region); err != nil {
			return nil, err
		}
	}
	if key.Policy != nil && key.Policy.Decide("cloudtrail:LookupEvents", "*") != iam.Allowed {
		p := key.Principal()
		return nil, awserr.CloudTrail.Newf(awserr.CodeAccessDeniedException,
			"User: %s is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action", p.ARN)
	}
	tr := s.ops.Trail
	lookup, err := tr.Recorder.Lookup(ctx, tr.Pages, key.Account, res.Region, body)
	if err != nil {
		e := awserr.From(err)
		if e.Code == awserr.CodeInternalError {
			e = &awserr.Error{Code: awserr.CodeInternalFailure, Status: http.StatusInternalServerError, Message: e.Message, Cause: e.Cause}
		}
		return nil, e
	}
	return lookup, nil
}

// trailAuthError rewords the verifier's EC2 answers as JSON services give
// them (spec §6.9).
func trailAuthError(err error) error {
	e := awserr.From(err)
	switch e.Code {
	case awserr.CodeAuthFailure:
		return awserr.CloudTrail.New(awserr.CodeUnrecognizedClient, "The security token included in the request is invalid.")
	case awserr.CodeSignatureDoesNotMatch, awserr.CodeRequestExpired:
		return awserr.CloudTrail.New(awserr.CodeInvalidSignatureException, e.Message)
	case awserr.CodeUnrecognizedClient, awserr.CodeInvalidSignatureException:
		return e
	}
	return awserr.CloudTrail.New(awserr.CodeMissingAuthTokenException, "Missing Authentication Token")
}

// writeCloudTrail writes a JSON 1.1 answer: out, or e when it is set.
func (s *Server) writeCloudTrail(w http.ResponseWriter, req *request, out any, e *awserr.Error) {
	h := w.Header()
	h.Set("x-amzn-RequestId", req.id)
	h.Set("Content-Type", jsonContentType)
	status := http.StatusOK
	if e != nil {
		status = e.Status
		out = struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}{e.Code, e.Message}
	}
	b, err := json.Marshal(out)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"`+awserr.CodeInternalFailure+`","message":"An internal error has occurred"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// beginAudit starts the event of an authenticated EC2 call.
func (s *Server) beginAudit(ctx context.Context, r *http.Request, req *request, key account.Key, region string) (context.Context, *audit.Pending) {
	return s.beginAuditOf(ctx, r, req, key, region, audit.SourceEC2, readOnlyAction(req.action))
}

// beginAuditOf starts the event of an authenticated call to source (EC2,
// STS or CloudTrail on the shared endpoint, spec around-images §6.1).
func (s *Server) beginAuditOf(ctx context.Context, r *http.Request, req *request, key account.Key, region, source string, readOnly bool) (context.Context, *audit.Pending) {
	rec := s.ops.Trail.Recorder
	if rec == nil {
		return ctx, nil
	}
	p := key.Principal()
	id := audit.Identity{Type: "Root", PrincipalID: p.ID, ARN: p.ARN, AccountID: key.Account, AccessKeyID: key.ID}
	if key.User != "" {
		id.Type, id.UserName = "IAMUser", key.User
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return rec.Begin(ctx, audit.Call{
		Account: key.Account, Region: region, Name: req.action, Source: source,
		ReadOnly: readOnly, Identity: id, SourceIP: ip,
		UserAgent: r.Header.Get("User-Agent"), RequestID: req.id,
	})
}

// finishAudit ends it with the call's outcome. EC2's codes are recorded
// with the Client. or Server. prefix CloudTrail gives them (spec §6.4).
func finishAudit(ctx context.Context, p *audit.Pending, err error) {
	finishAuditAs(ctx, p, err, true)
}

// finishAuditAs is finishAudit; prefixed is false for STS and CloudTrail,
// whose records carry the bare code (spec §6.4, Appendix).
func finishAuditAs(ctx context.Context, p *audit.Pending, err error, prefixed bool) {
	if p == nil {
		return
	}
	if err == nil {
		p.Finish(ctx, nil)
		return
	}
	e := awserr.From(err)
	code := e.Code
	if prefixed {
		prefix := "Client."
		if e.Status >= 500 {
			prefix = "Server."
		}
		code = prefix + code
	}
	p.Finish(ctx, &audit.Failure{Code: code, Message: e.Message})
}

// readOnlyAction reports an action that changes nothing (spec §6.1).
func readOnlyAction(action string) bool {
	for _, p := range []string{"Describe", "Get", "List"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}
