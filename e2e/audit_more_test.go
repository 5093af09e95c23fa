package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/throttle"
)

// postTrail sends a LookupEvents JSON 1.1 body signed as who for the
// cloudtrail service, as the SDKs send it.
func (e *env) postTrail(t *testing.T, who, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents")
	k := keys[who]
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}, req,
		hex.EncodeToString(sum[:]), "cloudtrail", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func byAttribute(key cttypes.LookupAttributeKey, value string) *cloudtrail.LookupEventsInput {
	return &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: key, AttributeValue: aws.String(value)}}}
}

// With --throttle ec2, LookupEvents gets CloudTrail's own rate, two a
// second per account and Region: a burst past it is refused with
// ThrottlingException (400), the SDK's standard retryer gets every call
// through, and the refusals are in the trail with their bare code.
func TestAuditLookupThrottled(t *testing.T) {
	e := startEnv(t, func(c *app.Config) { c.Throttle = &throttle.Options{} }) // EC2's and CloudTrail's own numbers
	e.register(owner, "watched")
	c := e.trailClient(owner) // no retries: see the refusals
	limited := 0
	for range 8 {
		_, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)})
		if err != nil {
			if msg := apiErr(t, err, "ThrottlingException", 400); msg != "Rate exceeded" {
				t.Fatalf("message %q", msg)
			}
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("eight lookups at once past a bucket of two were never refused")
	}

	// Another account's bucket is full: a burst of its capacity plus two
	// seconds of refill, at once, through the standard retryer.
	k := keys[member]
	retrying := cloudtrail.New(cloudtrail.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(k[0], k[1], ""),
		HTTPClient:   httpClient,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.MaxBackoff = time.Second
		}),
	})
	const calls = 6
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := retrying.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("with retries: %v", err)
		}
	}
	httpClient.CloseIdleConnections()
	if !strings.Contains(e.scrape(t), `amigo_requests_total{action="LookupEvents",code="ThrottlingException",status="400"} `) {
		t.Error("throttled lookups are not in the metrics")
	}

	// The refusals are recorded (refused calls always are), with
	// CloudTrail's bare code. Wait out the bucket first.
	e.app.FlushAudit()
	time.Sleep(time.Second)
	var got []cttypes.Event
	for range 20 { // this lookup is throttled too, when the bucket is still short
		out, err := c.LookupEvents(ctx, byAttribute(cttypes.LookupAttributeKeyEventName, "LookupEvents"))
		if err == nil {
			got = out.Events
			break
		}
		apiErr(t, err, "ThrottlingException", 400)
		time.Sleep(500 * time.Millisecond)
	}
	if len(got) < limited {
		t.Fatalf("%d LookupEvents events for %d refusals", len(got), limited)
	}
	for _, ev := range got {
		r := record(t, ev)
		if r.EventSource != "cloudtrail.amazonaws.com" || aws.ToString(ev.EventSource) != "cloudtrail.amazonaws.com" ||
			r.ErrorCode != "ThrottlingException" || r.ErrorMessage != "Rate exceeded" || !r.ReadOnly ||
			r.RecipientAccountID != owner {
			t.Errorf("throttled lookup's record: %+v", r)
		}
	}
}

// Without --throttle, LookupEvents is not limited (spec §5.6: throttling
// is off by default).
func TestAuditLookupUnthrottledByDefault(t *testing.T) {
	e := startEnv(t)
	c := e.trailClient(owner)
	for i := range 10 {
		if _, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Fatalf("lookup %d: %v", i+1, err)
		}
	}
}

// STS calls are in the trail as CloudTrail records them: eventSource
// sts.amazonaws.com, read-only, so a success is recorded with
// --audit-reads alone, and a refusal always, with its bare code. So are
// LookupEvents calls (cloudtrail.amazonaws.com), with their parameters.
func TestAuditSTSAndLookupEvents(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		e := startEnv(t)
		if _, err := e.stsClient("builder", region).GetCallerIdentity(ctx, nil); err != nil {
			t.Fatal(err)
		}
		r := e.postSTS(t, "builder", "Action=AssumeRole&Version=2011-06-15")
		if r.status != 400 || !strings.Contains(r.body, "<Code>InvalidAction</Code>") {
			t.Fatalf("unknown STS action: %d %s", r.status, r.body)
		}
		e.app.FlushAudit()
		got := lookupAll(t, e.trailClient(owner), byAttribute(cttypes.LookupAttributeKeyEventSource, "sts.amazonaws.com"))
		if len(got) != 1 {
			t.Fatalf("%d STS events without --audit-reads, want the refusal alone", len(got))
		}
		rec := record(t, got[0])
		if aws.ToString(got[0].EventName) != "AssumeRole" || rec.ErrorCode != "InvalidAction" ||
			!strings.HasPrefix(rec.ErrorMessage, "Could not find operation AssumeRole") || !rec.ReadOnly ||
			aws.ToString(got[0].Username) != "ci-builder" {
			t.Errorf("refused STS call: %+v %+v", got[0], rec)
		}
		// Lookups are reads: not recorded without --audit-reads.
		if n := len(lookupAll(t, e.trailClient(owner), byAttribute(cttypes.LookupAttributeKeyEventName, "LookupEvents"))); n != 0 {
			t.Errorf("%d LookupEvents events without --audit-reads", n)
		}
	})
	t.Run("audit-reads", func(t *testing.T) {
		e := startEnv(t, func(c *app.Config) { c.Audit.Reads = true })
		out, err := e.stsClient("builder", region).GetCallerIdentity(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.app.FlushAudit()
		got := lookupAll(t, e.trailClient(owner), byAttribute(cttypes.LookupAttributeKeyEventSource, "sts.amazonaws.com"))
		if len(got) != 1 {
			t.Fatalf("%d STS events, want 1", len(got))
		}
		ev, rec := got[0], record(t, got[0])
		if aws.ToString(ev.EventName) != "GetCallerIdentity" || aws.ToString(ev.ReadOnly) != "true" ||
			aws.ToString(ev.AccessKeyId) != keys["builder"][0] || aws.ToString(ev.Username) != "ci-builder" ||
			len(ev.Resources) != 0 {
			t.Errorf("GetCallerIdentity event: %+v", ev)
		}
		if rec.EventSource != "sts.amazonaws.com" || rec.ErrorCode != "" || string(rec.RequestParameters) != "null" ||
			string(rec.ResponseElements) != "null" || rec.UserIdentity.Type != "IAMUser" ||
			rec.UserIdentity.ARN != aws.ToString(out.Arn) || rec.AWSRegion != region || rec.RecipientAccountID != owner {
			t.Errorf("GetCallerIdentity record: %+v", rec)
		}

		e.app.FlushAudit() // the lookup above is recorded after it answered
		got = lookupAll(t, e.trailClient(owner), byAttribute(cttypes.LookupAttributeKeyEventSource, "cloudtrail.amazonaws.com"))
		if len(got) == 0 {
			t.Fatal("LookupEvents is not in the trail with --audit-reads")
		}
		rec = record(t, got[len(got)-1]) // the oldest: the lookup of the STS events
		want := `{"lookupAttributes":[{"attributeKey":"EventSource","attributeValue":"sts.amazonaws.com"}]}`
		if rec.EventName != "LookupEvents" || string(rec.RequestParameters) != want || !rec.ReadOnly || rec.ErrorCode != "" {
			t.Errorf("LookupEvents record: %s %s", rec.EventName, rec.RequestParameters)
		}
	})
}

// postSTS sends an STS Query form signed as who for the sts service.
func (e *env) postSTS(t *testing.T, who, form string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.endpoint+"/", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	k := keys[who]
	sum := sha256.Sum256([]byte(form))
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}, req,
		hex.EncodeToString(sum[:]), "sts", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// A receiver that refuses an event for good (a 4xx other than 408 and
// 429) makes amigo give that event up at once, counted and logged, and the
// image's next event goes out after it; 429 and 408 are retried.
func TestEventsPermanentRefusalGivesUp(t *testing.T) {
	r := newReceiver(t)
	e := eventsEnv(t, r)
	refusedImg, retriedImg := "ami-00000000000000003", "ami-00000000000000006" // the ids e.register gives below (a volume and a snapshot before each)
	r.mu.Lock()
	r.refuse[refusedImg+"/available"] = []int{http.StatusBadRequest, http.StatusBadRequest}
	r.refuse[retriedImg+"/available"] = []int{http.StatusTooManyRequests, http.StatusRequestTimeout}
	r.mu.Unlock()
	if id := e.register(owner, "refused"); id != refusedImg {
		t.Fatalf("registered %s, want %s", id, refusedImg)
	}
	if id := e.register(owner, "retried"); id != retriedImg {
		t.Fatalf("registered %s, want %s", id, retriedImg)
	}
	// The refused image's next event is not held up behind the refusal.
	must[*ec2.DisableImageOutput](t)(e.client(owner).DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(refusedImg)}))
	r.waitFor(map[string][]string{refusedImg: {"disabled"}, retriedImg: {"available"}})
	r.mu.Lock()
	refusedTries, retriedTries := r.tries[refusedImg+"/available"], r.tries[retriedImg+"/available"]
	r.mu.Unlock()
	if refusedTries != 1 {
		t.Errorf("the 400 was tried %d times, want once", refusedTries)
	}
	if retriedTries != 2 {
		t.Errorf("429 then 408: %d refusals seen, want 2 before delivery", retriedTries)
	}
	wantLines(t, e.scrape(t), `amigo_events_rejected_total 1`, `amigo_events_delivered_total 2`, `amigo_events_delivery_failures_total 2`)
}
