package awserr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

// TestStatus pins the status every code is answered with (spec ec2-images
// §4.1). A new code needs a row here and in the table.
func TestStatus(t *testing.T) {
	cases := []struct {
		code string
		want int
	}{
		{CodeAccessDenied, 400}, // EC2 has no such code: a client error by default
		{CodeAuthFailure, 400},  // New's row; the 401 form has its constructor
		{CodeBlocked, 403},
		{CodeDryRunOperation, 412},
		{CodeFilterLimitExceeded, 400},
		{CodeIdempotentInstanceTerminated, 400},
		{CodeIdempotentParameterMismatch, 400},
		{CodeIncompleteSignature, 400},
		{CodeIncorrectInstanceState, 400},
		{CodeIncorrectState, 400},
		{CodeInstanceLimitExceeded, 400},
		{CodeInternalError, 500},
		{CodeInternalFailure, 500},
		{CodeInvalidAMIAttributeItemValue, 400},
		{CodeInvalidAMIIDMalformed, 400},
		{CodeInvalidAMIIDNotFound, 400},
		{CodeInvalidAMIIDUnavailable, 400},
		{CodeInvalidAMINameDuplicate, 400},
		{CodeInvalidAMINameMalformed, 400},
		{CodeInvalidAction, 400},
		{CodeInvalidBlockDeviceMapping, 400},
		{CodeInvalidAuthorizationMessage, 400},
		{CodeInvalidClientTokenId, 403},
		{CodeInvalidID, 400},
		{CodeInvalidInstanceAttributeValue, 400},
		{CodeInvalidInstanceIDMalformed, 400},
		{CodeInvalidInstanceIDNotFound, 400},
		{CodeInvalidKernelIdMalformed, 400},
		{CodeInvalidParameter, 400},
		{CodeInvalidParameterCombination, 400},
		{CodeInvalidParameterValue, 400},
		{CodeInvalidRamDiskIdMalformed, 400},
		{CodeInvalidRegion, 400},
		{CodeInvalidRequest, 400},
		{CodeInvalidSnapshotIDMalformed, 400},
		{CodeInvalidSnapshotInUse, 400},
		{CodeInvalidSnapshotNotFound, 400},
		{CodeInvalidParameterDependency, 400},
		{CodeInvalidVolumeIDMalformed, 400},
		{CodeInvalidVolumeNotFound, 400},
		{CodeInvalidZoneNotFound, 400},
		{CodeVolumeInUse, 400},
		{CodeInvalidUserIDMalformed, 400},
		{CodeMalformedQueryString, 400},
		{CodeMissingAction, 400},
		{CodeMissingAuthenticationToken, 403},
		{CodeMissingParameter, 400},
		{CodeNoSuchVersion, 400},
		{CodeOperationNotPermitted, 400},
		{CodeOptInRequired, 403},
		{CodePendingVerification, 403},
		{CodeRequestExpired, 400},
		{CodeRequestLimitExceeded, 503},
		{CodeResourceLimitExceeded, 400},
		{CodeServerInternal, 500},
		{CodeServiceUnavailable, 503},
		{CodeSignatureDoesNotMatch, 403},
		{CodeTagLimitExceeded, 400},
		{CodeUnauthorizedOperation, 403},
		{CodeUnavailable, 503},
		{CodeUnknownParameter, 400},
		{CodeUnsupportedHibernation, 400},
		{CodeUnsupportedOperation, 400},
		{CodeInvalidInstanceType, 400},
		{CodeValidationError, 400},
	}
	seen := map[string]bool{}
	for _, c := range cloudTrailCases {
		seen[c.code] = true // pinned in TestCloudTrailStatus
	}
	for _, tc := range cases {
		seen[tc.code] = true
		if got := StatusOf(tc.code); got != tc.want {
			t.Errorf("StatusOf(%s) = %d, want %d", tc.code, got, tc.want)
		}
		if e := New(tc.code, "m"); e.Status != tc.want || e.Code != tc.code {
			t.Errorf("New(%s) = %d %s, want %d", tc.code, e.Status, e.Code, tc.want)
		}
	}
	for _, r := range Rows() {
		if !seen[r.Code] {
			t.Errorf("table code %s has no case in TestStatus", r.Code)
		}
	}
}

// STS's rows are its own: AccessDenied is 403 there.
func TestSTSStatus(t *testing.T) {
	cases := []struct {
		code string
		want int
	}{
		{CodeAccessDenied, 403},
		{CodeInvalidAction, 400},
		{CodeInvalidAuthorizationMessage, 400},
		{CodeInvalidClientTokenId, 403},
		{CodeMissingAuthenticationToken, 403},
		{CodeSignatureDoesNotMatch, 403},
		{CodeValidationError, 400},
	}
	for _, tc := range cases {
		if e := STS.New(tc.code, "m"); e.Status != tc.want || e.Code != tc.code {
			t.Errorf("STS.New(%s) = %d %s, want %d", tc.code, e.Status, e.Code, tc.want)
		}
	}
}

// cloudTrailCases are CloudTrail's rows: every client error is 400 there
// (spec around-images §6.9).
var cloudTrailCases = []struct {
	code string
	want int
}{
	{CodeInvalidLookupAttributes, 400},
	{CodeInvalidTimeRange, 400},
	{CodeInvalidMaxResults, 400},
	{CodeInvalidNextToken, 400},
	{CodeInvalidEventCategory, 400},
	{CodeUnrecognizedClient, 400},
	{CodeThrottlingException, 400},
	{CodeInvalidSignatureException, 400},
	{CodeMissingAuthTokenException, 400},
	{CodeAccessDeniedException, 400},
	{CodeSerializationException, 400},
	{CodeUnknownOperationException, 400},
	{CodeInternalFailure, 500},
	{CodeServiceUnavailable, 503},
}

func TestCloudTrailStatus(t *testing.T) {
	for _, tc := range cloudTrailCases {
		if e := CloudTrail.New(tc.code, "m"); e.Status != tc.want || e.Code != tc.code {
			t.Errorf("CloudTrail.New(%s) = %d %s, want %d", tc.code, e.Status, e.Code, tc.want)
		}
	}
}

// TestTableShape keeps the table one row per (protocol, code, variant), with
// a default row for every code, and only real HTTP error statuses.
func TestTableShape(t *testing.T) {
	type key struct {
		p Protocol
		c string
		v Variant
	}
	rows := map[key]bool{}
	defaults := map[string]bool{}
	for _, r := range Rows() {
		k := key{r.Protocol, r.Code, r.Variant}
		if rows[k] {
			t.Errorf("duplicate row %+v", r)
		}
		rows[k] = true
		if r.Variant == VariantDefault {
			defaults[r.Code] = true
		}
		if r.Status < 400 || r.Status > 599 || http.StatusText(r.Status) == "" {
			t.Errorf("row %+v: status is not an HTTP error status", r)
		}
		if r.Protocol != EC2 && r.Protocol != STS && r.Protocol != CloudTrail {
			t.Errorf("row %+v: unknown protocol", r)
		}
	}
	for k := range rows {
		if !defaults[k.c] {
			t.Errorf("code %s has no Default row", k.c)
		}
	}
}

func TestAuthFailureVariants(t *testing.T) {
	cases := []struct {
		name string
		err  *Error
		want int
	}{
		{"credentials", AuthFailureCredentials("AWS was not able to validate the provided access credentials"), http.StatusUnauthorized},
		{"resource", AuthFailureResource("Not authorized for image:ami-0123456789abcdef0"), http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Code != CodeAuthFailure || tc.err.Status != tc.want {
				t.Errorf("got %s %d, want AuthFailure %d", tc.err.Code, tc.err.Status, tc.want)
			}
		})
	}
}

func TestUnknownCodeIsClientError(t *testing.T) {
	// Only amigo's own failures may be 5xx; a code missing from the table
	// must not turn a client mistake into one.
	if got := StatusOf("NotInTheTable"); got != http.StatusBadRequest {
		t.Errorf("StatusOf(unknown) = %d, want 400", got)
	}
	if Known("NotInTheTable") || !Known(CodeInvalidAMIIDNotFound) {
		t.Error("Known disagrees with the table")
	}
}

func TestFromAndInternal(t *testing.T) {
	cause := errors.New("disk on fire")
	e := From(fmt.Errorf("wrapped: %w", cause))
	if e.Code != CodeInternalError || e.Status != 500 || !errors.Is(e, cause) {
		t.Errorf("From(plain error) = %+v", e)
	}
	want := New(CodeInvalidAMIIDNotFound, "m")
	if got := From(fmt.Errorf("ctx: %w", want)); got != want {
		t.Errorf("From(wrapped *Error) = %+v, want the same *Error", got)
	}
	if From(nil) != nil {
		t.Error("From(nil) != nil")
	}
}
