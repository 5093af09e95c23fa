package server

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/store"
)

// outcome is where an error of the work becomes what the client sees when
// it is not the client's fault: a store that cannot answer is a retryable
// ServiceUnavailable, never an InternalError.
func TestOutcome(t *testing.T) {
	live := context.Background()
	expired, cancel := context.WithDeadline(live, time.Unix(0, 0))
	defer cancel()
	cases := []struct {
		name     string
		ctx      context.Context
		err      error
		wantCode string // "" when err must come back unchanged
	}{
		{"store unavailable, bare", live, fmt.Errorf("postgres: acquire: %w", store.ErrUnavailable), awserr.CodeServiceUnavailable},
		{"store unavailable inside Internal", live, awserr.Internal(fmt.Errorf("x: %w", store.ErrUnavailable)), awserr.CodeServiceUnavailable},
		{"request deadline passed", expired, fmt.Errorf("sqlite: %w", context.DeadlineExceeded), awserr.CodeServiceUnavailable},
		{"a client error stays", live, awserr.New(awserr.CodeInvalidAMIIDNotFound, "m"), ""},
		{"a client error naming the store stays", live, &awserr.Error{Code: awserr.CodeInvalidParameterValue, Status: 400, Cause: store.ErrUnavailable}, ""},
		{"any other failure stays internal", live, errors.New("boom"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := outcome(httptest.NewRequest("POST", "/", nil), tc.ctx, tc.err)
			if tc.wantCode == "" {
				if got != tc.err {
					t.Fatalf("outcome = %v, want the error unchanged", got)
				}
				return
			}
			e := awserr.From(got)
			if e.Code != tc.wantCode || e.Status != 503 {
				t.Fatalf("outcome = %d %s, want 503 %s", e.Status, e.Code, tc.wantCode)
			}
		})
	}
}
