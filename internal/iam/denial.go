package iam

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Principal is who signed a request, as IAM names it.
type Principal struct {
	Account string
	// ARN is arn:aws:iam::<account>:root or arn:aws:iam::<account>:user/<name>.
	ARN string
	// ID is the unique id: the account id for the root, AIDA… for a user.
	ID string
	// Name is the user name; "" for the root.
	Name string
}

// Denial is one call a policy refused.
type Denial struct {
	Principal Principal
	Action    string // "ec2:ModifyImageAttribute"
	// Resource is the refused resource's ARN, or "*" for actions without
	// resource-level permissions.
	Resource string
	Decision Decision // ImplicitDeny or ExplicitDeny
	Region   string
}

// Message is EC2's UnauthorizedOperation text (spec around-images §4.1):
// who, which action, on which resource, which kind of policy decided, and
// the encoded message DecodeAuthorizationMessage opens. Actions without
// resource-level permissions name no resource and carry no encoded part,
// and then, as observed, the text ends without a period.
func (d Denial) Message(encoded string) string {
	var b strings.Builder
	b.WriteString("You are not authorized to perform this operation. User: ")
	b.WriteString(d.Principal.ARN)
	b.WriteString(" is not authorized to perform: ")
	b.WriteString(d.Action)
	if d.Resource != "*" && d.Resource != "" {
		b.WriteString(" on resource: ")
		b.WriteString(d.Resource)
	}
	if d.Decision == ExplicitDeny {
		b.WriteString(" with an explicit deny in an identity-based policy")
	} else {
		b.WriteString(" because no identity-based policy allows the ")
		b.WriteString(d.Action)
		b.WriteString(" action")
	}
	if encoded != "" {
		b.WriteString(". Encoded authorization failure message: ")
		b.WriteString(encoded)
	}
	return b.String()
}

// Decoded is the JSON DecodeAuthorizationMessage answers for the denial,
// in the shape AWS decodes its own messages to.
func (d Denial) Decoded() []byte {
	type value struct {
		Value string `json:"value"`
	}
	type values struct {
		Items []value `json:"items"`
	}
	type condition struct {
		Key    string `json:"key"`
		Values values `json:"values"`
	}
	type items struct {
		Items []any `json:"items"`
	}
	cond := func(k, v string) condition { return condition{Key: k, Values: values{Items: []value{{Value: v}}}} }
	name := d.Principal.Name
	if name == "" {
		name = d.Principal.Account
	}
	doc := struct {
		Allowed           bool  `json:"allowed"`
		ExplicitDeny      bool  `json:"explicitDeny"`
		MatchedStatements items `json:"matchedStatements"`
		Failures          items `json:"failures"`
		Context           struct {
			Principal struct {
				ID   string `json:"id"`
				Name string `json:"name"`
				ARN  string `json:"arn"`
			} `json:"principal"`
			Action     string `json:"action"`
			Resource   string `json:"resource"`
			Conditions struct {
				Items []condition `json:"items"`
			} `json:"conditions"`
		} `json:"context"`
	}{ExplicitDeny: d.Decision == ExplicitDeny, MatchedStatements: items{Items: []any{}}, Failures: items{Items: []any{}}}
	doc.Context.Principal.ID = d.Principal.ID
	doc.Context.Principal.Name = name
	doc.Context.Principal.ARN = d.Principal.ARN
	doc.Context.Action = d.Action
	doc.Context.Resource = d.Resource
	doc.Context.Conditions.Items = []condition{
		cond("aws:Region", d.Region),
		cond("ec2:Region", d.Region),
		cond("aws:PrincipalAccount", d.Principal.Account),
		cond("aws:PrincipalArn", d.Principal.ARN),
	}
	out, err := json.Marshal(doc)
	if err != nil {
		panic(err) // plain strings and bools always marshal
	}
	return out
}

// MessageLifetime is how long an encoded message can be decoded.
const MessageLifetime = 24 * time.Hour

// ErrInvalidMessage is any encoded message Open refuses: not one of ours,
// tampered with, expired, or another account's.
var ErrInvalidMessage = errors.New("iam: invalid or expired authorization message")

// Sealer encodes denials into opaque, tamper-evident messages (AES-256-GCM,
// base64url) that only the denied principal's account can open, for
// MessageLifetime. Processes sharing one key open each other's messages.
type Sealer struct {
	aead cipher.AEAD
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewSealer returns a Sealer under a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("iam: the authorization message key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

func (s *Sealer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// sealed is what the encoded message carries.
type sealed struct {
	Account string          `json:"a"`
	Issued  int64           `json:"t"`
	Doc     json.RawMessage `json:"m"`
}

// Seal encodes d.
func (s *Sealer) Seal(d Denial) string {
	plain, err := json.Marshal(sealed{Account: d.Principal.Account, Issued: s.now().Unix(), Doc: d.Decoded()})
	if err != nil {
		panic(err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil))
}

// Open returns the decoded JSON of a message Seal made for a principal of
// account, or ErrInvalidMessage.
func (s *Sealer) Open(account, text string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, ErrInvalidMessage
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return nil, ErrInvalidMessage
	}
	var m sealed
	if err := json.Unmarshal(plain, &m); err != nil || m.Account != account {
		return nil, ErrInvalidMessage
	}
	// A little slack before issue: processes sharing a database have clocks of their own.
	if age := s.now().Sub(time.Unix(m.Issued, 0)); age < -5*time.Minute || age > MessageLifetime {
		return nil, ErrInvalidMessage
	}
	return m.Doc, nil
}
