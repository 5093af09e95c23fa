package bench

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
)

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"ec2 xml", `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>InvalidAMIID.NotFound</Code><Message>The image id &apos;[ami-00000000000000099]&apos; does not exist</Message></Error></Errors><RequestID>ab</RequestID></Response>`, "InvalidAMIID.NotFound"},
		{"first of several", `<Response><Errors><Error><Code>AuthFailure</Code></Error><Error><Code>Other</Code></Error></Errors></Response>`, "AuthFailure"},
		{"spaces trimmed", "<Response><Errors><Error><Code>\n  RequestLimitExceeded </Code></Error></Errors></Response>", "RequestLimitExceeded"},
		{"json envelope", `{"success":false,"error":{"code":"UnauthorizedOperation","message":"no"}}`, "UnauthorizedOperation"},
		{"no code", `<html>502 Bad Gateway</html>`, ""},
		{"unclosed", `<Response><Errors><Error><Code>Trunc`, ""},
		{"empty", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode([]byte(tt.body)); got != tt.want {
				t.Errorf("ErrorCode() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormEscapesValues(t *testing.T) {
	f := newForm("ModifyImageAttribute").
		add("ImageId", "ami-0123456789abcdef0").
		add("LaunchPermission.Add.1.OrganizationArn", "arn:aws:organizations::100000000001:organization/o-benchorg001").
		add("Description.Value", "a b&c=d").
		addInt("N", 8)
	want := "Action=ModifyImageAttribute&Version=2016-11-15&ImageId=ami-0123456789abcdef0" +
		"&LaunchPermission.Add.1.OrganizationArn=arn%3Aaws%3Aorganizations%3A%3A100000000001%3Aorganization%2Fo-benchorg001" +
		"&Description.Value=a+b%26c%3Dd&N=8"
	if got := string(f.b); got != want {
		t.Errorf("form =\n%s\nwant\n%s", got, want)
	}
	v, err := url.ParseQuery(string(f.b))
	if err != nil || v.Get("Description.Value") != "a b&c=d" {
		t.Errorf("form does not decode back: %v %v", v, err)
	}
}

func TestParseEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4566":   "http://127.0.0.1:4566/",
		"http://127.0.0.1:4566/":  "http://127.0.0.1:4566/",
		"https://localhost:8443/": "https://localhost:8443/",
		"127.0.0.1:4566":          "",
		"ftp://127.0.0.1":         "",
		"http://127.0.0.1/?a=b":   "",
		"http://u:p@127.0.0.1/":   "",
		"http:///path":            "",
	} {
		u, err := parseEndpoint(in)
		switch {
		case want == "" && err == nil:
			t.Errorf("parseEndpoint(%q) = %v, want an error", in, u)
		case want != "" && (err != nil || u.String() != want):
			t.Errorf("parseEndpoint(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
}

func TestPrincipalsPreferKeysWithoutPolicy(t *testing.T) {
	dir := testDirectoryFrom(t, `
accounts:
  - id: "111122223333"
    access_keys:
      - id: AKIARO
        secret: ro
        policy: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
      - {id: AKIAFULL, secret: full}
  - id: "444455556666"
    access_keys: [{id: AKIAONLYRO, secret: ro2, policy: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]
  - id: "777788889999"
organizations:
  - id: o-exampleorg1
    management_account: "111122223333"
    accounts: ["777788889999"]
`)
	ps := principals(dir)
	var got []string
	for _, p := range ps {
		got = append(got, p.Account+"="+p.creds.AccessKeyID)
	}
	if want := "111122223333=AKIAFULL 444455556666=AKIAONLYRO"; strings.Join(got, " ") != want {
		t.Errorf("principals = %v, want %s (keyless 777788889999 left out)", got, want)
	}
}

func TestIDsRoundTrip(t *testing.T) {
	in := []OwnedImage{{"100000000001", "ami-0123456789abcdef0", ""}, {"100000000002", "ami-00000000000000001", "snap-00000000000000001"}}
	var buf bytes.Buffer
	if err := WriteIDs(&buf, in); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("\n# a comment\n")
	out, err := ReadIDs(&buf)
	if err != nil || len(out) != 2 || out[0] != in[0] || out[1] != in[1] {
		t.Fatalf("ReadIDs(WriteIDs(x)) = %v, %v; want %v", out, err, in)
	}
	for _, bad := range []string{"ami-0123456789abcdef0\n", "10000000001 ami-0123456789abcdef0\n", "100000000001 snap-0123456789abcdef0\n", "100000000001 ami-0 x\n"} {
		if _, err := ReadIDs(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadIDs(%q) accepted a bad line", bad)
		}
	}
}

func TestGrantFor(t *testing.T) {
	dir := testDirectory(t)
	orgs := dir.Organizations()
	accounts := dir.Accounts()
	kinds := map[string]int{}
	publicOwners := map[string]bool{}
	for i := range 1000 {
		owner := accounts[i%len(accounts)]
		field, value := grantFor(i, owner, accounts, &orgs[0])
		if field == "" {
			continue
		}
		kinds[field]++
		if value == "all" {
			publicOwners[owner] = true
		}
		if value == owner {
			t.Errorf("image %d: grant to its own owner", i)
		}
	}
	want := map[string]int{
		"LaunchPermission.Add.1.Group":                 10,
		"LaunchPermission.Add.1.UserId":                99, // 303 is public
		"LaunchPermission.Add.1.OrganizationArn":       99, // 606
		"LaunchPermission.Add.1.OrganizationalUnitArn": 99, // 909
	}
	for f, n := range want {
		if kinds[f] != n {
			t.Errorf("%d grants of %s, want %d (all: %v)", kinds[f], f, n, kinds)
		}
	}
	if len(publicOwners) != len(accounts) {
		t.Errorf("public images owned by %v, want every account", publicOwners)
	}
	// Without organizations every share is to an account.
	field, _ := grantFor(6, accounts[0], accounts, nil)
	if field != "LaunchPermission.Add.1.UserId" {
		t.Errorf("without an organization: %s, want UserId", field)
	}
}
