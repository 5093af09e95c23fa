// Package audit is amigo's CloudTrail: the event record of every call
// (spec around-images §6.2), written in the same store transaction as the
// change it records, and LookupEvents over the recorded trail.
//
// Each event lands in the account whose credentials made the call
// (recipientAccountId) and the Region it was signed for. Following the
// spec's recommendation (§6.5), sharing an image records nothing in the
// grantee's account, and a grantee's launch or copy of a shared image
// records nothing in the owner's: every account sees the calls it made.
package audit

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Record format and sources (spec §6.2).
const (
	EventVersion = "1.11"
	SourceEC2    = "ec2.amazonaws.com"
	SourceSTS    = "sts.amazonaws.com"
	SourceTrail  = "cloudtrail.amazonaws.com"
	typeAPICall  = "AwsApiCall"
	timeLayout   = "2006-01-02T15:04:05Z"
)

// Identity is the record's userIdentity.
type Identity struct {
	Type        string `json:"type"` // IAMUser or Root
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	AccessKeyID string `json:"accessKeyId"`
	UserName    string `json:"userName,omitempty"`
}

// Username is what LookupEvents shows and matches as Username: the IAM
// user's name, or "root" (spec §6.8).
func (id Identity) Username() string {
	if id.Type == "Root" {
		return "root"
	}
	return id.UserName
}

// Resource is one resource an event names, as LookupEvents lists it.
type Resource struct {
	Type string `json:"ResourceType"`
	Name string `json:"ResourceName"`
}

// Event is one CloudTrail record. Account and Region key it in the store;
// Seq is the store's order of insertion, for pagination.
type Event struct {
	Seq     int64     `json:"-"`
	Account string    `json:"-"` // recipientAccountId
	Region  string    `json:"-"` // awsRegion
	Time    time.Time `json:"-"`

	ID        string
	Name      string
	Source    string
	ReadOnly  bool
	Identity  Identity
	SourceIP  string
	UserAgent string
	RequestID string
	// RequestParameters and ResponseElements are JSON; nil is null.
	RequestParameters json.RawMessage
	ResponseElements  json.RawMessage
	ErrorCode         string
	ErrorMessage      string
	Resources         []Resource

	// enc caches Encode's result (Pending.Prepare fills it early).
	enc *Encoded
}

// Encoded is an event in the forms the engines store: its record, its
// resources as JSON, and ResourceTypes.
type Encoded struct {
	Record, Resources []byte
	ResourceTypes     string
}

// Encode returns the event's stored forms, computed once.
func (e *Event) Encode() (*Encoded, error) {
	if e.enc != nil {
		return e.enc, nil
	}
	rec, err := e.Record()
	if err != nil {
		return nil, err
	}
	res, err := json.Marshal(e.Resources)
	if err != nil {
		return nil, err
	}
	e.enc = &Encoded{Record: rec, Resources: res, ResourceTypes: e.ResourceTypes()}
	return e.enc, nil
}

// record is the JSON text of CloudTrailEvent, fields in CloudTrail's order.
type record struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       Identity        `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	ReadOnly           bool            `json:"readOnly"`
	EventType          string          `json:"eventType"`
	ManagementEvent    bool            `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventCategory      string          `json:"eventCategory"`
}

// Record returns the event as CloudTrail's JSON record.
func (e *Event) Record() ([]byte, error) {
	null := json.RawMessage("null")
	r := record{
		EventVersion: EventVersion, UserIdentity: e.Identity, EventTime: e.Time.UTC().Format(timeLayout),
		EventSource: e.Source, EventName: e.Name, AWSRegion: e.Region, SourceIPAddress: e.SourceIP,
		UserAgent: e.UserAgent, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage,
		RequestParameters: e.RequestParameters, ResponseElements: e.ResponseElements,
		RequestID: e.RequestID, EventID: e.ID, ReadOnly: e.ReadOnly, EventType: typeAPICall,
		ManagementEvent: true, RecipientAccountID: e.Account, EventCategory: "Management",
	}
	if r.RequestParameters == nil {
		r.RequestParameters = null
	}
	if r.ResponseElements == nil {
		r.ResponseElements = null
	}
	return json.Marshal(r)
}

// FromRecord rebuilds an event from its record and resources, as the
// store keeps them. Time keeps the millisecond the store holds (t), which
// the record's whole seconds would lose.
func FromRecord(seq int64, t time.Time, rec []byte, resources []Resource) (*Event, error) {
	var r record
	if err := json.Unmarshal(rec, &r); err != nil {
		return nil, err
	}
	e := &Event{Seq: seq, Account: r.RecipientAccountID, Region: r.AWSRegion, Time: t,
		ID: r.EventID, Name: r.EventName, Source: r.EventSource, ReadOnly: r.ReadOnly,
		Identity: r.UserIdentity, SourceIP: r.SourceIPAddress, UserAgent: r.UserAgent,
		RequestID: r.RequestID, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
		Resources: resources}
	if string(r.RequestParameters) != "null" {
		e.RequestParameters = r.RequestParameters
	}
	if string(r.ResponseElements) != "null" {
		e.ResponseElements = r.ResponseElements
	}
	return e, nil
}

// Attribute is one LookupEvents lookup attribute (spec §6.7).
type Attribute struct{ Key, Value string }

// Lookup attribute keys, from the model's LookupAttributeKey.
const (
	KeyEventID      = "EventId"
	KeyEventName    = "EventName"
	KeyReadOnly     = "ReadOnly"
	KeyUsername     = "Username"
	KeyResourceType = "ResourceType"
	KeyResourceName = "ResourceName"
	KeyEventSource  = "EventSource"
	KeyAccessKeyID  = "AccessKeyId"
)

// Keys lists every lookup attribute key.
var Keys = []string{KeyEventID, KeyEventName, KeyReadOnly, KeyUsername, KeyResourceType, KeyResourceName, KeyEventSource, KeyAccessKeyID}

// Attributes are the lookup attributes the event matches, each once: the
// engines index the event under each of them.
func (e *Event) Attributes() []Attribute {
	out := []Attribute{
		{KeyEventID, e.ID}, {KeyEventName, e.Name}, {KeyReadOnly, boolString(e.ReadOnly)},
		{KeyEventSource, e.Source}, {KeyAccessKeyID, e.Identity.AccessKeyID},
	}
	if u := e.Identity.Username(); u != "" {
		out = append(out, Attribute{KeyUsername, u})
	}
	for _, r := range e.Resources {
		out = append(out, Attribute{KeyResourceType, r.Type}, Attribute{KeyResourceName, r.Name})
	}
	slices.SortFunc(out, func(a, b Attribute) int {
		if a.Key != b.Key {
			return cmpString(a.Key, b.Key)
		}
		return cmpString(a.Value, b.Value)
	})
	return slices.Compact(out)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Tx is what an engine's write transaction does for the audit.
type Tx interface {
	// InsertEvent stores e (Seq is assigned by the engine) and indexes it
	// under each of its Attributes.
	InsertEvent(ctx context.Context, e *Event) error
}

// PruneTx is Tx with the bounds' deletions, which run in small batches.
type PruneTx interface {
	Tx
	// PruneBefore deletes those of the limit oldest events (by Seq)
	// that are older than cutoff, and returns how many it deleted.
	PruneBefore(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// PruneAccount deletes up to limit of account's oldest events, beyond
	// its newest keep, and returns how many it deleted.
	PruneAccount(ctx context.Context, account string, keep, limit int) (int, error)
}

// Query selects events of one account and Region, newest first.
type Query struct {
	Account, Region string
	// Attribute, when Key is set, must match exactly.
	Attribute Attribute
	// Start and End bound the event time, inclusive.
	Start, End time.Time
	// After continues past this event (time then Seq, descending).
	AfterTime time.Time
	AfterSeq  int64
	Limit     int
}

// Store is the trail's home; both store engines implement it.
type Store interface {
	// UpdateAudit runs fn in a write transaction of its own.
	UpdateAudit(ctx context.Context, fn func(PruneTx) error) error
	// LookupEvents returns up to q.Limit events matching q, newest first.
	LookupEvents(ctx context.Context, q Query) ([]*Event, error)
	// AccountsOver returns the accounts holding more than max events.
	AccountsOver(ctx context.Context, max int) ([]string, error)
	// ExportEvents calls fn with every event, oldest first.
	ExportEvents(ctx context.Context, fn func(*Event) error) error
}

// TypeSep brackets each of an event's resource types in ResourceTypes.
// No resource type contains it, so a lookup value that does can match
// nothing.
const TypeSep = "|"

// ResourceTypes is the event's distinct resource types, each between
// TypeSep ("|AWS::EC2::Ami|"), or "" without resources: the engines keep
// it in a column and match a ResourceType lookup with a substring test
// for TypeSep+value+TypeSep, so that attribute needs no index rows.
func (e *Event) ResourceTypes() string {
	if len(e.Resources) == 0 {
		return ""
	}
	var b []byte
	seen := make([]string, 0, len(e.Resources))
	for _, r := range e.Resources {
		if slices.Contains(seen, r.Type) {
			continue
		}
		seen = append(seen, r.Type)
		b = append(append(b, TypeSep...), r.Type...)
	}
	return string(append(b, TypeSep...))
}

// ResourceNames is the event's distinct resource names: the one lookup
// attribute the engines index by rows of its own, since it is the one
// that picks a few events out of many (an image's history). The others
// are columns of the event, searched within the account's time range.
func (e *Event) ResourceNames() []string {
	out := make([]string, 0, len(e.Resources))
	for _, r := range e.Resources {
		if !slices.Contains(out, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}
