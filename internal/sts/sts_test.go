package sts

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/iam"
)

func newService(t *testing.T) (*Service, *iam.Sealer) {
	t.Helper()
	sealer, err := iam.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return New(sealer), sealer
}

func params(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestDo(t *testing.T) {
	svc, sealer := newService(t)
	user := iam.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/ci-builder", ID: "AIDAEXAMPLE", Name: "ci-builder"}
	denyAll, err := iam.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	describeOnly, _ := iam.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`))
	msg := sealer.Seal(iam.Denial{Principal: user, Action: "ec2:CreateTags", Resource: "arn:aws:ec2:us-east-1::image/ami-1"})
	cases := []struct {
		name   string
		policy *iam.Policy
		params url.Values
		err    string // code: message
		status int
	}{
		{"identity despite deny all", denyAll, params("Action", "GetCallerIdentity", "Version", Version), "", 0},
		{"decode, no policy", nil, params("Action", "DecodeAuthorizationMessage", "Version", Version, "EncodedMessage", msg), "", 0},
		{"decode denied", describeOnly, params("Action", "DecodeAuthorizationMessage", "Version", Version, "EncodedMessage", msg),
			"AccessDenied: User: arn:aws:iam::111122223333:user/ci-builder is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action", 403},
		{"decode explicitly denied", denyAll, params("Action", "DecodeAuthorizationMessage", "Version", Version, "EncodedMessage", msg),
			"AccessDenied: User: arn:aws:iam::111122223333:user/ci-builder is not authorized to perform: sts:DecodeAuthorizationMessage with an explicit deny in an identity-based policy", 403},
		{"decode garbage", nil, params("Action", "DecodeAuthorizationMessage", "Version", Version, "EncodedMessage", "garbage"),
			"InvalidAuthorizationMessageException: The message is invalid or expired.", 400},
		{"decode without message", nil, params("Action", "DecodeAuthorizationMessage", "Version", Version),
			"ValidationError: 1 validation error detected: Value null at 'encodedMessage' failed to satisfy constraint: Member must not be null", 400},
		{"decode too long", nil, params("Action", "DecodeAuthorizationMessage", "Version", Version, "EncodedMessage", strings.Repeat("a", 10241)),
			"ValidationError: 1 validation error detected: Value at 'encodedMessage' failed to satisfy constraint: Member must have length less than or equal to 10240", 400},
		{"unknown action", nil, params("Action", "AssumeRole", "Version", Version), "InvalidAction: Could not find operation AssumeRole for version 2011-06-15", 400},
		{"other version", nil, params("Action", "GetCallerIdentity", "Version", "2016-11-15"), "InvalidAction: Could not find operation GetCallerIdentity for version 2016-11-15", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := svc.Do(Caller{Principal: user, Policy: tc.policy}, tc.params.Get("Action"), tc.params)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if out == nil {
					t.Fatal("no result")
				}
				return
			}
			e := awserr.From(err)
			if e == nil || e.Code+": "+e.Message != tc.err || e.Status != tc.status {
				t.Fatalf("got %v (%d), want %s (%d)", err, e.Status, tc.err, tc.status)
			}
		})
	}
}

func TestWire(t *testing.T) {
	var buf bytes.Buffer
	WriteResponse(&buf, "GetCallerIdentity", "RID", &CallerIdentity{Arn: "arn:aws:iam::000000000000:root", UserID: "000000000000", Account: "000000000000"})
	want := `<?xml version="1.0" encoding="UTF-8"?>
<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::000000000000:root</Arn>
    <UserId>000000000000</UserId>
    <Account>000000000000</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>RID</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	WriteError(&buf, awserr.Internal(nil), "RID")
	if !strings.Contains(buf.String(), "<Type>Receiver</Type>") || !strings.Contains(buf.String(), "<Code>InternalError</Code>") {
		t.Fatalf("%s", buf.String())
	}
	buf.Reset()
	WriteResponse(&buf, "DecodeAuthorizationMessage", "RID", &DecodedMessage{DecodedMessage: `{"a":"<b>"}`})
	if !strings.Contains(buf.String(), "<DecodedMessage>{&#34;a&#34;:&#34;&lt;b&gt;&#34;}</DecodedMessage>") {
		t.Fatalf("%s", buf.String())
	}
}
