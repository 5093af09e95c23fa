package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/app"
)

// trailClient is the SDK's CloudTrail client signing as who.
func (e *env) trailClient(who string) *cloudtrail.Client {
	return trailClientAt(e.t, e.endpoint, who)
}

func trailClientAt(t *testing.T, endpoint, who string) *cloudtrail.Client {
	k, ok := keys[who]
	if !ok {
		t.Fatalf("no key for %q", who)
	}
	return cloudtrail.New(cloudtrail.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(k[0], k[1], ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   httpClient,
	})
}

// trailRecord is the part of CloudTrailEvent the tests read.
type trailRecord struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		AccessKeyID string `json:"accessKeyId"`
		UserName    string `json:"userName"`
	} `json:"userIdentity"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	EventType          string          `json:"eventType"`
	ReadOnly           bool            `json:"readOnly"`
	RecipientAccountID string          `json:"recipientAccountId"`
	ErrorCode          string          `json:"errorCode"`
	ErrorMessage       string          `json:"errorMessage"`
}

func record(t *testing.T, ev cttypes.Event) trailRecord {
	t.Helper()
	var r trailRecord
	if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &r); err != nil {
		t.Fatalf("CloudTrailEvent is not JSON: %v", err)
	}
	return r
}

// lookupAll pages through LookupEvents with the SDK's paginator.
func lookupAll(t *testing.T, c *cloudtrail.Client, in *cloudtrail.LookupEventsInput) []cttypes.Event {
	t.Helper()
	var out []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Events...)
	}
	return out
}

func byResource(id string) *cloudtrail.LookupEventsInput {
	return &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyResourceName, AttributeValue: aws.String(id)}}}
}

// An image's changes, refused ones included, are listed by ResourceName,
// newest first, with who made them and what they asked.
func TestAuditLookupByResourceName(t *testing.T) {
	e := startEnv(t)
	img := e.register(owner, "audited")
	e.clock.Advance(time.Second)
	_, err := e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(member)}}}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	// The IAM user ci-builder may only describe: refused.
	_, err = e.client("builder").ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img),
		Description: &ec2types.AttributeValue{Value: aws.String("nope")}})
	denial := apiErr(t, err, "UnauthorizedOperation", 403)
	e.clock.Advance(time.Second)
	// A read is not recorded without --audit-reads.
	e.visibleIDs(owner, &ec2.DescribeImagesInput{ImageIds: []string{img}})
	e.app.FlushAudit()

	evs := lookupAll(t, e.trailClient(owner), byResource(img))
	var names []string
	for _, ev := range evs {
		names = append(names, aws.ToString(ev.EventName))
	}
	if diff := cmp.Diff([]string{"ModifyImageAttribute", "ModifyImageAttribute", "RegisterImage"}, names); diff != "" {
		t.Fatalf("events by ResourceName, newest first (-want +got):\n%s", diff)
	}

	denied, share, reg := evs[0], evs[1], evs[2]
	r := record(t, denied)
	if r.UserIdentity.Type != "IAMUser" || r.UserIdentity.UserName != "ci-builder" || r.UserIdentity.AccessKeyID != keys["builder"][0] ||
		r.UserIdentity.AccountID != owner || r.UserIdentity.ARN != "arn:aws:iam::111122223333:user/ci-builder" {
		t.Errorf("denied call's identity = %+v", r.UserIdentity)
	}
	if r.ErrorCode != "Client.UnauthorizedOperation" || r.ErrorMessage != denial || string(r.ResponseElements) != "null" {
		t.Errorf("denied call: errorCode %q, errorMessage %q, responseElements %s", r.ErrorCode, r.ErrorMessage, r.ResponseElements)
	}
	if aws.ToString(denied.Username) != "ci-builder" || aws.ToString(denied.AccessKeyId) != keys["builder"][0] {
		t.Errorf("denied event: Username %q AccessKeyId %q", aws.ToString(denied.Username), aws.ToString(denied.AccessKeyId))
	}

	r = record(t, share)
	if r.UserIdentity.Type != "Root" || r.UserIdentity.ARN != "arn:aws:iam::111122223333:root" || r.UserIdentity.PrincipalID != owner ||
		aws.ToString(share.Username) != "root" {
		t.Errorf("owner's identity = %+v, Username %q", r.UserIdentity, aws.ToString(share.Username))
	}
	var params any
	if err := json.Unmarshal(r.RequestParameters, &params); err != nil {
		t.Fatal(err)
	}
	wantParams := map[string]any{"imageId": img, "attributeType": "launchPermission",
		"launchPermission": map[string]any{"add": map[string]any{"items": []any{map[string]any{"userId": member}}}}}
	if diff := cmp.Diff(wantParams, params); diff != "" {
		t.Errorf("requestParameters (-want +got):\n%s", diff)
	}
	if r.ErrorCode != "" || r.ReadOnly || r.EventSource != "ec2.amazonaws.com" || r.EventType != "AwsApiCall" ||
		r.RecipientAccountID != owner || r.AWSRegion != region || r.EventID != aws.ToString(share.EventId) || r.EventVersion == "" {
		t.Errorf("share record = %+v", r)
	}
	var resp map[string]any
	_ = json.Unmarshal(r.ResponseElements, &resp)
	if resp["_return"] != true || resp["requestId"] != r.RequestID || r.RequestID == "" {
		t.Errorf("responseElements = %s (requestID %s)", r.ResponseElements, r.RequestID)
	}
	if diff := cmp.Diff([]cttypes.Resource{{ResourceType: aws.String("AWS::EC2::Ami"), ResourceName: aws.String(img)}}, share.Resources,
		cmp.Comparer(func(a, b *string) bool { return aws.ToString(a) == aws.ToString(b) }), cmp.AllowUnexported(cttypes.Resource{})); diff != "" {
		t.Errorf("Resources (-want +got):\n%s", diff)
	}
	if aws.ToString(share.ReadOnly) != "false" || !share.EventTime.Before(aws.ToTime(denied.EventTime)) {
		t.Errorf("ReadOnly %q, times %v then %v", aws.ToString(share.ReadOnly), share.EventTime, denied.EventTime)
	}

	r = record(t, reg)
	_ = json.Unmarshal(r.ResponseElements, &resp)
	if resp["imageId"] != img {
		t.Errorf("RegisterImage responseElements = %s", r.ResponseElements)
	}

	// Each account sees its own trail: the grantee has no record of the
	// share (spec §6.5), and the stranger nothing at all.
	for _, who := range []string{member, stranger} {
		if got := lookupAll(t, e.trailClient(who), byResource(img)); len(got) != 0 {
			t.Errorf("%s sees %d of the owner's events", who, len(got))
		}
	}
	// The grantee's own use of the image is in the grantee's trail alone.
	_, err = e.client(member).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img),
		Description: &ec2types.AttributeValue{Value: aws.String("not mine")}})
	if err == nil {
		t.Fatal("grantee modified the owner's image")
	}
	e.app.FlushAudit()
	if got := lookupAll(t, e.trailClient(member), byResource(img)); len(got) != 1 || record(t, got[0]).ErrorCode == "" {
		t.Errorf("grantee's trail = %d events", len(got))
	}
	if got := lookupAll(t, e.trailClient(owner), byResource(img)); len(got) != 3 {
		t.Errorf("owner's trail grew to %d events with the grantee's call", len(got))
	}
}

// Pages follow each other newest first; a token answers only the query
// that made it; time bounds are inclusive; bad input gets the model's
// errors.
func TestAuditLookupPagesAndTimes(t *testing.T) {
	e := startEnv(t)
	img := e.register(owner, "paged")
	start := e.clock.Now()
	for i := range 6 {
		e.clock.Advance(time.Minute)
		_, err := e.client(owner).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{img},
			Tags: []ec2types.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i))}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	c := e.trailClient(owner)
	in := &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(3), LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("CreateTags")}}}
	var pages [][]string
	p := cloudtrail.NewLookupEventsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var vals []string
		for _, ev := range page.Events {
			var r struct {
				RequestParameters struct {
					TagSet struct {
						Items []struct{ Value string } `json:"items"`
					} `json:"tagSet"`
				} `json:"requestParameters"`
			}
			_ = json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &r)
			for _, it := range r.RequestParameters.TagSet.Items {
				vals = append(vals, it.Value)
			}
		}
		pages = append(pages, vals)
	}
	if diff := cmp.Diff([][]string{{"5", "4", "3"}, {"2", "1", "0"}}, pages); diff != "" {
		t.Fatalf("pages of CreateTags (-want +got):\n%s", diff)
	}

	// A token with other parameters is refused.
	first, err := c.LookupEvents(ctx, in)
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v", err)
	}
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(3), NextToken: first.NextToken})
	var badToken *cttypes.InvalidNextTokenException
	if !errors.As(err, &badToken) {
		t.Errorf("token reused with other parameters: %v", err)
	}

	// Minutes 2 to 4 inclusive: the CreateTags of i = 1, 2, 3.
	got := lookupAll(t, c, &cloudtrail.LookupEventsInput{StartTime: aws.Time(start.Add(2 * time.Minute)), EndTime: aws.Time(start.Add(4 * time.Minute))})
	if len(got) != 3 {
		t.Errorf("time range: %d events, want 3", len(got))
	}
	for _, ev := range got {
		if tm := aws.ToTime(ev.EventTime); tm.Before(start.Add(2*time.Minute)) || tm.After(start.Add(4*time.Minute)) {
			t.Errorf("event at %v outside the range", tm)
		}
	}

	for name, tc := range map[string]struct {
		in   *cloudtrail.LookupEventsInput
		want any
	}{
		"start after end": {&cloudtrail.LookupEventsInput{StartTime: aws.Time(start.Add(time.Hour)), EndTime: aws.Time(start)}, new(*cttypes.InvalidTimeRangeException)},
		"two attributes": {&cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("a")},
			{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: aws.String("b")}}}, new(*cttypes.InvalidLookupAttributesException)},
		"read only not a boolean": {&cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyReadOnly, AttributeValue: aws.String("maybe")}}}, new(*cttypes.InvalidLookupAttributesException)},
		"max results": {&cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, new(*cttypes.InvalidMaxResultsException)},
		"bad token":   {&cloudtrail.LookupEventsInput{NextToken: aws.String("garbage")}, new(*cttypes.InvalidNextTokenException)},
	} {
		_, err := c.LookupEvents(ctx, tc.in)
		if !errors.As(err, tc.want) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// With --audit-reads, reads are in the trail too.
func TestAuditReads(t *testing.T) {
	e := startEnv(t, func(c *app.Config) { c.Audit.Reads = true })
	img := e.register(owner, "read")
	e.visibleIDs(owner, &ec2.DescribeImagesInput{ImageIds: []string{img}})
	e.app.FlushAudit()
	// On PostgreSQL a lookup shows an event once every transaction that
	// began writing before it has ended (audit_order.go), which another
	// test's database can briefly delay: look again for a few seconds, as
	// a CloudTrail reader waits for delivery.
	var got []cttypes.Event
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got = lookupAll(t, e.trailClient(owner), &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyReadOnly, AttributeValue: aws.String("true")}}})
		if len(got) != 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(got) != 1 || aws.ToString(got[0].EventName) != "DescribeImages" {
		t.Fatalf("read-only events = %d", len(got))
	}
	if r := record(t, got[0]); string(r.ResponseElements) != "null" || !r.ReadOnly {
		t.Errorf("read record: %+v", r)
	}
}
