package server

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/query"
)

// The Query parameters are read twice, on purpose. Before the signature is
// verified, scanParams checks the encoding and finds Action and Version
// without building anything (EC2 reports those errors before
// authentication, spec §4.4). After it, parseParams builds the values.

// preamble is what scanParams learns from an unauthenticated request.
type preamble struct {
	action, version string
	json            []byte // the body of a JSON request
	form            bool   // the body is a form to parse
	cost            costHints
}

// scanParams checks the query string and body for well-formed encoding and
// the parameter limit, and finds Action and Version. It allocates only
// those two values.
func scanParams(r *http.Request, body []byte) (preamble, error) {
	var p preamble
	n, err := scanForm(r.URL.RawQuery, &p, "The query string is malformed.")
	if err != nil {
		return p, err
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/json" {
			if !json.Valid(body) {
				return p, awserr.New(awserr.CodeMalformedQueryString, "The request body is not well-formed JSON.")
			}
			p.json = body
			if p.action == "" {
				p.action = jsonAction(body)
			}
			p.cost = jsonHints(body)
			return p, nil
		}
		m, err := scanForm(string(body), &p, "The request body is not a well-formed query string.")
		if err != nil {
			return p, err
		}
		n += m
		p.form = true
	}
	if n > query.MaxParameters {
		return p, query.TooManyParameters(n)
	}
	return p, nil
}

// scanForm walks s as url.ParseQuery would, checking every escape, and
// notes the first Action and Version. It returns the number of pairs.
func scanForm(s string, p *preamble, malformed string) (int, error) {
	n := 0
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		n++
		if strings.IndexByte(pair, ';') >= 0 || !validEscapes(pair) {
			return n, awserr.New(awserr.CodeMalformedQueryString, malformed)
		}
		name, value, _ := strings.Cut(pair, "=")
		switch name {
		case "Action":
			if p.action == "" {
				p.action, _ = url.QueryUnescape(value)
			}
		case "Version":
			if p.version == "" {
				p.version, _ = url.QueryUnescape(value)
			}
		default:
			p.cost.note(name, value)
		}
	}
	return n, nil
}

// validEscapes reports whether every '%' in s starts a two-digit hex escape.
func validEscapes(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; {
		if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
			return false
		}
		s = s[i+3:]
		i = strings.IndexByte(s, '%')
	}
	return true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// parseParams builds the Query parameters of an authenticated request from
// the query string and, for a form POST, the body. scanParams has checked
// their encoding and count.
func parseParams(r *http.Request, p *preamble, body []byte) (url.Values, error) {
	params := make(url.Values)
	if err := parseForm(params, r.URL.RawQuery); err != nil {
		return nil, awserr.New(awserr.CodeMalformedQueryString, "The query string is malformed.")
	}
	if p.form {
		if err := parseForm(params, string(body)); err != nil {
			return nil, awserr.New(awserr.CodeMalformedQueryString, "The request body is not a well-formed query string.")
		}
	}
	return params, nil
}

// parseForm is url.ParseQuery without its own cap on the number of
// parameters (10,000, which would answer a request the codec accepts with a
// misleading error): the cap here is query.MaxParameters, checked by
// scanParams.
func parseForm(m url.Values, s string) error {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return err
		}
		value, err = url.QueryUnescape(value)
		if err != nil {
			return err
		}
		m[name] = append(m[name], value)
	}
	return nil
}

// jsonAction reads "Action" from a JSON body that json.Valid accepted.
func jsonAction(body []byte) string {
	var v struct{ Action string }
	_ = json.Unmarshal(body, &v) // a body of the wrong shape fails again, properly, in DecodeJSON
	return v.Action
}

// peekAction finds Action where it costs next to nothing, to label a
// request shed before its parameters are scanned (metrics, access log):
// in the URL's query, or as the body's first parameter, where the SDKs put
// it. Elsewhere it is not looked for, and the request counts as unknown.
// Nothing but the label is taken from it: the request is not verified.
func peekAction(r *http.Request, body []byte) string {
	q := r.URL.RawQuery
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if v, ok := strings.CutPrefix(pair, "Action="); ok {
			if len(v) > maxActionName {
				return ""
			}
			return v
		}
	}
	if rest, ok := bytes.CutPrefix(body, []byte("Action=")); ok {
		if i := bytes.IndexByte(rest, '&'); i >= 0 {
			rest = rest[:i]
		}
		if len(rest) <= maxActionName {
			return string(rest)
		}
	}
	return ""
}

// maxActionName bounds a peeked action name (EC2's longest are under 64).
const maxActionName = 64
