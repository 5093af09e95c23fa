package server

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/amigo-ec2/amigo/internal/ec2"
)

// The in-flight cap counts units of cost, not requests. A small call
// (describe by id, a write) is one unit; a listing is worth many: an
// un-paged DescribeImages of an account's 1,100 images is about a hundred
// times the CPU of a describe by id. Counting requests let a client that
// asks for listings hold the whole cap with its heaviest work, and the
// other clients' requests waited behind it for CPU (the hostile suite's
// "overload" class). The cost is known before any work starts, from the
// action and its parameters (the answer's size is not known until it is
// made, and a request cannot be shed half-way through its answer):
//
//   - an action that is not a listing (its input has no MaxResults): 1;
//   - a listing with MaxResults m: 1 + m/itemsPerUnit;
//   - a listing by ids alone (ImageId.N, …): 1 + ids/itemsPerUnit;
//   - an un-paged listing: the most a request may cost, listingShare of
//     the cap in force (8 of the default 64).
//
// With a key's share at half the cap, one access key holds at most four
// un-paged listings at once and all keys together eight, twice the SQLite
// read pool's connections (a quarter of the cap, as many as the pool,
// shed a single client's eight parallel listings on an idle server); the
// rest wait briefly for their key's share (admission.go) or are shed with
// 503 Unavailable before they cost anything but their verification.

// itemsPerUnit is how many listed items count as one small call: a
// listing's page of 1,000 costs the most a request may cost.
const itemsPerUnit = 128

// listingShare: the most one request may cost is 1/listingShare of the cap.
const listingShare = 8

// listings names the actions whose input has MaxResults: they answer a
// list whose length the caller does not bound by ids.
func listings(actions map[string]ec2.Action) map[string]bool {
	m := make(map[string]bool)
	for name, a := range actions {
		if a.New == nil {
			continue
		}
		t := reflect.TypeOf(a.New())
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			continue
		}
		if _, ok := t.FieldByName("MaxResults"); ok {
			m[name] = true
		}
	}
	return m
}

// costHints are what scanParams notes for the cost: MaxResults and the
// number of ids asked for.
type costHints struct {
	maxResults string
	ids        int
}

// note records a Query parameter's part in the cost.
func (h *costHints) note(name, value string) {
	switch {
	case name == "MaxResults":
		if h.maxResults == "" {
			h.maxResults = value
		}
	case isIDParam(name):
		h.ids++
	}
}

// isIDParam: ImageId.1, SnapshotId.2, InstanceId.3, …
func isIDParam(name string) bool {
	base, n, ok := strings.Cut(name, ".")
	return ok && strings.HasSuffix(base, "Id") && n != "" && n[0] >= '0' && n[0] <= '9'
}

// jsonHints reads the same from a JSON body (amigo's own envelope).
func jsonHints(body []byte) costHints {
	var v map[string]json.RawMessage
	var h costHints
	if json.Unmarshal(body, &v) != nil {
		return h
	}
	for k, raw := range v {
		switch {
		case k == "MaxResults":
			h.maxResults = string(raw)
		case strings.HasSuffix(k, "Ids"):
			var ids []json.RawMessage
			if json.Unmarshal(raw, &ids) == nil {
				h.ids += len(ids)
			}
		}
	}
	return h
}

// cost is a request's units of the in-flight cap, at most maxCost.
func (s *Server) cost(action string, h costHints) int64 {
	if !s.listing[action] {
		return 1
	}
	top := max(1, s.inflight.limit.Load()/listingShare)
	if s.keys.fixed > 0 {
		top = min(top, s.keys.fixed)
	}
	w := top
	if m, err := strconv.ParseInt(h.maxResults, 10, 64); err == nil && m > 0 {
		w = 1 + m/itemsPerUnit
	} else if h.ids > 0 {
		w = 1 + int64(h.ids)/itemsPerUnit
	}
	return max(1, min(w, top))
}
