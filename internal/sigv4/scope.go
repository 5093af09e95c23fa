package sigv4

import (
	"net/http"
	"net/url"
)

// ScopeService returns the service named in the request's credential scope
// (Authorization header, else X-Amz-Credential in the query), or "" when
// there is none or it cannot be read. It verifies nothing: it lets one
// endpoint route EC2 and STS requests before the service's own checks run.
func ScopeService(r *http.Request) string {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		a, err := parseAuthorization(h)
		if err != nil {
			return ""
		}
		cred = a.credential
	} else if q, err := url.ParseQuery(r.URL.RawQuery); err == nil {
		cred = q.Get(ParamCredential)
	}
	if cred == "" {
		return ""
	}
	sc, err := parseCredential(cred)
	if err != nil {
		return ""
	}
	return sc.service
}
