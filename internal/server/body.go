package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/sigv4"
)

// bodyStep is the first reservation for a body of unknown length; the
// buffer then doubles, each growth reserved before it is made.
const bodyStep = 16 << 10

// readBody reads the request body within the budgets: at most MaxBodyBytes,
// by the body deadline, and reserving memory from MaxBodyMemory before the
// buffer grows, so a body that trickles in holds only what it has sent.
// It hashes the body as it arrives: sum is its SHA-256 in lower-case hex,
// which the X-Amz-Content-Sha256 check and the signature use without a
// second pass. The caller gives back the reserved bytes with
// s.bodyMem.release.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (body []byte, sum string, reserved int64, err error) {
	limit := s.limits.MaxBodyBytes
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, emptySum, 0, nil
	}
	tooLarge := func() error { return errBodyTooLarge(limit) }
	if sigv4.Unsigned(r) && (limit <= 0 || limit > maxUnsignedBody) {
		// Only a small form body can make an unsigned request more than
		// unsigned (a SigV2 AWSAccessKeyId, or the Action and Version
		// errors that come first, spec §4.4): a larger one is refused as
		// unsigned, unread past maxUnsignedBody.
		limit = maxUnsignedBody
		tooLarge = sigv4.MissingAuth
	}
	if limit > 0 && r.ContentLength > limit {
		return nil, "", 0, tooLarge()
	}
	if d := s.limits.BodyTimeout; d > 0 {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(d)) == nil {
			// Cleared once the body is in: net/http's background read of the
			// connection would otherwise hit it and cancel the request.
			defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
		}
	}
	defer func() {
		if err != nil {
			s.bodyMem.release(reserved)
			body, reserved = nil, 0
		}
	}()
	h := sha256.New()
	for {
		if len(body) == cap(body) {
			next := max(2*int64(cap(body)), bodyStep)
			if r.ContentLength > 0 {
				// The declared length (+1 to see the end without a second
				// buffer) once the bytes are arriving; what a client only
				// promises is not reserved for it.
				next = min(next, r.ContentLength+1)
			}
			if limit > 0 {
				if int64(len(body)) > limit {
					return nil, "", reserved, tooLarge()
				}
				next = min(next, limit+1)
			}
			grow := next - int64(cap(body))
			if !s.bodyMem.tryAcquire(grow) {
				return nil, "", reserved, errOverloaded()
			}
			reserved += grow
			nb := make([]byte, len(body), next)
			copy(nb, body)
			body = nb
		}
		n, rerr := r.Body.Read(body[len(body):cap(body)])
		h.Write(body[len(body) : len(body)+n])
		body = body[:len(body)+n]
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if errors.Is(rerr, os.ErrDeadlineExceeded) {
				return nil, "", reserved, awserr.New(awserr.CodeMalformedQueryString, "The request body did not arrive in time.")
			}
			var tooBig *http.MaxBytesError
			if errors.As(rerr, &tooBig) {
				return nil, "", reserved, tooLarge()
			}
			if r.Context().Err() != nil {
				return nil, "", reserved, errClientGone
			}
			return nil, "", reserved, awserr.New(awserr.CodeMalformedQueryString, "The request body could not be read.")
		}
	}
	if limit > 0 && int64(len(body)) > limit {
		return nil, "", reserved, tooLarge()
	}
	return body, hex.EncodeToString(h.Sum(nil)), reserved, nil
}

// maxUnsignedBody is the most of an unsigned request's body that is read
// (readBody): room for any SigV2 form request a client sends.
const maxUnsignedBody = 64 << 10

// emptySum is the SHA-256 of no bytes, in hex.
const emptySum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
