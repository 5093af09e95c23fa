// Package awserr holds the one error type every layer of amigo returns and the
// single table that maps an EC2 error code to its HTTP status. Only the server
// package turns these values into XML or JSON.
package awserr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an EC2 error as a client sees it. Cause, when set, is logged and
// never sent to the client.
type Error struct {
	Code    string
	Status  int
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Message + " (" + e.Cause.Error() + ")"
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// statusByCode is the one place an EC2 code gets its HTTP status (spec §4.1).
// Codes not listed here are client errors answered with 400.
var statusByCode = map[string]int{
	"UnauthorizedOperation":      http.StatusForbidden,
	"SignatureDoesNotMatch":      http.StatusForbidden,
	"MissingAuthenticationToken": http.StatusForbidden,
	"InvalidClientTokenId":       http.StatusForbidden,
	"OptInRequired":              http.StatusForbidden,
	"Blocked":                    http.StatusForbidden,
	"PendingVerification":        http.StatusForbidden,
	"DryRunOperation":            http.StatusPreconditionFailed,
	"InternalError":              http.StatusInternalServerError,
	"InternalFailure":            http.StatusInternalServerError,
	"ServerInternal":             http.StatusInternalServerError,
	"RequestLimitExceeded":       http.StatusServiceUnavailable,
	"Unavailable":                http.StatusServiceUnavailable,
	"ServiceUnavailable":         http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status EC2 uses for code.
func StatusOf(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// New returns an error with code's usual status.
func New(code, message string) *Error {
	return &Error{Code: code, Status: StatusOf(code), Message: message}
}

// Newf is New with a formatted message.
func Newf(code, format string, args ...any) *Error {
	return New(code, fmt.Sprintf(format, args...))
}

// WithStatus returns an error whose status differs from the code's default,
// as EC2 does for AuthFailure: 401 for credentials, 400 for resources.
func WithStatus(status int, code, message string) *Error {
	return &Error{Code: code, Status: status, Message: message}
}

// Internal wraps an unexpected Go error: the client sees InternalError, the
// log sees the cause.
func Internal(cause error) *Error {
	return &Error{Code: "InternalError", Status: http.StatusInternalServerError,
		Message: "An internal error has occurred", Cause: cause}
}

// From returns err as an *Error, wrapping anything else as Internal.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// Messages shared by several packages, worded as EC2 words them (spec §4.3).
const (
	MsgDryRunOK     = "Request would have succeeded, but DryRun flag is set."
	MsgUnauthorized = "You are not authorized to perform this operation."
)

// DryRunOK is the answer to an allowed DryRun request.
func DryRunOK() *Error { return New("DryRunOperation", MsgDryRunOK) }

// Unauthorized is the answer when a policy denies the action.
func Unauthorized() *Error { return New("UnauthorizedOperation", MsgUnauthorized) }

// MissingParameter is EC2's "The request must contain the parameter X".
func MissingParameter(name string) *Error {
	return Newf("MissingParameter", "The request must contain the parameter %s", name)
}

// InvalidParameterValue is EC2's generic bad-value error.
func InvalidParameterValue(format string, args ...any) *Error {
	return Newf("InvalidParameterValue", format, args...)
}
