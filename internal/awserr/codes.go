package awserr

import "net/http"

// Every error code amigo emits, as a constant. Code compares these, never
// string literals (literals_test.go enforces it). The wire spelling is the
// value; the name drops the dots so it is a Go identifier.
const (
	CodeAuthFailure                   = "AuthFailure"
	CodeBlocked                       = "Blocked"
	CodeDryRunOperation               = "DryRunOperation"
	CodeFilterLimitExceeded           = "FilterLimitExceeded"
	CodeIdempotentParameterMismatch   = "IdempotentParameterMismatch"
	CodeIncompleteSignature           = "IncompleteSignature"
	CodeIncorrectInstanceState        = "IncorrectInstanceState"
	CodeIncorrectState                = "IncorrectState"
	CodeInstanceLimitExceeded         = "InstanceLimitExceeded"
	CodeInternalError                 = "InternalError"
	CodeInternalFailure               = "InternalFailure"
	CodeInvalidAMIAttributeItemValue  = "InvalidAMIAttributeItemValue"
	CodeInvalidAMIIDMalformed         = "InvalidAMIID.Malformed"
	CodeInvalidAMIIDNotFound          = "InvalidAMIID.NotFound"
	CodeInvalidAMIIDUnavailable       = "InvalidAMIID.Unavailable"
	CodeInvalidAMINameDuplicate       = "InvalidAMIName.Duplicate"
	CodeInvalidAMINameMalformed       = "InvalidAMIName.Malformed"
	CodeInvalidAction                 = "InvalidAction"
	CodeInvalidBlockDeviceMapping     = "InvalidBlockDeviceMapping"
	CodeInvalidClientTokenId          = "InvalidClientTokenId"
	CodeInvalidID                     = "InvalidID"
	CodeInvalidInstanceAttributeValue = "InvalidInstanceAttributeValue"
	CodeInvalidInstanceIDMalformed    = "InvalidInstanceID.Malformed"
	CodeInvalidInstanceIDNotFound     = "InvalidInstanceID.NotFound"
	CodeInvalidKernelIdMalformed      = "InvalidKernelId.Malformed"
	CodeInvalidParameter              = "InvalidParameter"
	CodeInvalidParameterCombination   = "InvalidParameterCombination"
	CodeInvalidParameterValue         = "InvalidParameterValue"
	CodeInvalidRamDiskIdMalformed     = "InvalidRamDiskId.Malformed"
	CodeInvalidRegion                 = "InvalidRegion"
	CodeInvalidRequest                = "InvalidRequest"
	CodeInvalidSnapshotIDMalformed    = "InvalidSnapshotID.Malformed"
	CodeInvalidUserIDMalformed        = "InvalidUserID.Malformed"
	CodeMalformedQueryString          = "MalformedQueryString"
	CodeMissingAction                 = "MissingAction"
	CodeMissingAuthenticationToken    = "MissingAuthenticationToken"
	CodeMissingParameter              = "MissingParameter"
	CodeNoSuchVersion                 = "NoSuchVersion"
	CodeOperationNotPermitted         = "OperationNotPermitted"
	CodeOptInRequired                 = "OptInRequired"
	CodePendingVerification           = "PendingVerification"
	CodeRequestExpired                = "RequestExpired"
	CodeRequestLimitExceeded          = "RequestLimitExceeded"
	CodeResourceLimitExceeded         = "ResourceLimitExceeded"
	CodeServerInternal                = "ServerInternal"
	CodeServiceUnavailable            = "ServiceUnavailable"
	CodeSignatureDoesNotMatch         = "SignatureDoesNotMatch"
	CodeTagLimitExceeded              = "TagLimitExceeded"
	CodeUnauthorizedOperation         = "UnauthorizedOperation"
	CodeUnavailable                   = "Unavailable"
	CodeUnknownParameter              = "UnknownParameter"
	CodeUnsupportedOperation          = "UnsupportedOperation"
)

// Protocol names the wire protocol whose error envelope carries a code. The
// same spelling may mean different statuses in different protocols, so a
// row is keyed by both.
type Protocol uint8

const (
	// EC2 is the EC2 Query protocol (XML, or amigo's JSON envelope).
	EC2 Protocol = iota + 1
	// STS and CloudTrail codes join the table with their own Protocol
	// values when those services arrive.
)

// Variant tells apart the rows of a code EC2 answers with more than one
// status. Only AuthFailure has two today.
type Variant uint8

const (
	// Default is the row New and Newf use.
	Default Variant = iota
	// Credentials is AuthFailure's 401 form: the access key or signature
	// material cannot be validated. Only AuthFailureCredentials builds it.
	Credentials
)

// Row is one entry of the table: a code, the protocol it belongs to and the
// HTTP status it is answered with.
type Row struct {
	Protocol Protocol
	Code     string
	Variant  Variant
	Status   int
}

// table is the one place a code gets its HTTP status (spec ec2-images §4.1).
var table = []Row{
	// 400: client errors.
	{EC2, CodeAuthFailure, Default, http.StatusBadRequest}, // "Not authorized for image…": AuthFailureResource
	{EC2, CodeFilterLimitExceeded, Default, http.StatusBadRequest},
	{EC2, CodeIdempotentParameterMismatch, Default, http.StatusBadRequest},
	{EC2, CodeIncompleteSignature, Default, http.StatusBadRequest},
	{EC2, CodeIncorrectInstanceState, Default, http.StatusBadRequest},
	{EC2, CodeIncorrectState, Default, http.StatusBadRequest},
	{EC2, CodeInstanceLimitExceeded, Default, http.StatusBadRequest},
	{EC2, CodeInvalidAMIAttributeItemValue, Default, http.StatusBadRequest},
	{EC2, CodeInvalidAMIIDMalformed, Default, http.StatusBadRequest},
	{EC2, CodeInvalidAMIIDNotFound, Default, http.StatusBadRequest},
	{EC2, CodeInvalidAMIIDUnavailable, Default, http.StatusBadRequest},
	{EC2, CodeInvalidAMINameDuplicate, Default, http.StatusBadRequest},
	{EC2, CodeInvalidAMINameMalformed, Default, http.StatusBadRequest},
	{EC2, CodeInvalidAction, Default, http.StatusBadRequest},
	{EC2, CodeInvalidBlockDeviceMapping, Default, http.StatusBadRequest},
	{EC2, CodeInvalidID, Default, http.StatusBadRequest},
	{EC2, CodeInvalidInstanceAttributeValue, Default, http.StatusBadRequest},
	{EC2, CodeInvalidInstanceIDMalformed, Default, http.StatusBadRequest},
	{EC2, CodeInvalidInstanceIDNotFound, Default, http.StatusBadRequest},
	{EC2, CodeInvalidKernelIdMalformed, Default, http.StatusBadRequest},
	{EC2, CodeInvalidParameter, Default, http.StatusBadRequest},
	{EC2, CodeInvalidParameterCombination, Default, http.StatusBadRequest},
	{EC2, CodeInvalidParameterValue, Default, http.StatusBadRequest},
	{EC2, CodeInvalidRamDiskIdMalformed, Default, http.StatusBadRequest},
	{EC2, CodeInvalidRegion, Default, http.StatusBadRequest},
	{EC2, CodeInvalidRequest, Default, http.StatusBadRequest},
	{EC2, CodeInvalidSnapshotIDMalformed, Default, http.StatusBadRequest},
	{EC2, CodeInvalidUserIDMalformed, Default, http.StatusBadRequest},
	{EC2, CodeMalformedQueryString, Default, http.StatusBadRequest},
	{EC2, CodeMissingAction, Default, http.StatusBadRequest},
	{EC2, CodeMissingParameter, Default, http.StatusBadRequest},
	{EC2, CodeNoSuchVersion, Default, http.StatusBadRequest},
	{EC2, CodeOperationNotPermitted, Default, http.StatusBadRequest},
	{EC2, CodeRequestExpired, Default, http.StatusBadRequest},
	{EC2, CodeResourceLimitExceeded, Default, http.StatusBadRequest},
	{EC2, CodeTagLimitExceeded, Default, http.StatusBadRequest},
	{EC2, CodeUnknownParameter, Default, http.StatusBadRequest},
	{EC2, CodeUnsupportedOperation, Default, http.StatusBadRequest},
	// 401: credentials that cannot be validated.
	{EC2, CodeAuthFailure, Credentials, http.StatusUnauthorized},
	// 403: the caller is known but refused.
	{EC2, CodeUnauthorizedOperation, Default, http.StatusForbidden},
	{EC2, CodeSignatureDoesNotMatch, Default, http.StatusForbidden},
	{EC2, CodeMissingAuthenticationToken, Default, http.StatusForbidden},
	{EC2, CodeInvalidClientTokenId, Default, http.StatusForbidden},
	{EC2, CodeOptInRequired, Default, http.StatusForbidden},
	{EC2, CodeBlocked, Default, http.StatusForbidden},
	{EC2, CodePendingVerification, Default, http.StatusForbidden},
	// 412: the answer to an allowed DryRun.
	{EC2, CodeDryRunOperation, Default, http.StatusPreconditionFailed},
	// 500: amigo's own failures.
	{EC2, CodeInternalError, Default, http.StatusInternalServerError},
	{EC2, CodeInternalFailure, Default, http.StatusInternalServerError},
	{EC2, CodeServerInternal, Default, http.StatusInternalServerError},
	// 503: retryable; the SDKs back off and try again.
	{EC2, CodeRequestLimitExceeded, Default, http.StatusServiceUnavailable},
	{EC2, CodeUnavailable, Default, http.StatusServiceUnavailable},
	{EC2, CodeServiceUnavailable, Default, http.StatusServiceUnavailable},
}

type rowKey struct {
	protocol Protocol
	code     string
	variant  Variant
}

// statusByRow indexes table; built once, read-only afterwards.
var statusByRow = func() map[rowKey]int {
	m := make(map[rowKey]int, len(table))
	for _, r := range table {
		m[rowKey{r.Protocol, r.Code, r.Variant}] = r.Status
	}
	return m
}()

// Rows returns a copy of the table, for tests and documentation.
func Rows() []Row { return append([]Row(nil), table...) }

// Known reports whether code is in the table for any protocol.
func Known(code string) bool {
	for _, r := range table {
		if r.Code == code {
			return true
		}
	}
	return false
}

// StatusOf returns the HTTP status of an EC2 code's default row. A code not
// in the table is a programming error; it is answered as a client error
// rather than a 500, since only amigo's own failures may be 5xx.
func StatusOf(code string) int { return status(EC2, code, Default) }

func status(p Protocol, code string, v Variant) int {
	if s, ok := statusByRow[rowKey{p, code, v}]; ok {
		return s
	}
	return http.StatusBadRequest
}
