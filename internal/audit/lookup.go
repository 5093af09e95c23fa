package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// LookupInput is LookupEvents' input (model LookupEventsRequest); times
// are epoch seconds, as JSON 1.1 sends them.
type LookupInput struct {
	LookupAttributes []struct {
		AttributeKey   *string
		AttributeValue *string
	}
	StartTime     *float64
	EndTime       *float64
	EventCategory *string
	MaxResults    *int64
	NextToken     *string
}

// LookupOutput is LookupEvents' output (model LookupEventsResponse).
type LookupOutput struct {
	Events    []OutEvent `json:"Events"`
	NextToken string     `json:"NextToken,omitempty"`
}

// OutEvent is the model's Event.
type OutEvent struct {
	EventID         string     `json:"EventId"`
	EventName       string     `json:"EventName"`
	ReadOnly        string     `json:"ReadOnly"`
	AccessKeyID     string     `json:"AccessKeyId,omitempty"`
	EventTime       float64    `json:"EventTime"`
	EventSource     string     `json:"EventSource"`
	Username        string     `json:"Username,omitempty"`
	Resources       []Resource `json:"Resources"`
	CloudTrailEvent string     `json:"CloudTrailEvent"`
}

// Lookup answers LookupEvents for account in region (spec §6.7): body is
// the JSON input; pages seals its tokens.
func (r *Recorder) Lookup(ctx context.Context, pages *resource.Pages, account, region string, body []byte) (*LookupOutput, error) {
	var in LookupInput
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&in); err != nil {
			return nil, awserr.CloudTrail.New(awserr.CodeSerializationException, "Start of structure or map found where not expected.")
		}
	}
	q, fp, err := r.query(in, account, region)
	if err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		after, ok := pages.Open(*in.NextToken, fp)
		ms, seq, ok2 := parseCursor(after)
		if !ok || !ok2 {
			return nil, awserr.CloudTrail.New(awserr.CodeInvalidNextToken, "Invalid NextToken.")
		}
		q.AfterTime, q.AfterSeq = time.UnixMilli(ms), seq
	}
	limit := q.Limit
	q.Limit++ // one more tells whether a next page exists
	evs, err := r.st.LookupEvents(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &LookupOutput{Events: make([]OutEvent, 0, min(len(evs), limit))}
	if len(evs) > limit {
		last := evs[limit-1]
		out.NextToken = pages.Seal(strconv.FormatInt(last.Time.UnixMilli(), 10)+"."+strconv.FormatInt(last.Seq, 10), fp)
		evs = evs[:limit]
	}
	for _, e := range evs {
		rec, err := e.Record()
		if err != nil {
			return nil, err
		}
		res := e.Resources
		if res == nil {
			res = []Resource{}
		}
		out.Events = append(out.Events, OutEvent{
			EventID: e.ID, EventName: e.Name, ReadOnly: boolString(e.ReadOnly), AccessKeyID: e.Identity.AccessKeyID,
			EventTime: float64(e.Time.Unix()), EventSource: e.Source, Username: e.Identity.Username(),
			Resources: res, CloudTrailEvent: string(rec),
		})
	}
	return out, nil
}

// query validates the input (spec §6.7, §6.9) into a store query and the
// fingerprint its tokens bind.
func (r *Recorder) query(in LookupInput, account, region string) (Query, uint64, error) {
	q := Query{Account: account, Region: region, Limit: 50}
	var fp resource.Fingerprint
	fp.Add("LookupEvents", account, region)
	if len(in.LookupAttributes) > 1 {
		return q, 0, lookupErr("You cannot specify more than one lookup attribute.")
	}
	for _, a := range in.LookupAttributes {
		if a.AttributeKey == nil || !slices.Contains(Keys, *a.AttributeKey) {
			return q, 0, lookupErr("Lookup attribute key is not valid.")
		}
		if a.AttributeValue == nil || len(*a.AttributeValue) == 0 || len(*a.AttributeValue) > 2000 {
			return q, 0, lookupErr("Lookup attribute value must be between 1 and 2000 characters.")
		}
		v := *a.AttributeValue
		if *a.AttributeKey == KeyReadOnly && v != "true" && v != "false" {
			return q, 0, lookupErr("ReadOnly lookup attribute value must be true or false.")
		}
		q.Attribute = Attribute{Key: *a.AttributeKey, Value: v}
		fp.Add(q.Attribute.Key, q.Attribute.Value)
	}
	if c := in.EventCategory; c != nil && *c != "insight" {
		return q, 0, awserr.CloudTrail.New(awserr.CodeInvalidEventCategory, "Event category is not valid.")
	}
	if m := in.MaxResults; m != nil {
		if *m < 1 || *m > 50 {
			return q, 0, awserr.CloudTrail.New(awserr.CodeInvalidMaxResults, "MaxResults must be between 1 and 50.")
		}
		q.Limit = int(*m)
	}
	now := r.opts.Now()
	floor := now.Add(-r.opts.Retention)
	q.Start, q.End = floor, now
	if in.StartTime != nil {
		q.Start = epoch(*in.StartTime)
	}
	if in.EndTime != nil {
		q.End = epoch(*in.EndTime)
	}
	if q.Start.After(q.End) {
		return q, 0, awserr.CloudTrail.New(awserr.CodeInvalidTimeRange, "Start time must be before end time.")
	}
	// The token binds the times as given, not as clamped, so a token
	// stays valid while "now" moves on.
	fp.Add("start", optTime(in.StartTime), "end", optTime(in.EndTime))
	if q.Start.Before(floor) {
		q.Start = floor // beyond the window: clamped silently
	}
	if in.EventCategory != nil {
		// Insights events are never recorded: the answer is empty.
		q.End = q.Start.Add(-time.Millisecond)
		fp.Add("insight")
	}
	return q, fp.Sum(), nil
}

func lookupErr(msg string) error {
	return awserr.CloudTrail.New(awserr.CodeInvalidLookupAttributes, msg)
}

func epoch(sec float64) time.Time {
	if math.IsNaN(sec) || math.IsInf(sec, 0) {
		return time.Time{}
	}
	sec = max(min(sec, 1<<40), -(1 << 40))
	return time.UnixMilli(int64(math.Round(sec * 1000)))
}

func optTime(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

func parseCursor(s string) (ms, seq int64, ok bool) {
	a, b, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}
