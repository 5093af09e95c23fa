// Package server is amigo's HTTP edge: request ids, the panic guard, body
// limits, SigV4, the access log, and the one place where errors become XML
// or JSON. It routes Action=… to the ec2 handlers.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/ec2"
	"github.com/amigo-ec2/amigo/internal/query"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/sigv4"
)

// APIVersion is the only EC2 API version amigo speaks.
const APIVersion = "2016-11-15"

// Server answers EC2 Query requests.
type Server struct {
	dir      *account.Directory
	verifier *sigv4.Verifier
	actions  map[string]ec2.Action
	listing  map[string]bool // actions that answer lists (cost.go)
	log      *slog.Logger
	bufs     sync.Pool

	// The budgets (limits.go) and what they count.
	limits   Limits
	inflight *limiter
	keys     *keyShare
	writers  *gate
	bodyMem  *gate
	runq     *runQueue
	ready    readiness
	// identity and stsVerifier serve Regions and STS (sts.go).
	identity    Identity
	stsVerifier *sigv4.Verifier
	ops         Ops // metrics, throttling, faults (ops.go)
	trailOnce   sync.Once
	trail       struct{ verifier *sigv4.Verifier } // cloudtrail.go
}

// New returns a Server over the given directory and actions, with the
// default Limits.
func New(dir *account.Directory, actions map[string]ec2.Action, log *slog.Logger) *Server {
	s := &Server{dir: dir, actions: actions, log: log, listing: listings(actions)}
	s.verifier = sigv4.NewVerifier(func(id string) (string, bool) {
		k, ok := dir.Key(id)
		return k.Secret, ok
	})
	s.bufs.New = func() any { return new(bytes.Buffer) }
	s.SetLimits(Limits{})
	return s
}

// request is what one call carries through the handler.
type request struct {
	id      string
	action  string
	account string
	json    bool
	service string // "" for EC2; else routed by sts.go
	// deadline is the request's work deadline (zero: none), which a
	// streamed answer's first batch keeps after handle returns.
	deadline time.Time
	// bodyHash is the body's SHA-256 in hex, computed as it was read.
	bodyHash string
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveOps(w, r) {
		return
	}
	if strings.HasPrefix(r.URL.Path, probePrefix) {
		s.probe(w, r)
		return
	}
	start := time.Now()
	req := &request{id: uuid.NewString(), json: wantsJSON(r)}
	status, code := 0, ""
	// Deferred first so it runs last: the metrics do not hold the slot.
	defer func() { s.observe(req, status, code, time.Since(start)) }()
	t := &ticket{s: s}
	defer t.release()
	out := &answer{w: w, rc: http.NewResponseController(w), timeout: s.limits.WriteTimeout}
	defer func() {
		p := recover()
		if a, ok := p.(abortStream); ok { // a streamed answer failed mid-way
			status, code, p = a.status, a.code, http.ErrAbortHandler
		}
		switch {
		case p == nil:
		case p == http.ErrAbortHandler && code != "": // logged as writeStream says
		case p == http.ErrAbortHandler: // a write failed mid-answer
			status, code = 0, "ClientTimeout"
		default:
			s.log.Error("panic", "request_id", req.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			status, code = s.writeError(out, req, awserr.Internal(fmt.Errorf("panic: %v", p)))
		}
		s.log.Info("request", "request_id", req.id, "account", req.account, "action", req.action,
			"status", status, "error_code", code, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		if p == http.ErrAbortHandler {
			panic(p) // net/http closes the connection without a word
		}
	}()
	res, err := s.handle(w, r, req, t)
	if errors.Is(err, errClientGone) {
		status, code = 499, "ClientClosedRequest" // nginx's number; nothing to write
		return
	}
	if err != nil {
		status, code = s.writeError(out, req, err)
		return
	}
	status = http.StatusOK
	if req.service == serviceCloudTrail {
		s.writeCloudTrail(w, req, res, nil)
		return
	}
	if req.service != "" {
		if out.timeout > 0 {
			_ = out.rc.SetWriteDeadline(time.Now().Add(out.timeout))
		}
		s.writeSTS(w, req, res)
		return
	}
	if st, ok := res.(*query.Stream); ok {
		status, code = s.writeStream(out, r, req, t, st)
		return
	}
	buf := s.getBuf()
	defer s.putBuf(buf)
	h := w.Header()
	h.Set("x-amzn-RequestId", req.id)
	h.Set("Server", "AmazonEC2")
	if req.json {
		h.Set("Content-Type", "application/json")
		query.EncodeJSON(buf, res)
	} else {
		// A long answer goes out as it is encoded (chunked, as EC2's own
		// do) rather than whole from memory.
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		query.EncodeXMLStream(buf, func(b *bytes.Buffer) {
			if out.write(b.Bytes(), t) != nil {
				panic(http.ErrAbortHandler)
			}
			b.Reset()
		}, req.action, req.id, res)
	}
	if out.write(buf.Bytes(), t) != nil {
		status, code = 0, "ClientTimeout"
	}
}

// answer writes a response, each write under its own deadline: a client
// that stops reading holds its answer for at most the write timeout.
type answer struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	err     error
}

// slowWrite is how long a write may take before its client counts as a
// slow reader (see write).
const slowWrite = 20 * time.Millisecond

// write writes b. While the client reads promptly the request keeps its
// in-flight slot, so encoding a long answer stays under the cap on work; a
// write that blocks past slowWrite trades the slot for a writer slot, so
// clients that do not read cannot pin the in-flight slots. t may be nil.
func (a *answer) write(b []byte, t *ticket) error {
	if a.err != nil {
		return a.err
	}
	if a.timeout > 0 {
		_ = a.rc.SetWriteDeadline(time.Now().Add(a.timeout)) // unsupported in tests' recorders
	}
	start := time.Now()
	_, a.err = a.w.Write(b)
	if t != nil && time.Since(start) > slowWrite {
		t.toWriter() // none free: the slot stays in flight, still bounded
	}
	return a.err
}

// maxPooledBuf keeps a rare huge answer's buffer out of the pool, where it
// would hold its memory for good.
const maxPooledBuf = 4 * query.StreamChunk

func (s *Server) getBuf() *bytes.Buffer {
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

func (s *Server) putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuf {
		s.bufs.Put(buf)
	}
}

// handle runs one request through the checks of spec §4.4 in order:
// transport, action and version, authentication, decoding, then the action.
// The body is read within its budgets and hashed as it arrives, and checked
// against its X-Amz-Content-Sha256 before the request takes an in-flight
// slot; nothing is built from it before the signature is verified.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, req *request, t *ticket) (any, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, awserr.Newf(awserr.CodeInvalidRequest, "The HTTP method %s is not supported.", r.Method)
	}
	body, sum, reserved, err := s.readBody(w, r)
	defer s.bodyMem.release(reserved)
	if err != nil {
		// The rest of the body is not wanted: without this net/http would
		// read it before answering, at the client's pace.
		w.Header().Set("Connection", "close")
		return nil, err
	}
	// A body that its own X-Amz-Content-Sha256 does not describe is
	// refused before anything parses it or takes an in-flight slot.
	if err := sigv4.CheckPayloadHash(r, sum); err != nil {
		return nil, err
	}
	req.bodyHash = sum
	if !t.admit() {
		s.ops.Metrics.Shed()
		req.action = peekAction(r, body) // for the metrics' label alone
		return nil, errOverloaded()
	}
	ctx, cancel := s.requestContext(r)
	defer cancel()
	req.deadline = deadlineOf(ctx)
	res, err := s.work(ctx, r, req, body, t)
	return res, outcome(r, ctx, err)
}

func (s *Server) work(ctx context.Context, r *http.Request, req *request, body []byte, t *ticket) (out any, err error) {
	if s.ops.Trail.Recorder != nil && isCloudTrail(r) {
		return s.handleCloudTrail(ctx, r, req, body)
	}
	pre, err := scanParams(r, body)
	if err != nil {
		return nil, err
	}
	if svc := s.stsService(r, pre.version); svc != "" {
		// STS on the same endpoint (sts.go) reads its parameters itself.
		params, err := parseParams(r, &pre, body)
		if err != nil {
			return nil, err
		}
		req.service = svc
		return s.handleSTS(ctx, r, req, body, params, svc)
	}
	req.action = pre.action
	t.read = isRead(pre.action)
	if pre.action == "" {
		return nil, awserr.New(awserr.CodeMissingAction, "The request must contain the parameter Action")
	}
	a, ok := s.actions[pre.action]
	if !ok {
		return nil, awserr.Newf(awserr.CodeInvalidAction, "The action %s is not valid for this web service.", pre.action)
	}
	if v := pre.version; v != "" && v != APIVersion {
		return nil, awserr.Newf(awserr.CodeNoSuchVersion, "The requested version (%s) of service AmazonEC2 does not exist", v)
	} else if v == "" && pre.json == nil {
		return nil, awserr.MissingParameter("Version")
	}

	res, err := s.verifier.VerifyHashed(r, body, req.bodyHash)
	if err != nil {
		return nil, err
	}
	key, ok := s.dir.Key(res.AccessKeyID)
	if !ok { // the verifier only passes known keys; belt and braces
		return nil, awserr.AuthFailureCredentials("AWS was not able to validate the provided access credentials")
	}
	if !t.admitKey(ctx, res.AccessKeyID, s.cost(pre.action, pre.cost), len(body) <= maxWaitBody) {
		// One client holds its share of the cap, or the cap has no room
		// for this request's cost: it is shed, not the others.
		s.ops.Metrics.Shed()
		return nil, errOverloaded()
	}
	req.account = key.Account
	ctx, event := s.beginAudit(ctx, r, req, key, res.Region)
	defer func() { finishAudit(ctx, event, err) }()
	var params url.Values
	if pre.json == nil {
		if params, err = parseParams(r, &pre, body); err != nil {
			return nil, err
		}
	}
	if ctx, err = s.admit(ctx, req, res.Region, params, pre.json); err != nil {
		return nil, err
	}
	caller := resource.Caller{Viewer: s.dir.Viewer(key.Account), Region: res.Region}
	caller.Authorize = s.authorizer(key, res.Region)
	ctx = resource.WithRequestID(ctx, req.id)

	in := a.New()
	if pre.json != nil {
		err = query.DecodeJSON(pre.json, in)
	} else {
		for name := range params {
			if name == "Action" || name == "Version" || sigv4.IsAuthParam(name) {
				params.Del(name)
			}
		}
		err = query.Decode(params, in)
	}
	if err != nil {
		return nil, err
	}
	if event != nil {
		event.SetParameters(req.action, in)
	}
	return a.Handle(ctx, caller, in)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// writeError is the one place an error becomes a response.
func (s *Server) writeError(out *answer, req *request, err error) (int, string) {
	e := awserr.From(err)
	switch {
	case (e.Code == awserr.CodeUnavailable || e.Code == awserr.CodeRequestLimitExceeded || e.Code == awserr.CodeThrottlingException) && e.Cause == nil:
		// Shedding and throttling are the budgets working, not failures:
		// the access log and the metrics count them.
	case e.Code == awserr.CodeServiceUnavailable:
		s.log.Warn("request failed", "request_id", req.id, "action", req.action, "code", e.Code, "cause", errString(e.Cause))
	case e.Cause != nil || e.Status >= 500:
		s.log.Error("request failed", "request_id", req.id, "action", req.action, "code", e.Code, "cause", errString(e.Cause))
	}
	if req.service == serviceCloudTrail {
		s.writeCloudTrail(out.w, req, nil, e)
		return e.Status, e.Code
	}
	if req.service != "" {
		s.writeSTSError(out.w, req, e)
		return e.Status, e.Code
	}
	buf := s.getBuf()
	defer s.putBuf(buf)
	h := out.w.Header()
	h.Set("x-amzn-RequestId", req.id)
	h.Set("Server", "AmazonEC2")
	if req.json {
		query.EncodeErrorJSON(buf, e.Code, e.Message)
		h.Set("Content-Type", "application/json")
	} else {
		query.EncodeErrorXML(buf, e.Code, e.Message, req.id)
		h.Set("Content-Type", "text/xml;charset=UTF-8")
	}
	out.w.WriteHeader(e.Status)
	_ = out.write(buf.Bytes(), nil)
	return e.Status, e.Code
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
