// Package server is amigo's HTTP edge: request ids, the panic guard, body
// limits, SigV4, the access log, and the one place where errors become XML
// or JSON. It routes Action=… to the ec2 handlers.
package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
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

// maxBody caps a request body: a ModifyImageAttribute with 10,000 account
// ids fits comfortably.
const maxBody = 4 << 20

// Server answers EC2 Query requests.
type Server struct {
	dir      *account.Directory
	verifier *sigv4.Verifier
	actions  map[string]ec2.Action
	log      *slog.Logger
	ready    func() bool
	bufs     sync.Pool
	// identity and stsVerifier serve Regions and STS (sts.go).
	identity    Identity
	stsVerifier *sigv4.Verifier
	ops         Ops // metrics, throttling, faults (ops.go)
}

// New returns a Server over the given directory and actions.
func New(dir *account.Directory, actions map[string]ec2.Action, log *slog.Logger) *Server {
	s := &Server{dir: dir, actions: actions, log: log, ready: func() bool { return true }}
	s.verifier = sigv4.NewVerifier(func(id string) (string, bool) {
		k, ok := dir.Key(id)
		return k.Secret, ok
	})
	s.bufs.New = func() any { return new(bytes.Buffer) }
	return s
}

// request is what one call carries through the handler.
type request struct {
	id      string
	action  string
	account string
	json    bool
	service string // "" for EC2; else routed by sts.go
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_amigo/health" {
		s.health(w, r)
		return
	}
	if s.serveOps(w, r) {
		return
	}
	defer s.ops.Metrics.Started()()
	start := time.Now()
	req := &request{id: uuid.NewString(), json: wantsJSON(r)}
	status, code := 0, ""
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic", "request_id", req.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			e := awserr.Internal(fmt.Errorf("panic: %v", p))
			status, code = s.writeError(w, req, e)
		}
		s.log.Info("request", "request_id", req.id, "account", req.account, "action", req.action,
			"status", status, "error_code", code, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		s.observe(req, status, code, time.Since(start))
	}()
	out, err := s.handle(r, req)
	if err != nil {
		status, code = s.writeError(w, req, err)
		return
	}
	status = http.StatusOK
	if req.service != "" {
		s.writeSTS(w, req, out)
		return
	}
	buf := s.getBuf()
	defer s.putBuf(buf)
	h := w.Header()
	h.Set("x-amzn-RequestId", req.id)
	h.Set("Server", "AmazonEC2")
	if req.json {
		h.Set("Content-Type", "application/json")
		query.EncodeJSON(buf, out)
	} else {
		// A long answer goes out as it is encoded (chunked, as EC2's own
		// do) rather than whole from memory.
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		query.EncodeXMLStream(buf, func(b *bytes.Buffer) {
			_, _ = w.Write(b.Bytes())
			b.Reset()
		}, req.action, req.id, out)
	}
	_, _ = w.Write(buf.Bytes())
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

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !s.ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"starting"}`)
		return
	}
	_, _ = io.WriteString(w, `{"status":"ok","store":"open"}`)
}

// handle runs one request through the checks of spec §4.4 in order:
// transport, action and version, authentication, decoding, then the action.
func (s *Server) handle(r *http.Request, req *request) (any, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, awserr.Newf(awserr.CodeInvalidRequest, "The HTTP method %s is not supported.", r.Method)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, awserr.New(awserr.CodeMalformedQueryString, "The request body could not be read.")
	}
	if len(body) > maxBody {
		return nil, awserr.New(awserr.CodeMalformedQueryString, "The request body is too large.")
	}
	params, jsonBody, err := parseParams(r, body)
	if err != nil {
		return nil, err
	}
	if svc := s.stsService(r, params.Get("Version")); svc != "" {
		req.service = svc
		return s.handleSTS(r, req, body, params, svc)
	}
	action := params.Get("Action")
	if action == "" && jsonBody != nil {
		action = jsonAction(jsonBody)
	}
	req.action = action
	if action == "" {
		return nil, awserr.New(awserr.CodeMissingAction, "The request must contain the parameter Action")
	}
	a, ok := s.actions[action]
	if !ok {
		return nil, awserr.Newf(awserr.CodeInvalidAction, "The action %s is not valid for this web service.", action)
	}
	if v := params.Get("Version"); v != "" && v != APIVersion {
		return nil, awserr.Newf(awserr.CodeNoSuchVersion, "The requested version (%s) of service AmazonEC2 does not exist", v)
	} else if v == "" && jsonBody == nil {
		return nil, awserr.MissingParameter("Version")
	}

	res, err := s.verifier.Verify(r, body)
	if err != nil {
		return nil, err
	}
	key, ok := s.dir.Key(res.AccessKeyID)
	if !ok { // the verifier only passes known keys; belt and braces
		return nil, awserr.AuthFailureCredentials("AWS was not able to validate the provided access credentials")
	}
	req.account = key.Account
	ctx, err := s.admit(r.Context(), req, res.Region, params, jsonBody)
	if err != nil {
		return nil, err
	}
	caller := resource.Caller{Viewer: s.dir.Viewer(key.Account), Region: res.Region}
	caller.Authorize = s.authorizer(key, res.Region)

	in := a.New()
	if jsonBody != nil {
		err = query.DecodeJSON(jsonBody, in)
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
	return a.Handle(ctx, caller, in)
}

// parseParams reads the Query parameters from the query string and, for a
// form POST, the body. A JSON POST returns its body for DecodeJSON.
func parseParams(r *http.Request, body []byte) (url.Values, []byte, error) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, awserr.New(awserr.CodeMalformedQueryString, "The query string is malformed.")
	}
	if r.Method != http.MethodPost || len(body) == 0 {
		return params, nil, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		return params, body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, awserr.New(awserr.CodeMalformedQueryString, "The request body is not a well-formed query string.")
	}
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	return params, nil, nil
}

// jsonAction reads "Action" from a JSON body.
func jsonAction(body []byte) string {
	var v struct{ Action string }
	_ = json.Unmarshal(body, &v) // a bad body fails again, properly, in DecodeJSON
	return v.Action
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// writeError is the one place an error becomes a response.
func (s *Server) writeError(w http.ResponseWriter, req *request, err error) (int, string) {
	e := awserr.From(err)
	if e.Cause != nil || e.Status >= 500 {
		s.log.Error("request failed", "request_id", req.id, "action", req.action, "code", e.Code, "cause", errString(e.Cause))
	}
	if req.service != "" {
		s.writeSTSError(w, req, e)
		return e.Status, e.Code
	}
	buf := s.getBuf()
	defer s.putBuf(buf)
	h := w.Header()
	h.Set("x-amzn-RequestId", req.id)
	h.Set("Server", "AmazonEC2")
	if req.json {
		query.EncodeErrorJSON(buf, e.Code, e.Message)
		h.Set("Content-Type", "application/json")
	} else {
		query.EncodeErrorXML(buf, e.Code, e.Message, req.id)
		h.Set("Content-Type", "text/xml;charset=UTF-8")
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(buf.Bytes())
	return e.Status, e.Code
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// SetReady installs the health check's readiness probe.
func (s *Server) SetReady(f func() bool) { s.ready = f }
