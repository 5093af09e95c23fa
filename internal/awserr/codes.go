package awserr

import "net/http"

// Every error code amigo emits, as a constant. Code compares these, never
// string literals (literals_test.go enforces it). The wire spelling is the
// value; the name drops the dots so it is a Go identifier.
const (
	CodeAccessDenied                  = "AccessDenied"
	CodeAccessDeniedException         = "AccessDeniedException"
	CodeInvalidEventCategory          = "InvalidEventCategoryException"
	CodeInvalidLookupAttributes       = "InvalidLookupAttributesException"
	CodeInvalidMaxResults             = "InvalidMaxResultsException"
	CodeInvalidNextToken              = "InvalidNextTokenException"
	CodeInvalidSignatureException     = "InvalidSignatureException"
	CodeInvalidTimeRange              = "InvalidTimeRangeException"
	CodeMissingAuthTokenException     = "MissingAuthenticationTokenException"
	CodeSerializationException        = "SerializationException"
	CodeUnknownOperationException     = "UnknownOperationException"
	CodeUnrecognizedClient            = "UnrecognizedClientException"
	CodeThrottlingException           = "ThrottlingException"
	CodeAuthFailure                   = "AuthFailure"
	CodeBlocked                       = "Blocked"
	CodeDryRunOperation               = "DryRunOperation"
	CodeFilterLimitExceeded           = "FilterLimitExceeded"
	CodeIdempotentInstanceTerminated  = "IdempotentInstanceTerminated"
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
	CodeInvalidAuthorizationMessage   = "InvalidAuthorizationMessageException"
	CodeInvalidClientTokenId          = "InvalidClientTokenId"
	CodeInvalidID                     = "InvalidID"
	CodeInvalidInstanceAttributeValue = "InvalidInstanceAttributeValue"
	CodeInvalidInstanceIDMalformed    = "InvalidInstanceID.Malformed"
	CodeInvalidInstanceIDNotFound     = "InvalidInstanceID.NotFound"
	CodeInvalidInstanceType           = "InvalidInstanceType"
	CodeInvalidKernelIdMalformed      = "InvalidKernelId.Malformed"
	CodeInvalidParameter              = "InvalidParameter"
	CodeInvalidParameterCombination   = "InvalidParameterCombination"
	CodeInvalidParameterDependency    = "InvalidParameterDependency"
	CodeInvalidParameterValue         = "InvalidParameterValue"
	CodeInvalidRamDiskIdMalformed     = "InvalidRamDiskId.Malformed"
	CodeInvalidRegion                 = "InvalidRegion"
	CodeInvalidRequest                = "InvalidRequest"
	CodeInvalidSnapshotIDMalformed    = "InvalidSnapshotID.Malformed"
	CodeInvalidSnapshotInUse          = "InvalidSnapshot.InUse"
	CodeInvalidSnapshotNotFound       = "InvalidSnapshot.NotFound"
	CodeInvalidUserIDMalformed        = "InvalidUserID.Malformed"
	CodeInvalidVolumeIDMalformed      = "InvalidVolumeID.Malformed"
	CodeInvalidVolumeNotFound         = "InvalidVolume.NotFound"
	CodeInvalidZoneNotFound           = "InvalidZone.NotFound"
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
	CodeUnsupportedHibernation        = "UnsupportedHibernationConfiguration"
	CodeUnsupportedOperation          = "UnsupportedOperation"
	CodeValidationError               = "ValidationError"
	CodeVolumeInUse                   = "VolumeInUse"
)

// Protocol names the wire protocol whose error envelope carries a code. The
// same spelling may mean different statuses in different protocols, so a
// row is keyed by both.
type Protocol uint8

const (
	// EC2 is the EC2 Query protocol (XML, or amigo's JSON envelope).
	EC2 Protocol = iota + 1
	// STS is the STS Query protocol (ErrorResponse envelope), served on the
	// same endpoint for requests signed for the sts service.
	STS
	// CloudTrail is the JSON 1.1 protocol of CloudTrail's LookupEvents,
	// served on the same endpoint for requests signed for cloudtrail.
	CloudTrail
)

// Variant tells apart the rows of a code EC2 answers with more than one
// status. Only AuthFailure has two today.
type Variant uint8

const (
	// VariantDefault is the row New and Newf use.
	VariantDefault Variant = iota
	// VariantCredentials is AuthFailure's 401 form: the access key or the
	// signature material cannot be validated. Only AuthFailureCredentials
	// builds it.
	VariantCredentials
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
	{EC2, CodeAuthFailure, VariantDefault, http.StatusBadRequest}, // "Not authorized for image…": AuthFailureResource
	{EC2, CodeFilterLimitExceeded, VariantDefault, http.StatusBadRequest},
	{EC2, CodeIdempotentInstanceTerminated, VariantDefault, http.StatusBadRequest},
	{EC2, CodeIdempotentParameterMismatch, VariantDefault, http.StatusBadRequest},
	{EC2, CodeIncompleteSignature, VariantDefault, http.StatusBadRequest},
	{EC2, CodeIncorrectInstanceState, VariantDefault, http.StatusBadRequest},
	{EC2, CodeIncorrectState, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInstanceLimitExceeded, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidAMIAttributeItemValue, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidAMIIDMalformed, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidAMIIDNotFound, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidAMIIDUnavailable, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidAMINameDuplicate, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidAMINameMalformed, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidAction, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidBlockDeviceMapping, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidID, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidInstanceAttributeValue, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidInstanceIDMalformed, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidInstanceType, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidInstanceIDNotFound, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidKernelIdMalformed, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidParameter, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidParameterCombination, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidParameterDependency, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidParameterValue, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidRamDiskIdMalformed, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidRegion, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidRequest, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidSnapshotIDMalformed, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidSnapshotInUse, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidSnapshotNotFound, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidUserIDMalformed, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidVolumeIDMalformed, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidVolumeNotFound, VariantDefault, http.StatusBadRequest},
	{EC2, CodeInvalidZoneNotFound, VariantDefault, http.StatusBadRequest},
	{EC2, CodeMalformedQueryString, VariantDefault, http.StatusBadRequest},
	{EC2, CodeMissingAction, VariantDefault, http.StatusBadRequest},
	{EC2, CodeMissingParameter, VariantDefault, http.StatusBadRequest},
	{EC2, CodeNoSuchVersion, VariantDefault, http.StatusBadRequest},
	{EC2, CodeOperationNotPermitted, VariantDefault, http.StatusBadRequest},
	{EC2, CodeRequestExpired, VariantDefault, http.StatusBadRequest},
	{EC2, CodeResourceLimitExceeded, VariantDefault, http.StatusBadRequest},
	{EC2, CodeTagLimitExceeded, VariantDefault, http.StatusBadRequest},
	{EC2, CodeUnknownParameter, VariantDefault, http.StatusBadRequest},
	{EC2, CodeUnsupportedHibernation, VariantDefault, http.StatusBadRequest},
	{EC2, CodeUnsupportedOperation, VariantDefault, http.StatusBadRequest},
	{EC2, CodeVolumeInUse, VariantDefault, http.StatusBadRequest},
	// 401: credentials that cannot be validated.
	{EC2, CodeAuthFailure, VariantCredentials, http.StatusUnauthorized},
	// 403: the caller is known but refused.
	{EC2, CodeUnauthorizedOperation, VariantDefault, http.StatusForbidden},
	{EC2, CodeSignatureDoesNotMatch, VariantDefault, http.StatusForbidden},
	{EC2, CodeMissingAuthenticationToken, VariantDefault, http.StatusForbidden},
	{EC2, CodeInvalidClientTokenId, VariantDefault, http.StatusForbidden},
	{EC2, CodeOptInRequired, VariantDefault, http.StatusForbidden},
	{EC2, CodeBlocked, VariantDefault, http.StatusForbidden},
	{EC2, CodePendingVerification, VariantDefault, http.StatusForbidden},
	// 412: the answer to an allowed DryRun.
	{EC2, CodeDryRunOperation, VariantDefault, http.StatusPreconditionFailed},
	// 500: amigo's own failures.
	{EC2, CodeInternalError, VariantDefault, http.StatusInternalServerError},
	{EC2, CodeInternalFailure, VariantDefault, http.StatusInternalServerError},
	{EC2, CodeServerInternal, VariantDefault, http.StatusInternalServerError},
	// 503: retryable; the SDKs back off and try again.
	{EC2, CodeRequestLimitExceeded, VariantDefault, http.StatusServiceUnavailable},
	{EC2, CodeUnavailable, VariantDefault, http.StatusServiceUnavailable},
	{EC2, CodeServiceUnavailable, VariantDefault, http.StatusServiceUnavailable},

	// STS (spec around-images §2.5, §4.3).
	{STS, CodeInvalidAction, VariantDefault, http.StatusBadRequest},
	{STS, CodeInvalidAuthorizationMessage, VariantDefault, http.StatusBadRequest},
	{STS, CodeValidationError, VariantDefault, http.StatusBadRequest},
	{STS, CodeMissingParameter, VariantDefault, http.StatusBadRequest},
	{STS, CodeAccessDenied, VariantDefault, http.StatusForbidden},
	{STS, CodeInvalidClientTokenId, VariantDefault, http.StatusForbidden},
	{STS, CodeMissingAuthenticationToken, VariantDefault, http.StatusForbidden},
	{STS, CodeSignatureDoesNotMatch, VariantDefault, http.StatusForbidden},
	{STS, CodeInternalFailure, VariantDefault, http.StatusInternalServerError},

	// CloudTrail (spec around-images §6.9): every client error is 400.
	{CloudTrail, CodeInvalidLookupAttributes, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeInvalidTimeRange, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeInvalidMaxResults, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeInvalidNextToken, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeInvalidEventCategory, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeUnrecognizedClient, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeInvalidSignatureException, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeMissingAuthTokenException, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeAccessDeniedException, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeSerializationException, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeUnknownOperationException, VariantDefault, http.StatusBadRequest},
	// LookupEvents past its rate: a client fault in CloudTrail's model, so
	// 400 as JSON services answer it; the SDKs retry it by its code.
	{CloudTrail, CodeThrottlingException, VariantDefault, http.StatusBadRequest},
	{CloudTrail, CodeInternalFailure, VariantDefault, http.StatusInternalServerError},
	{CloudTrail, CodeServiceUnavailable, VariantDefault, http.StatusServiceUnavailable},
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
func StatusOf(code string) int { return status(EC2, code, VariantDefault) }

func status(p Protocol, code string, v Variant) int {
	if s, ok := statusByRow[rowKey{p, code, v}]; ok {
		return s
	}
	return http.StatusBadRequest
}
