// Package sts answers the AWS Security Token Service calls clients make
// around EC2 (spec around-images §2, §4.3): GetCallerIdentity, which needs no
// permission, and DecodeAuthorizationMessage, which opens the encoded part
// of an UnauthorizedOperation message. Its wire is the Query protocol with
// STS's own XML namespace, result wrapper and error envelope.
package sts

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/iam"
)

// Version is the STS API version; Namespace its XML namespace.
const (
	Version   = "2011-06-15"
	Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// maxEncodedMessage is the model's limit on EncodedMessage.
const maxEncodedMessage = 10240

// Service answers STS actions.
type Service struct {
	sealer *iam.Sealer
}

// New returns a Service that opens messages sealed by sealer.
func New(sealer *iam.Sealer) *Service { return &Service{sealer: sealer} }

// Caller is who signed the request and under which policy (nil: none,
// everything allowed).
type Caller struct {
	Principal iam.Principal
	Policy    *iam.Policy
}

// CallerIdentity is the GetCallerIdentity result.
type CallerIdentity struct {
	Arn, UserID, Account string
}

// members are the result's elements in AWS's order.
func (r *CallerIdentity) members() [][2]string {
	return [][2]string{{"Arn", r.Arn}, {"UserId", r.UserID}, {"Account", r.Account}}
}

// DecodedMessage is the DecodeAuthorizationMessage result.
type DecodedMessage struct {
	DecodedMessage string
}

func (r *DecodedMessage) members() [][2]string {
	return [][2]string{{"DecodedMessage", r.DecodedMessage}}
}

// Do runs action with the request's parameters (signature parameters
// already removed).
//
// Returns InvalidAction for an action STS does not have here (or another
// version), and for DecodeAuthorizationMessage ValidationError (EncodedMessage
// missing or too long), AccessDenied (the policy does not allow
// sts:DecodeAuthorizationMessage) and InvalidAuthorizationMessageException.
func (s *Service) Do(c Caller, action string, params url.Values) (any, error) {
	if v := params.Get("Version"); v != Version {
		return nil, awserr.STS.Newf(awserr.CodeInvalidAction, "Could not find operation %s for version %s", action, v)
	}
	switch action {
	case "GetCallerIdentity":
		// Needs no permission, and an explicit deny cannot block it.
		return &CallerIdentity{Arn: c.Principal.ARN, UserID: c.Principal.ID, Account: c.Principal.Account}, nil
	case "DecodeAuthorizationMessage":
		return s.decode(c, params)
	}
	return nil, awserr.STS.Newf(awserr.CodeInvalidAction, "Could not find operation %s for version %s", action, Version)
}

const decodeAction = "sts:DecodeAuthorizationMessage"

func (s *Service) decode(c Caller, params url.Values) (any, error) {
	msg, ok := params["EncodedMessage"]
	switch {
	case !ok || len(msg) == 0:
		return nil, validation("Value null at 'encodedMessage' failed to satisfy constraint: Member must not be null")
	case len(msg[0]) > maxEncodedMessage:
		return nil, validation(fmt.Sprintf("Value at 'encodedMessage' failed to satisfy constraint: Member must have length less than or equal to %d", maxEncodedMessage))
	case msg[0] == "":
		return nil, validation("Value at 'encodedMessage' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if d := c.Policy.Decide(decodeAction, "*"); d != iam.Allowed {
		den := iam.Denial{Principal: c.Principal, Action: decodeAction, Resource: "*", Decision: d}
		// IAM's sentence without EC2's lead-in, as STS words it.
		const lead = "You are not authorized to perform this operation. "
		return nil, awserr.STS.New(awserr.CodeAccessDenied, den.Message("")[len(lead):])
	}
	doc, err := s.sealer.Open(c.Principal.Account, msg[0])
	if err != nil {
		return nil, awserr.STS.New(awserr.CodeInvalidAuthorizationMessage, "The message is invalid or expired.")
	}
	return &DecodedMessage{DecodedMessage: string(doc)}, nil
}

func validation(msg string) *awserr.Error {
	return awserr.STS.New(awserr.CodeValidationError, "1 validation error detected: "+msg)
}

// WriteResponse writes the Query-protocol answer of action: the result in
// its <ActionResult> wrapper and the request id in ResponseMetadata.
func WriteResponse(buf *bytes.Buffer, action, requestID string, result any) {
	buf.WriteString(xml.Header[:len(xml.Header)-1])
	fmt.Fprintf(buf, "\n<%sResponse xmlns=\"%s\">\n  <%sResult>\n", action, Namespace, action)
	if r, ok := result.(interface{ members() [][2]string }); ok {
		for _, m := range r.members() {
			fmt.Fprintf(buf, "    <%s>", m[0])
			_ = xml.EscapeText(buf, []byte(m[1]))
			fmt.Fprintf(buf, "</%s>\n", m[0])
		}
	}
	fmt.Fprintf(buf, "  </%sResult>\n  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n</%sResponse>\n",
		action, requestID, action)
}

// WriteError writes STS's error envelope. Type is Sender for client errors
// and Receiver for server errors.
func WriteError(buf *bytes.Buffer, e *awserr.Error, requestID string) {
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	buf.WriteString(xml.Header[:len(xml.Header)-1])
	fmt.Fprintf(buf, "\n<ErrorResponse xmlns=\"%s\">\n  <Error>\n    <Type>%s</Type>\n    <Code>", Namespace, typ)
	_ = xml.EscapeText(buf, []byte(e.Code))
	buf.WriteString("</Code>\n    <Message>")
	_ = xml.EscapeText(buf, []byte(e.Message))
	fmt.Fprintf(buf, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n", requestID)
}
