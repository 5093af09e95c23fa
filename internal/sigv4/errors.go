package sigv4

import (
	"fmt"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Messages as EC2 words them (spec §4.3); the others follow the sibling
// Query-protocol services (spec §5.3).
const (
	MsgAuthFailure       = "AWS was not able to validate the provided access credentials"
	MsgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	MsgRequestExpired    = "Request has expired."

	msgInvalidRegion  = "Credential should be scoped to a valid region."
	msgHostNotSigned  = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgPresignMissing = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
	msgBothForms      = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified."
	msgPayloadHash    = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgExpiresTooLong = "X-Amz-Expires must be less than a week (in seconds) that is 604800"
)

func errMissingAuth() *awserr.Error { return awserr.MissingParameter("AWSAccessKeyId") }

// errAuthFailure is the 401 form of AuthFailure; the 400 form is about
// resources (awserr.AuthFailureResource).
func errAuthFailure() *awserr.Error {
	return awserr.AuthFailureCredentials(MsgAuthFailure)
}

func errIncomplete(format string, args ...any) *awserr.Error {
	return awserr.New(awserr.CodeIncompleteSignature, fmt.Sprintf(format, args...))
}

func errMismatch(msg string) *awserr.Error { return awserr.New(awserr.CodeSignatureDoesNotMatch, msg) }

func errExpired(msg string) *awserr.Error { return awserr.New(awserr.CodeRequestExpired, msg) }

func errMalformedQuery() *awserr.Error {
	return awserr.New(awserr.CodeMalformedQueryString, "The query string contains an invalid percent-encoding.")
}

// maxEcho caps client text copied into a message, so a huge header does not
// become a huge error body.
const maxEcho = 512

// echo makes client-supplied text safe to put in an error message.
func echo(s string) string {
	if len(s) > maxEcho {
		s = s[:maxEcho] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
