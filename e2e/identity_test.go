package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/app"
)

// stsClient returns an STS client on amigo's one endpoint, signing as who.
func (e *env) stsClient(who, rgn string) *sts.Client {
	k, ok := keys[who]
	if !ok {
		e.t.Fatalf("no key for %q", who)
	}
	return sts.New(sts.Options{
		Region:       rgn,
		BaseEndpoint: aws.String(e.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(k[0], k[1], ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   httpClient,
	})
}

func TestGetCallerIdentity(t *testing.T) {
	e := startEnv(t)
	userID := regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`)
	cases := []struct {
		who, arn, account string
		user              bool
	}{
		{owner, "arn:aws:iam::111122223333:root", owner, false},
		{"readonly", "arn:aws:iam::111122223333:root", owner, false},
		{"builder", "arn:aws:iam::111122223333:user/ci-builder", owner, true},
		{stranger, "arn:aws:iam::444455556666:root", stranger, false},
	}
	for _, tc := range cases {
		t.Run(tc.who, func(t *testing.T) {
			out, err := e.stsClient(tc.who, "eu-west-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if *out.Arn != tc.arn || *out.Account != tc.account {
				t.Fatalf("got %s %s, want %s %s", *out.Arn, *out.Account, tc.arn, tc.account)
			}
			if tc.user && !userID.MatchString(*out.UserId) || !tc.user && *out.UserId != tc.account {
				t.Fatalf("UserId %q", *out.UserId)
			}
		})
	}
	// The user id is derived, not stored: the same after a restart.
	before := must[*sts.GetCallerIdentityOutput](t)(e.stsClient("builder", region).GetCallerIdentity(ctx, nil))
	e.restart()
	after := must[*sts.GetCallerIdentityOutput](t)(e.stsClient("builder", region).GetCallerIdentity(ctx, nil))
	if *before.UserId != *after.UserId {
		t.Fatalf("user id changed across restart: %s → %s", *before.UserId, *after.UserId)
	}

	t.Run("errors", func(t *testing.T) {
		_, err := e.stsClient("unknown-key", region).GetCallerIdentity(ctx, nil)
		apiErr(t, err, "InvalidClientTokenId", 403)
		_, err = e.stsClient("wrong-secret", region).GetCallerIdentity(ctx, nil)
		apiErr(t, err, "SignatureDoesNotMatch", 403)
		_, err = e.stsClient(owner, "us-est-1").GetCallerIdentity(ctx, nil)
		if msg := apiErr(t, err, "SignatureDoesNotMatch", 403); msg != "Credential should be scoped to a valid region. " {
			t.Fatalf("message %q", msg)
		}
	})
}

func TestGetCallerIdentityDefaultKey(t *testing.T) {
	e := startEnv(t, func(c *app.Config) { c.Directory = account.Default() })
	keys["test"] = [2]string{account.DefaultKeyID, account.DefaultSecret}
	t.Cleanup(func() { delete(keys, "test") })
	out := must[*sts.GetCallerIdentityOutput](t)(e.stsClient("test", region).GetCallerIdentity(ctx, nil))
	if *out.Arn != "arn:aws:iam::000000000000:root" || *out.UserId != "000000000000" || *out.Account != "000000000000" {
		t.Fatalf("got %s %s %s", *out.Arn, *out.UserId, *out.Account)
	}
}

// TestSTSWire checks the bytes of STS answers, which the SDK would forgive.
func TestSTSWire(t *testing.T) {
	e := startEnv(t)
	send := func(body string, sign bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.endpoint+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		if sign {
			sum := sha256.Sum256([]byte(body))
			k := keys[owner]
			err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}, req,
				hex.EncodeToString(sum[:]), "sts", region, time.Now())
			if err != nil {
				t.Fatal(err)
			}
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if ct := resp.Header.Get("Content-Type"); ct != "text/xml" {
			t.Errorf("Content-Type %q", ct)
		}
		id := resp.Header.Get("x-amzn-RequestId")
		if id == "" || !strings.Contains(string(b), "<RequestId>"+id+"</RequestId>") {
			t.Errorf("request id %q not in body", id)
		}
		return resp.StatusCode, strings.ReplaceAll(string(b), id, "ID")
	}

	status, body := send("Action=GetCallerIdentity&Version=2011-06-15", true)
	want := `<?xml version="1.0" encoding="UTF-8"?>
<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::111122223333:root</Arn>
    <UserId>111122223333</UserId>
    <Account>111122223333</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>ID</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`
	if status != 200 || body != want {
		t.Fatalf("status %d, body diff (-want +got):\n%s", status, cmp.Diff(want, body))
	}

	status, body = send("Action=AssumeRole&Version=2011-06-15", true)
	want = `<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>InvalidAction</Code>
    <Message>Could not find operation AssumeRole for version 2011-06-15</Message>
  </Error>
  <RequestId>ID</RequestId>
</ErrorResponse>
`
	if status != 400 || body != want {
		t.Fatalf("status %d, body diff (-want +got):\n%s", status, cmp.Diff(want, body))
	}

	status, body = send("Action=GetCallerIdentity&Version=2011-06-15", false)
	if status != 403 || !strings.Contains(body, "<Code>MissingAuthenticationToken</Code>") {
		t.Fatalf("unsigned: %d %s", status, body)
	}

	// Clock skew: STS words it as SignatureDoesNotMatch, not EC2's RequestExpired.
	old := "Action=GetCallerIdentity&Version=2011-06-15"
	req, _ := http.NewRequest(http.MethodPost, e.endpoint+"/", strings.NewReader(old))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(old))
	k := keys[owner]
	creds := aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sts", region, time.Now().Add(-20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	r := do(t, req)
	if r.status != 403 || !regexp.MustCompile(`<Code>SignatureDoesNotMatch</Code>\s*<Message>Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)</Message>`).MatchString(r.body) {
		t.Fatalf("skewed: %d %s", r.status, r.body)
	}

	// A presigned GET, as identity brokers use.
	get, _ := http.NewRequest(http.MethodGet, e.endpoint+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=900", nil)
	empty := sha256.Sum256(nil)
	url, _, err := v4.NewSigner().PresignHTTP(ctx, creds, get, hex.EncodeToString(empty[:]), "sts", region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	get, _ = http.NewRequest(http.MethodGet, url, nil)
	r = do(t, get)
	if r.status != 200 || !strings.Contains(r.body, "<Arn>arn:aws:iam::111122223333:root</Arn>") {
		t.Fatalf("presigned: %d %s", r.status, r.body)
	}
}

func TestDescribeRegions(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	names := func(out *ec2.DescribeRegionsOutput) []string {
		var ns []string
		for _, r := range out.Regions {
			ns = append(ns, *r.RegionName)
		}
		return ns
	}
	all := must[*ec2.DescribeRegionsOutput](t)(c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}))
	if len(all.Regions) != 34 {
		t.Fatalf("%d regions, want 34", len(all.Regions))
	}
	for _, r := range all.Regions {
		want := "opt-in-not-required"
		if *r.RegionName == "af-south-1" || *r.RegionName == "mx-central-1" {
			want = "opted-in"
		}
		if *r.RegionName == "us-east-1" || strings.HasPrefix(want, "opted") {
			if *r.OptInStatus != want || *r.Endpoint != "ec2."+*r.RegionName+".amazonaws.com" {
				t.Errorf("%s: %s %s", *r.RegionName, *r.OptInStatus, *r.Endpoint)
			}
		}
	}
	cases := []struct {
		name string
		in   *ec2.DescribeRegionsInput
		want []string
	}{
		{"names", &ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1", "us-east-1"}}, []string{"eu-west-1", "us-east-1"}},
		{"endpoint wildcard", &ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("endpoint"), Values: []string{"*us-*"}}}},
			[]string{"us-east-1", "us-east-2", "us-west-1", "us-west-2"}},
		{"opted in", &ec2.DescribeRegionsInput{Filters: []ec2types.Filter{
			{Name: aws.String("opt-in-status"), Values: []string{"opted-in"}},
			{Name: aws.String("region-name"), Values: []string{"ap-*", "eu-*"}}}},
			[]string{"ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "eu-central-2", "eu-south-1", "eu-south-2"}},
		{"not opted in", &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true), Filters: []ec2types.Filter{{Name: aws.String("opt-in-status"), Values: []string{"not-opted-in"}}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*ec2.DescribeRegionsOutput](t)(c.DescribeRegions(ctx, tc.in))
			if d := cmp.Diff(tc.want, names(out)); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
	_, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"us-east-1", "us--east-1"}})
	if msg := apiErr(t, err, "InvalidParameterValue", 400); msg != "Invalid region: [us--east-1]" {
		t.Fatalf("message %q", msg)
	}
	_, err = c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("zone-name"), Values: []string{"x"}}}})
	apiErr(t, err, "InvalidParameterValue", 400)
	_, err = c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{DryRun: aws.Bool(true)})
	apiErr(t, err, "DryRunOperation", 412)
}

func TestDescribeAvailabilityZones(t *testing.T) {
	e := startEnv(t)
	zones := func(rgn string, in *ec2.DescribeAvailabilityZonesInput) [][2]string {
		t.Helper()
		out := must[*ec2.DescribeAvailabilityZonesOutput](t)(e.clientIn(owner, rgn).DescribeAvailabilityZones(ctx, in))
		var zs [][2]string
		for _, z := range out.AvailabilityZones {
			zs = append(zs, [2]string{*z.ZoneName, *z.ZoneId})
			if *z.RegionName != rgn || z.State != "available" || *z.ZoneType != "availability-zone" ||
				z.OptInStatus != "opt-in-not-required" || *z.GroupName != rgn+"-zg-1" || *z.NetworkBorderGroup != rgn {
				t.Errorf("zone %+v", z)
			}
		}
		return zs
	}
	cases := []struct {
		name, region string
		in           *ec2.DescribeAvailabilityZonesInput
		want         [][2]string
	}{
		{"us-east-1", "us-east-1", &ec2.DescribeAvailabilityZonesInput{},
			[][2]string{{"us-east-1a", "use1-az6"}, {"us-east-1b", "use1-az1"}, {"us-east-1c", "use1-az2"}, {"us-east-1d", "use1-az4"}, {"us-east-1e", "use1-az3"}, {"us-east-1f", "use1-az5"}}},
		{"all flag changes nothing", "us-east-2", &ec2.DescribeAvailabilityZonesInput{AllAvailabilityZones: aws.Bool(true)},
			[][2]string{{"us-east-2a", "use2-az1"}, {"us-east-2b", "use2-az2"}, {"us-east-2c", "use2-az3"}}},
		{"names and ids", "eu-west-1", &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"eu-west-1c"}, ZoneIds: []string{"euw1-az3"}},
			[][2]string{{"eu-west-1a", "euw1-az3"}, {"eu-west-1c", "euw1-az2"}}},
		{"filter", "ca-central-1", &ec2.DescribeAvailabilityZonesInput{Filters: []ec2types.Filter{{Name: aws.String("zone-id"), Values: []string{"cac1-az?"}}, {Name: aws.String("zone-name"), Values: []string{"*d"}}}},
			[][2]string{{"ca-central-1d", "cac1-az4"}}},
		{"other region's name filter", "us-east-1", &ec2.DescribeAvailabilityZonesInput{Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-west-1"}}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, zones(tc.region, tc.in)); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
	out := must[*ec2.DescribeAvailabilityZonesOutput](t)(e.clientIn(owner, "us-east-2").DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}))
	if g := *out.AvailabilityZones[0].GroupLongName; g != "US East (Ohio) 1" {
		t.Errorf("group long name %q", g)
	}
	_, err := e.client(owner).DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"eu-west-1a"}})
	if msg := apiErr(t, err, "InvalidParameterValue", 400); msg != "Invalid availability zone: [eu-west-1a]" {
		t.Fatalf("message %q", msg)
	}
	_, err = e.client(owner).DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{ZoneIds: []string{"use1-az9"}})
	if msg := apiErr(t, err, "InvalidParameterValue", 400); msg != "Invalid availability zone-id: [use1-az9]" {
		t.Fatalf("message %q", msg)
	}
}

func TestUnknownRegion(t *testing.T) {
	e := startEnv(t)
	_, err := e.clientIn(owner, "us-est-1").DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if msg := apiErr(t, err, "AuthFailure", 401); msg != "AWS was not able to validate the provided access credentials" {
		t.Fatalf("message %q", msg)
	}
	// Checked before the key: an unknown key gets the same answer.
	_, err = e.clientIn("unknown-key", "us-est-1").DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	apiErr(t, err, "AuthFailure", 401)
}

func TestRegionsNarrowed(t *testing.T) {
	e := startEnv(t, func(c *app.Config) { c.Regions = []string{"us-east-1", "eu-west-1", "il-central-1"} })
	out := must[*ec2.DescribeRegionsOutput](t)(e.client(owner).DescribeRegions(ctx, &ec2.DescribeRegionsInput{}))
	var got []string
	for _, r := range out.Regions {
		got = append(got, *r.RegionName+" "+*r.OptInStatus)
	}
	want := []string{"eu-west-1 opt-in-not-required", "il-central-1 opted-in", "us-east-1 opt-in-not-required"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	all := must[*ec2.DescribeRegionsOutput](t)(e.client(owner).DescribeRegions(ctx, &ec2.DescribeRegionsInput{
		AllRegions: aws.Bool(true), Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{"us-west-2"}}}}))
	if len(all.Regions) != 1 || *all.Regions[0].OptInStatus != "not-opted-in" {
		t.Fatalf("us-west-2 with AllRegions: %+v", all.Regions)
	}
	_, err := e.clientIn(owner, "us-west-2").DescribeImages(ctx, &ec2.DescribeImagesInput{})
	apiErr(t, err, "AuthFailure", 401)
	_, err = e.stsClient(owner, "us-west-2").GetCallerIdentity(ctx, nil)
	apiErr(t, err, "SignatureDoesNotMatch", 403)
	must[*sts.GetCallerIdentityOutput](t)(e.stsClient(owner, "il-central-1").GetCallerIdentity(ctx, nil))
}

func TestUnauthorizedMessageDecodes(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "denied")
	_, err := e.client("builder").ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{
		ImageId: aws.String(id), Description: &ec2types.AttributeValue{Value: aws.String("x")}})
	msg := apiErr(t, err, "UnauthorizedOperation", 403)
	head, encoded, ok := strings.Cut(msg, ". Encoded authorization failure message: ")
	wantHead := "You are not authorized to perform this operation. User: arn:aws:iam::111122223333:user/ci-builder is not authorized to perform: ec2:ModifyImageAttribute on resource: arn:aws:ec2:us-east-1::image/" + id + " because no identity-based policy allows the ec2:ModifyImageAttribute action"
	if !ok || head != wantHead || encoded == "" {
		t.Fatalf("message %q", msg)
	}

	// Describe actions name no resource and carry no encoded part.
	_, err = e.client("readonly").CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if m := apiErr(t, err, "UnauthorizedOperation", 403); strings.Contains(m, "Encoded") && !strings.Contains(m, "on resource:") {
		t.Fatalf("message %q", m)
	}

	decode := func(who, text string) (map[string]any, error) {
		out, err := e.stsClient(who, region).DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(text)})
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(*out.DecodedMessage), &doc); err != nil {
			t.Fatalf("decoded message is not JSON: %v: %s", err, *out.DecodedMessage)
		}
		return doc, nil
	}
	check := func(doc map[string]any) {
		t.Helper()
		c := doc["context"].(map[string]any)
		p := c["principal"].(map[string]any)
		if doc["allowed"] != false || doc["explicitDeny"] != false || c["action"] != "ec2:ModifyImageAttribute" ||
			c["resource"] != "arn:aws:ec2:us-east-1::image/"+id || p["arn"] != "arn:aws:iam::111122223333:user/ci-builder" ||
			p["name"] != "ci-builder" {
			t.Fatalf("decoded %v", doc)
		}
	}
	doc, err := decode("builder", encoded)
	if err != nil {
		t.Fatal(err)
	}
	check(doc)
	// The root of the account may decode too (no policy: everything allowed).
	if _, err := decode(owner, encoded); err != nil {
		t.Fatal(err)
	}
	// The key lives in the store: a restarted server still opens it.
	e.restart()
	doc, err = decode("builder", encoded)
	if err != nil {
		t.Fatal(err)
	}
	check(doc)

	_, err = decode("readonly", encoded)
	if m := apiErr(t, err, "AccessDenied", 403); m != "User: arn:aws:iam::111122223333:root is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action" {
		t.Fatalf("message %q", m)
	}
	_, err = decode(stranger, encoded)
	apiErr(t, err, "InvalidAuthorizationMessageException", 400)
	tampered := []byte(encoded)
	tampered[len(tampered)/2] ^= 1
	_, err = decode("builder", string(tampered))
	apiErr(t, err, "InvalidAuthorizationMessageException", 400)
}

// TestUnservedService: a request signed for a service amigo does not serve
// (the Terraform provider's iam:GetUser fallback) gets STS's
// InvalidClientTokenId, which that fallback treats as "try the next way".
func TestUnservedService(t *testing.T) {
	e := startEnv(t)
	body := "Action=GetUser&Version=2010-05-08"
	req, _ := http.NewRequest(http.MethodPost, e.endpoint+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	k := keys[owner]
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}, req,
		hex.EncodeToString(sum[:]), "iam", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := do(t, req)
	if r.status != 403 || !strings.Contains(r.body, "<Code>InvalidClientTokenId</Code>") || !strings.Contains(r.body, "<ErrorResponse") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
