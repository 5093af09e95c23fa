package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/amigo-ec2/amigo/internal/faults"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/metrics"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/throttle"
)

// Ops is what runs amigo for a team: metrics, EC2's throttling and fault
// injection. Every field is optional.
type Ops struct {
	Metrics  *metrics.Metrics
	Throttle *throttle.Limiter // nil: no throttling (the default)
	Faults   *faults.Injector  // nil: no rules, and no /_amigo/faults
	Trail    Trail             // the audit trail (cloudtrail.go); zero: none
	// AdminToken, when set, is the bearer token admin endpoints require
	// from any client; unset, they answer loopback clients alone.
	AdminToken string
}

// SetOps installs o; call it before serving.
func (s *Server) SetOps(o Ops) { s.ops = o }

// serveOps answers amigo's own endpoints beside the health probe and
// reports whether r was one of them.
func (s *Server) serveOps(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/_amigo/metrics": // open, like the health probe
		if s.ops.Metrics == nil {
			http.NotFound(w, r)
			return true
		}
		s.ops.Metrics.Handler().ServeHTTP(w, r)
	case "/_amigo/faults":
		if s.ops.Faults == nil {
			http.NotFound(w, r)
			return true
		}
		if !s.admin(w, r) {
			return true
		}
		s.faultsAdmin(w, r)
	default:
		return false
	}
	return true
}

// observe records one answered request in the metrics.
func (s *Server) observe(req *request, status int, code string, d time.Duration) {
	s.ops.Metrics.Request(req.action, code, status, d)
}

// creates are the actions whose new image an outcome rule can fail;
// snapshotCreates those whose new snapshot it can (into error).
var (
	creates         = map[string]bool{"RegisterImage": true, "CopyImage": true, "CreateImage": true}
	snapshotCreates = map[string]bool{"CreateSnapshot": true, "CopySnapshot": true}
)

// admit runs right after authentication, before decoding (spec
// around-images §5.6): the throttle takes its token, so a call that later
// fails validation still counts, then the fault rules act. It returns the
// context the action runs with.
func (s *Server) admit(ctx context.Context, req *request, region string, params url.Values, jsonBody []byte) (context.Context, error) {
	if l := s.ops.Throttle; l != nil {
		if err := l.Allow(req.account, region, req.action, plainCall(params, jsonBody), instanceCount(req.action, params, jsonBody)); err != nil {
			return ctx, err
		}
	}
	in := s.ops.Faults
	if in == nil || in.Empty() {
		return ctx, nil
	}
	d := in.Decide(faults.Request{Action: req.action, Account: req.account, Region: region,
		Resources: resourceIDs(params, jsonBody)})
	if d.Delay > 0 {
		s.ops.Metrics.Fault(req.action, "delay")
		t := time.NewTimer(d.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx, ctx.Err()
		}
	}
	if d.Err != nil {
		s.ops.Metrics.Fault(req.action, "error")
		return ctx, d.Err
	}
	if d.Outcome != nil && creates[req.action] {
		s.ops.Metrics.Fault(req.action, "outcome")
		ctx = image.WithOutcome(ctx, *d.Outcome)
	}
	if d.Outcome != nil && snapshotCreates[req.action] {
		s.ops.Metrics.Fault(req.action, "outcome")
		ctx = snapshot.WithOutcome(ctx, snapshot.Outcome{After: d.Outcome.After, Message: d.Outcome.Reason.Message})
	}
	return ctx, nil
}

// plainCall reports a call with neither filters nor pagination, which
// some Describe* actions meter in a smaller bucket. Listing ids is no
// filter.
func plainCall(params url.Values, jsonBody []byte) bool {
	if jsonBody != nil {
		return !bytes.Contains(jsonBody, []byte(`"Filter`)) && !bytes.Contains(jsonBody, []byte(`"MaxResults"`)) &&
			!bytes.Contains(jsonBody, []byte(`"NextToken"`))
	}
	for name := range params {
		if strings.HasPrefix(name, "Filter.") || name == "MaxResults" || name == "NextToken" {
			return false
		}
	}
	return true
}

// instanceCount is how many instances an instance action asks for, for
// its resource-rate bucket: RunInstances' MaxCount, the others' ids. A
// value that does not parse counts one; validation refuses it later.
func instanceCount(action string, params url.Values, jsonBody []byte) int {
	switch action {
	case "RunInstances":
		if jsonBody != nil {
			var v struct{ MaxCount int }
			if json.Unmarshal(jsonBody, &v) == nil && v.MaxCount > 0 {
				return v.MaxCount
			}
			return 1
		}
		if n, err := strconv.Atoi(params.Get("MaxCount")); err == nil && n > 0 {
			return n
		}
		return 1
	case "StartInstances", "StopInstances", "TerminateInstances":
		if jsonBody != nil {
			var v struct{ InstanceIds []json.RawMessage }
			_ = json.Unmarshal(jsonBody, &v)
			return len(v.InstanceIds)
		}
		n := 0
		for name := range params {
			if strings.HasPrefix(name, "InstanceId.") {
				n++
			}
		}
		return n
	}
	return 0
}

var resourceID = regexp.MustCompile(`\b(ami|snap)-[0-9a-f]{8,17}\b`)

// resourceIDs lists the image and snapshot ids among the request's
// parameters, for rules that match on a resource.
func resourceIDs(params url.Values, jsonBody []byte) []string {
	var ids []string
	for _, vs := range params {
		for _, v := range vs {
			ids = append(ids, resourceID.FindAllString(v, -1)...)
		}
	}
	for _, m := range resourceID.FindAll(jsonBody, -1) {
		ids = append(ids, string(m))
	}
	return ids
}

// admin lets an admin request through, or answers it: with a token set,
// the right bearer token from anywhere; without one, loopback clients
// alone.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) bool {
	if s.ops.AdminToken != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.ops.AdminToken)) == 1 {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="amigo"`)
		adminError(w, http.StatusUnauthorized, "this admin endpoint requires the --admin-token as a bearer token")
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip, perr := netip.ParseAddr(host); err == nil && perr == nil && ip.Unmap().IsLoopback() {
		return true
	}
	adminError(w, http.StatusForbidden, "admin endpoints answer loopback clients only, unless amigo runs with --admin-token")
	return false
}

// maxFaultsDoc bounds a PUT /_amigo/faults body.
const maxFaultsDoc = 1 << 20

// faultsAdmin serves /_amigo/faults: GET the document, PUT (JSON or YAML)
// to replace it, DELETE to clear it.
func (s *Server) faultsAdmin(w http.ResponseWriter, r *http.Request) {
	in := s.ops.Faults
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFaultsDoc+1))
		if err != nil || len(body) > maxFaultsDoc {
			adminError(w, http.StatusRequestEntityTooLarge, "the document must be at most 1 MiB")
			return
		}
		doc, err := faults.Parse(body)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		in.Set(doc)
		s.log.Info("fault rules replaced", "rules", len(doc.Rules), "remote", r.RemoteAddr)
	case http.MethodDelete:
		in.Set(faults.Document{Rules: []faults.Rule{}})
		s.log.Info("fault rules cleared", "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		adminError(w, http.StatusMethodNotAllowed, "use GET, PUT or DELETE")
		return
	}
	doc := in.Document()
	if strings.Contains(r.Header.Get("Accept"), "yaml") {
		w.Header().Set("Content-Type", "application/yaml")
		_ = yaml.NewEncoder(w).Encode(doc)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
