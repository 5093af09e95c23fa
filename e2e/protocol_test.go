package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

type rawResponse struct {
	status int
	header http.Header
	body   string
}

// post sends a form POST signed as who (or unsigned when who is "").
func (e *env) post(t *testing.T, who string, form string, hdr map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.endpoint+"/", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if who != "" {
		sign(t, req, who, []byte(form), time.Now())
	}
	return do(t, req)
}

func sign(t *testing.T, req *http.Request, who string, body []byte, at time.Time) {
	t.Helper()
	k := keys[who]
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}, req,
		hex.EncodeToString(sum[:]), "ec2", region, at)
	if err != nil {
		t.Fatal(err)
	}
}

func do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, resp.Header, string(b)}
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func TestProtocolErrors(t *testing.T) {
	e := startEnv(t)
	cases := []struct {
		name   string
		who    string
		form   string
		status int
		code   string
	}{
		{"no credentials", "", form("Action", "DescribeImages", "Version", "2016-11-15"), 400, "MissingParameter"},
		{"missing action", owner, form("Version", "2016-11-15"), 400, "MissingAction"},
		{"unknown action", owner, form("Action", "DescribeUnicorns", "Version", "2016-11-15"), 400, "InvalidAction"},
		{"unknown version", owner, form("Action", "DescribeImages", "Version", "2099-01-01"), 400, "NoSuchVersion"},
		{"unknown parameter", owner, form("Action", "DescribeImages", "Version", "2016-11-15", "ImageType", "machine"), 400, "UnknownParameter"},
		{"absurd index", owner, form("Action", "ModifyImageAttribute", "Version", "2016-11-15", "ImageId", "ami-0123456789abcdef0", "LaunchPermission.Add.99999999999999999999.UserId", "111122223333"), 400, "InvalidParameterValue"},
		{"missing required", owner, form("Action", "ModifyImageAttribute", "Version", "2016-11-15"), 400, "MissingParameter"},
		{"bad boolean", owner, form("Action", "DescribeImages", "Version", "2016-11-15", "DryRun", "perhaps"), 400, "InvalidParameterValue"},
		{"wrong signature", "wrong-secret", form("Action", "DescribeImages", "Version", "2016-11-15"), 403, "SignatureDoesNotMatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(t, tc.who, tc.form, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if !strings.Contains(r.body, "<Code>"+tc.code+"</Code>") {
				t.Fatalf("want %s in %s", tc.code, r.body)
			}
			if r.header.Get("x-amzn-RequestId") == "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/xml") {
				t.Fatalf("headers %v", r.header)
			}
		})
	}
	r := e.post(t, "", form("Action", "DescribeImages", "Version", "2016-11-15"), nil)
	golden(t, "error-no-credentials", r.body)
}

func TestClockSkew(t *testing.T) {
	e := startEnv(t)
	body := form("Action", "DescribeImages", "Version", "2016-11-15")
	for _, tc := range []struct {
		skew time.Duration
		code string
	}{{-16 * time.Minute, "RequestExpired"}, {16 * time.Minute, "RequestExpired"}, {-14 * time.Minute, ""}, {14 * time.Minute, ""}} {
		req, _ := http.NewRequest(http.MethodPost, e.endpoint+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sign(t, req, owner, []byte(body), time.Now().Add(tc.skew))
		r := do(t, req)
		if tc.code == "" && r.status != 200 || tc.code != "" && !strings.Contains(r.body, tc.code) {
			t.Errorf("skew %v: %d %s", tc.skew, r.status, r.body)
		}
	}
}

func TestPresignedGet(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "presigned")
	q := url.Values{"Action": {"DescribeImages"}, "Version": {"2016-11-15"}, "ImageId.1": {id}, "X-Amz-Expires": {"300"}}
	req, _ := http.NewRequest(http.MethodGet, e.endpoint+"/?"+q.Encode(), nil)
	k := keys[owner]
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}, req,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "ec2", region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(signed)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<imageId>"+id+"</imageId>") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	// Tampering with a signed parameter breaks the signature.
	resp, err = http.Get(strings.Replace(signed, "ImageId.1=ami-", "ImageId.1=ami-0", 1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "SignatureDoesNotMatch") {
		t.Fatalf("tampered: %d %s", resp.StatusCode, b)
	}
}

func TestJSONEnvelope(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "json")
	accept := map[string]string{"Accept": "application/json"}
	r := e.post(t, owner, form("Action", "ModifyImageAttribute", "Version", "2016-11-15", "ImageId", id, "LaunchPermission.Add.1.UserId", member), accept)
	if r.status != 200 || r.body != `{"success":true,"data":{"Return":true}}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = e.post(t, owner, form("Action", "ModifyImageAttribute", "Version", "2016-11-15", "ImageId", "ami-1"), accept)
	var env struct {
		Success bool
		Error   struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(r.body), &env); err != nil || env.Success || env.Error.Code != "InvalidAMIID.Malformed" || r.status != 400 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// A JSON body keyed by the model's member names, signed like any request.
	body := `{"Action":"ModifyImageAttribute","ImageId":"` + id + `","LaunchPermission":{"Add":[{"UserId":"` + nested + `"}]}}`
	req, _ := http.NewRequest(http.MethodPost, e.endpoint+"/", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	sign(t, req, owner, []byte(body), time.Now())
	if r := do(t, req); r.status != 200 || !strings.Contains(r.body, `"success":true`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = e.post(t, owner, form("Action", "DescribeImageAttribute", "Version", "2016-11-15", "ImageId", id, "Attribute", "launchPermission"), accept)
	if !strings.Contains(r.body, member) || !strings.Contains(r.body, nested) {
		t.Fatalf("%s", r.body)
	}
}

// TestPayloadHashBeforeParsing sends hand-made requests whose signed
// X-Amz-Content-Sha256 describes another body. The signature is valid for
// the claim, so only the body's own hash, computed as it is read, can
// refuse them; the answer is SignatureDoesNotMatch before the body is
// parsed (a body that would not parse, or names no action, gets the same
// answer), and nothing changes.
func TestPayloadHashBeforeParsing(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "payload-hash")
	modify := form("Action", "ModifyImageAttribute", "Version", "2016-11-15", "ImageId", id,
		"Description.Value", "changed by a body the signature does not cover")
	claimed := form("Action", "DescribeImages", "Version", "2016-11-15")
	send := func(t *testing.T, body, claim string) rawResponse {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, e.endpoint+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		req.Header.Set("X-Amz-Content-Sha256", claim)
		k := keys[owner]
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}, req,
			claim, "ec2", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		return do(t, req)
	}
	sumOf := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	for _, tc := range []struct{ name, body string }{
		{"a write", modify},
		{"a body that does not parse", "Action=ModifyImageAttribute&Version=2016-11-15&ImageId=%zz"},
		{"no action", "Version=2016-11-15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, tc.body, sumOf(claimed))
			if r.status != 403 || !strings.Contains(r.body, "<Code>SignatureDoesNotMatch</Code>") ||
				!strings.Contains(r.body, "x-amz-content-sha256") {
				t.Fatalf("a body its signed hash does not describe: %d %s, want 403 SignatureDoesNotMatch", r.status, r.body)
			}
		})
	}
	out, err := e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if d := aws.ToString(out.Images[0].Description); strings.Contains(d, "does not cover") {
		t.Errorf("the refused write changed the image: description %q", d)
	}
	// The same claim, matching its body (in upper case), and
	// UNSIGNED-PAYLOAD are served.
	if r := send(t, claimed, strings.ToUpper(sumOf(claimed))); r.status != 200 {
		t.Errorf("a matching hash: %d %s", r.status, r.body)
	}
	if r := send(t, claimed, "UNSIGNED-PAYLOAD"); r.status != 200 {
		t.Errorf("UNSIGNED-PAYLOAD: %d %s", r.status, r.body)
	}
}
