package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/amigo-ec2/amigo/internal/account"
)

// APIVersion is the EC2 API version every request names.
const APIVersion = "2016-11-15"

const (
	formType  = "application/x-www-form-urlencoded; charset=utf-8"
	userAgent = "amigo-bench/1"
	// requestTimeout bounds one request, so a stuck server cannot hold a
	// run past its deadline for long.
	requestTimeout = 30 * time.Second
)

// Principal is one account and the access key the load generator signs its
// requests with. Each has its own signer, built once, so signing keys are
// derived once per account and day rather than per request.
type Principal struct {
	Account string
	creds   aws.Credentials
	signer  *v4.Signer
}

// NewPrincipal returns a principal signing with one access key.
func NewPrincipal(account, keyID, secret string) *Principal {
	return &Principal{Account: account, signer: v4.NewSigner(),
		creds: aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, Source: "amigo-bench"}}
}

// principals returns a principal for every account of dir that has a key,
// in account order. An account's first key without a policy is preferred,
// so that a describe-only key does not turn every write into
// UnauthorizedOperation.
func principals(dir *account.Directory) []*Principal {
	var ps []*Principal
	for _, id := range dir.Accounts() {
		a, ok := dir.Account(id)
		if !ok || len(a.Keys) == 0 {
			continue
		}
		k := a.Keys[0]
		for _, c := range a.Keys {
			if c.Policy == nil {
				k = c
				break
			}
		}
		ps = append(ps, &Principal{
			Account: id,
			creds:   aws.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret, Source: "amigo-bench"},
			signer:  v4.NewSigner(),
		})
	}
	return ps
}

// client sends signed EC2 Query requests to one endpoint over kept-alive
// connections.
type client struct {
	url    url.URL
	region string
	http   *http.Client
}

// newClient checks endpoint and returns a client whose connection pool
// keeps conns connections open.
func newClient(endpoint, region string, conns int) (*client, error) {
	u, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if region == "" {
		return nil, errors.New("--region is empty")
	}
	tr := &http.Transport{
		Proxy:                 nil, // only ever the endpoint given, never a proxy from the environment
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: requestTimeout,
		ForceAttemptHTTP2:     false,
	}
	return &client{url: *u, region: region, http: &http.Client{Transport: tr, Timeout: requestTimeout}}, nil
}

func parseEndpoint(endpoint string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("--endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--endpoint %q: want http://host:port or https://host:port", endpoint)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--endpoint %q: no query, fragment or user info, please", endpoint)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

func (c *client) close() { c.http.CloseIdleConnections() }

// result is the outcome of one request.
type result struct {
	status int    // HTTP status; 0 when no response arrived
	code   string // "" on success; the EC2 error code, or a bench code below
}

// Codes for failures that carry no EC2 error code.
const (
	codeTransport   = "Transport"   // no HTTP response: refused, reset, timed out
	codeNoCode      = "NoErrorCode" // a non-2xx answer without <Code>
	codeEmptyResult = "EmptyResult" // DescribeImages by id answered without the image
)

// do signs body for p, POSTs it and reads the whole answer into buf (so the
// connection is reused). The caller owns body and buf; body must not be
// changed until do returns.
func (c *client) do(ctx context.Context, p *Principal, body []byte, buf *bytes.Buffer) (result, error) {
	u := c.url // a copy: the signer rewrites RawQuery
	req := &http.Request{
		Method:        http.MethodPost,
		URL:           &u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {formType}, "User-Agent": {userAgent}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          u.Host,
	}
	req = req.WithContext(ctx)
	sum := sha256.Sum256(body)
	if err := p.signer.SignHTTP(ctx, p.creds, req, hex.EncodeToString(sum[:]), "ec2", c.region, time.Now()); err != nil {
		return result{code: codeTransport}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return result{code: codeTransport}, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return result{status: resp.StatusCode, code: codeTransport}, err
	}
	r := result{status: resp.StatusCode}
	if resp.StatusCode/100 != 2 {
		r.code = ErrorCode(buf.Bytes())
		if r.code == "" {
			r.code = codeNoCode
		}
	}
	return r, nil
}

// ErrorCode returns the first <Code> of an EC2 error answer
// (<Response><Errors><Error><Code>…), or of the JSON envelope's
// "code", or "" when there is none.
func ErrorCode(body []byte) string {
	if c, ok := between(body, "<Code>", "</Code>"); ok {
		return string(bytes.TrimSpace(c))
	}
	if c, ok := between(body, `"code":"`, `"`); ok {
		return string(c)
	}
	return ""
}

// between returns what lies between the first open and the next close.
func between(b []byte, open, close string) ([]byte, bool) {
	i := bytes.Index(b, []byte(open))
	if i < 0 {
		return nil, false
	}
	b = b[i+len(open):]
	j := bytes.Index(b, []byte(close))
	if j < 0 {
		return nil, false
	}
	return b[:j], true
}

// form builds an EC2 Query body: Action, Version, then name=value pairs
// with the values escaped.
type form struct{ b []byte }

func newForm(action string) *form {
	f := &form{b: make([]byte, 0, 256)}
	f.b = append(f.b, "Action="...)
	f.b = append(f.b, action...)
	f.b = append(f.b, "&Version="+APIVersion...)
	return f
}

func (f *form) add(name, value string) *form {
	f.b = append(f.b, '&')
	f.b = append(f.b, name...)
	f.b = append(f.b, '=')
	f.b = append(f.b, url.QueryEscape(value)...)
	return f
}

func (f *form) addInt(name string, v int) *form {
	return f.add(name, strconv.Itoa(v))
}
