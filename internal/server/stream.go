package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/query"
)

// writeStream writes an answer whose list comes batch by batch
// (query.Stream: DescribeImages without MaxResults). The request's
// deadline covers the work up to the first byte, which is the first
// batch: its failure is answered with an EC2 error as usual. Once bytes
// have left, only the write deadline applies (each write's, in answer),
// the later batches run under the client's connection alone, and a
// failure closes the connection: the client sees a truncated answer,
// never half an answer followed by an error envelope.
//
// Memory per client is one batch and a buffer of about query.StreamChunk:
// each write blocks until the client has taken the bytes, so a client that
// does not read holds its request at the write deadline and no further.
func (s *Server) writeStream(out *answer, r *http.Request, req *request, t *ticket, st *query.Stream) (status int, code string) {
	ctx, cancel := context.WithCancel(r.Context())
	if !req.deadline.IsZero() {
		ctx, cancel = context.WithDeadline(r.Context(), req.deadline)
	}
	defer cancel()
	flushed := false
	next := func() (any, error) {
		if flushed {
			return st.Next(r.Context())
		}
		return st.Next(ctx)
	}
	buf := s.getBuf()
	defer s.putBuf(buf)
	h := out.w.Header()
	h.Set("x-amzn-RequestId", req.id)
	h.Set("Server", "AmazonEC2")
	if req.json {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "text/xml;charset=UTF-8")
	}
	err := query.EncodeStream(buf, req.json, req.action, req.id, st, next, func(b *bytes.Buffer) error {
		flushed = true
		return out.write(b.Bytes(), t)
	})
	switch {
	case err == nil:
		if out.write(buf.Bytes(), t) != nil {
			return 0, "ClientTimeout"
		}
		return http.StatusOK, ""
	case !flushed:
		// Nothing has left: the first batch failed, within the request's
		// deadline, and gets an EC2 error like any request.
		err = outcome(r, ctx, err)
		if errors.Is(err, errClientGone) {
			return 499, "ClientClosedRequest"
		}
		return s.writeError(out, req, err)
	case out.err != nil:
		// The write deadline passed or the client went away.
		status, code = 0, "ClientTimeout"
	case r.Context().Err() != nil:
		status, code = 499, "ClientClosedRequest"
	default:
		e := awserr.From(err)
		s.log.Error("answer failed mid-stream; connection closed", "request_id", req.id, "action", req.action, "code", e.Code, "cause", errString(e.Cause))
		status, code = 0, e.Code
	}
	// Bytes have left: close the connection rather than finish the answer.
	// ServeHTTP's recover logs the request and hands the panic to net/http,
	// which closes the connection without a word.
	panic(abortStream{status: status, code: code})
}

// abortStream is writeStream's panic: how the request ended, for the
// access log, on its way to http.ErrAbortHandler.
type abortStream struct {
	status int
	code   string
}

// deadlineOf returns ctx's deadline, or the zero time.
func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
