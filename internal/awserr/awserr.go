// Package awserr holds the one error type every layer of amigo returns and the
// single table that maps an EC2 error code to its HTTP status. Only the server
// package turns these values into XML or JSON.
package awserr

import (
	"errors"
	"fmt"
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

// New returns an error with the status of code's default row in the table.
// AuthFailure goes through its two constructors instead.
func New(code, message string) *Error {
	return &Error{Code: code, Status: StatusOf(code), Message: message}
}

// Newf is New with a formatted message.
func Newf(code, format string, args ...any) *Error {
	return New(code, fmt.Sprintf(format, args...))
}

// New returns an error of protocol p with the status of code's row for p
// (STS's AccessDenied is 403, say, where EC2 has no such code).
func (p Protocol) New(code, message string) *Error {
	return &Error{Code: code, Status: status(p, code, VariantDefault), Message: message}
}

// Newf is Protocol.New with a formatted message.
func (p Protocol) Newf(code, format string, args ...any) *Error {
	return p.New(code, fmt.Sprintf(format, args...))
}

// AuthFailureCredentials is AuthFailure as EC2 answers it when the access
// key or the signature material cannot be validated: 401.
func AuthFailureCredentials(message string) *Error {
	return &Error{Code: CodeAuthFailure, Status: status(EC2, CodeAuthFailure, VariantCredentials), Message: message}
}

// AuthFailureResource is AuthFailure as EC2 answers it when the caller may
// not use a resource ("Not authorized for image:ami-…"): 400.
func AuthFailureResource(message string) *Error {
	return &Error{Code: CodeAuthFailure, Status: status(EC2, CodeAuthFailure, VariantDefault), Message: message}
}

// Internal wraps an unexpected Go error: the client sees InternalError, the
// log sees the cause.
func Internal(cause error) *Error {
	return &Error{Code: CodeInternalError, Status: StatusOf(CodeInternalError),
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
func DryRunOK() *Error { return New(CodeDryRunOperation, MsgDryRunOK) }

// Unauthorized is the answer when a policy denies the action.
func Unauthorized() *Error { return New(CodeUnauthorizedOperation, MsgUnauthorized) }

// MissingParameter is EC2's "The request must contain the parameter X".
func MissingParameter(name string) *Error {
	return Newf(CodeMissingParameter, "The request must contain the parameter %s", name)
}

// InvalidParameterValue is EC2's generic bad-value error.
func InvalidParameterValue(format string, args ...any) *Error {
	return Newf(CodeInvalidParameterValue, format, args...)
}
