package account

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/iam"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/google/go-cmp/cmp"
)

func load(t *testing.T, name string) *Directory {
	t.Helper()
	d, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return d
}

const (
	exampleOrg = "arn:aws:organizations::111122223333:organization/o-exampleorg1"
	exampleOU  = "arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-11111111"
	nestedOrg  = "arn:aws:organizations::210987654321:organization/o-nestedorg01"
	nestedOU   = "arn:aws:organizations::210987654321:ou/o-nestedorg01/"
)

func TestExampleKeys(t *testing.T) {
	d := load(t, "example.yaml")
	tests := []struct {
		id                      string
		wantSecret, wantAccount string
		wantPolicy              bool
	}{
		{"AKIAEXAMPLEDEV00000", "devsecret", "111122223333", false},
		{"AKIAEXAMPLERO000000", "rosecret", "111122223333", true},
		{"AKIAEXAMPLEOTHER000", "othersecret", "444455556666", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			k, ok := d.Key(tt.id)
			if !ok {
				t.Fatalf("Key(%q) not found", tt.id)
			}
			if k.ID != tt.id || k.Secret != tt.wantSecret || k.Account != tt.wantAccount {
				t.Errorf("Key(%q) = {%s %s %s}, want {%s %s %s}", tt.id, k.ID, k.Secret, k.Account, tt.id, tt.wantSecret, tt.wantAccount)
			}
			if (k.Policy != nil) != tt.wantPolicy {
				t.Errorf("Key(%q).Policy = %v, want policy: %v", tt.id, k.Policy, tt.wantPolicy)
			}
		})
	}
	if _, ok := d.Key("AKIAUNKNOWN"); ok {
		t.Error("Key(unknown) found")
	}
	if _, ok := d.Key("akiaexampledev00000"); ok {
		t.Error("key ids must be case-sensitive")
	}
}

func TestExamplePolicy(t *testing.T) {
	d := load(t, "example.yaml")
	ro, _ := d.Key("AKIAEXAMPLERO000000")
	dev, _ := d.Key("AKIAEXAMPLEDEV00000")
	tests := []struct {
		key    Key
		action string
		want   bool
	}{
		{ro, "ec2:DescribeImages", true},
		{ro, "ec2:describeimageattribute", true},
		{ro, "ec2:CreateImage", false},
		{dev, "ec2:CreateImage", true}, // nil policy allows all
	}
	for _, tt := range tests {
		if got := tt.key.Policy.Allows(tt.action, "*"); got != tt.want {
			t.Errorf("key %s: Allows(%q) = %v, want %v", tt.key.ID, tt.action, got, tt.want)
		}
	}
}

func TestViewer(t *testing.T) {
	tests := []struct {
		file, account string
		want          resource.Viewer
	}{
		{"example.yaml", "444455556666", resource.Viewer{Account: "444455556666", OrgARN: exampleOrg, OUARNs: []string{exampleOU}}},
		{"example.yaml", "111122223333", resource.Viewer{Account: "111122223333", OrgARN: exampleOrg}},
		{"example.yaml", "999999999999", resource.Viewer{Account: "999999999999"}},
		{"nested.yaml", "333333333333", resource.Viewer{Account: "333333333333", OrgARN: nestedOrg, OUARNs: []string{
			nestedOU + "ou-root-aaaaaaaa", nestedOU + "ou-root-bbbbbbbb", nestedOU + "ou-root-cccccccc",
		}}},
		{"nested.yaml", "444444444444", resource.Viewer{Account: "444444444444", OrgARN: nestedOrg, OUARNs: []string{
			nestedOU + "ou-root-aaaaaaaa", nestedOU + "ou-root-bbbbbbbb", nestedOU + "ou-root-cccccccc",
		}}},
		{"nested.yaml", "222222222222", resource.Viewer{Account: "222222222222", OrgARN: nestedOrg, OUARNs: []string{
			nestedOU + "ou-root-aaaaaaaa", nestedOU + "ou-root-bbbbbbbb",
		}}},
		// A sibling branch must not inherit the other branch's path.
		{"nested.yaml", "555555555555", resource.Viewer{Account: "555555555555", OrgARN: nestedOrg, OUARNs: []string{
			nestedOU + "ou-root-dddddddd",
		}}},
		{"nested.yaml", "210987654321", resource.Viewer{Account: "210987654321", OrgARN: nestedOrg}},
		{"nested.yaml", "999999999999", resource.Viewer{Account: "999999999999"}}, // the stranger
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.account, func(t *testing.T) {
			d := load(t, tt.file)
			if diff := cmp.Diff(tt.want, d.Viewer(tt.account)); diff != "" {
				t.Errorf("Viewer(%s) mismatch (-want +got):\n%s", tt.account, diff)
			}
		})
	}
}

// An OU grant covers the OUs below it and not those above: check it end to
// end through image.GrantedTo.
func TestViewerWithOUGrant(t *testing.T) {
	d := load(t, "nested.yaml")
	img := &image.Image{OwnerID: "210987654321", LaunchPermissions: []image.LaunchPermission{
		{Kind: image.PermOU, Value: nestedOU + "ou-root-bbbbbbbb"},
	}}
	for acct, want := range map[string]bool{
		"222222222222": true,  // in the OU
		"333333333333": true,  // in an OU below it
		"555555555555": false, // in a sibling branch
		"999999999999": false, // outside the organization
	} {
		if got := img.GrantedTo(d.Viewer(acct)); got != want {
			t.Errorf("GrantedTo(%s) = %v, want %v", acct, got, want)
		}
	}
}

func TestViewerReturnsCopies(t *testing.T) {
	d := load(t, "example.yaml")
	v := d.Viewer("444455556666")
	v.OUARNs[0] = "changed"
	if got := d.Viewer("444455556666").OUARNs[0]; got != exampleOU {
		t.Errorf("Viewer shares its slice: got %q after a caller's change", got)
	}
}

func TestAccounts(t *testing.T) {
	d := load(t, "nested.yaml")
	want := []string{"210987654321", "222222222222", "333333333333", "444444444444", "555555555555", "999999999999"}
	if diff := cmp.Diff(want, d.Accounts()); diff != "" {
		t.Errorf("Accounts() mismatch (-want +got):\n%s", diff)
	}

	a, ok := d.Account("333333333333")
	if !ok {
		t.Fatal("Account(333333333333) not found")
	}
	var ids []string
	for _, k := range a.Keys {
		ids = append(ids, k.ID)
	}
	if a.ID != "333333333333" || a.OrgID != "o-nestedorg01" || !cmp.Equal(ids, []string{"AKIANESTEDLEAF00000", "AKIANESTEDLEAFRO000"}) {
		t.Errorf("Account(333333333333) = %s %s %v", a.ID, a.OrgID, ids)
	}
	ro := a.Keys[1].Policy
	if !ro.Allows("ec2:DescribeImages", "*") || ro.Decide("ec2:DescribeImageAttribute", "*") != iam.ExplicitDeny {
		t.Error("block-style YAML policy not applied")
	}

	// A member without keys: known, keyless.
	a, ok = d.Account("444444444444")
	if !ok || len(a.Keys) != 0 || a.OrgID != "o-nestedorg01" {
		t.Errorf("Account(444444444444) = %+v, %v; want a keyless member", a, ok)
	}
	a, ok = d.Account("999999999999")
	if !ok || a.OrgID != "" || len(a.Keys) != 1 {
		t.Errorf("Account(999999999999) = %+v, %v; want a keyed stranger", a, ok)
	}
	if _, ok := d.Account("000000000000"); ok {
		t.Error("Account(000000000000) found in a file that does not list it")
	}
}

func TestOrganizations(t *testing.T) {
	want := map[string][]Organization{
		"example.yaml": {{
			ID: "o-exampleorg1", ARN: exampleOrg, ManagementAccount: "111122223333",
			Accounts: []string{"111122223333"},
			OUs:      []OU{{ID: "ou-ab12-11111111", ARN: exampleOU, Accounts: []string{"444455556666"}}},
		}},
		"nested.yaml": {{
			ID: "o-nestedorg01", ARN: nestedOrg, ManagementAccount: "210987654321",
			Accounts: []string{"210987654321"},
			OUs: []OU{
				{ID: "ou-root-aaaaaaaa", ARN: nestedOU + "ou-root-aaaaaaaa"},
				{ID: "ou-root-bbbbbbbb", ARN: nestedOU + "ou-root-bbbbbbbb", Parent: "ou-root-aaaaaaaa", Accounts: []string{"222222222222"}},
				{ID: "ou-root-cccccccc", ARN: nestedOU + "ou-root-cccccccc", Parent: "ou-root-bbbbbbbb", Accounts: []string{"333333333333", "444444444444"}},
				{ID: "ou-root-dddddddd", ARN: nestedOU + "ou-root-dddddddd", Accounts: []string{"555555555555"}},
			},
		}},
	}
	for file, want := range want {
		t.Run(file, func(t *testing.T) {
			d := load(t, file)
			got := d.Organizations()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Organizations() mismatch (-want +got):\n%s", diff)
			}
			got[0].OUs[0].ID = "changed"
			if d.Organizations()[0].OUs[0].ID == "changed" {
				t.Error("Organizations shares its slices")
			}
		})
	}
}

func TestDefault(t *testing.T) {
	d := Default()
	k, ok := d.Key("test")
	if !ok || k.Secret != "test" || k.Account != "000000000000" || k.Policy != nil {
		t.Errorf("Default().Key(test) = %+v, %v", k, ok)
	}
	if diff := cmp.Diff([]string{"000000000000"}, d.Accounts()); diff != "" {
		t.Errorf("Default().Accounts() mismatch (-want +got):\n%s", diff)
	}
	if len(d.Organizations()) != 0 {
		t.Errorf("Default() has organizations: %v", d.Organizations())
	}
	if diff := cmp.Diff(resource.Viewer{Account: "000000000000"}, d.Viewer("000000000000")); diff != "" {
		t.Errorf("Default().Viewer mismatch (-want +got):\n%s", diff)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name, doc string
		check     func(t *testing.T, d *Directory)
	}{
		{
			name: "unquoted account ids keep their leading zeros",
			doc:  "accounts:\n  - id: 000000000001\n    access_keys: [{id: k, secret: s}]\n",
			check: func(t *testing.T, d *Directory) {
				if k, _ := d.Key("k"); k.Account != "000000000001" {
					t.Errorf("account = %q", k.Account)
				}
			},
		},
		{
			name: "policy as a string of JSON",
			doc: "accounts:\n  - id: \"111111111111\"\n    access_keys:\n      - id: k\n        secret: s\n        policy: |\n" +
				"          {\"Statement\": {\"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"}}\n",
			check: func(t *testing.T, d *Directory) {
				if k, _ := d.Key("k"); k.Policy.Decide("ec2:DescribeImages", "*") != iam.ExplicitDeny {
					t.Error("string policy not applied")
				}
			},
		},
		{
			name: "unquoted Version is a string, not a date",
			doc: "accounts:\n  - id: \"111111111111\"\n    access_keys:\n      - id: k\n        secret: s\n        policy:\n" +
				"          Version: 2012-10-17\n          Statement: {Effect: Allow, Action: \"ec2:*\", Resource: \"*\"}\n",
			check: func(t *testing.T, d *Directory) {
				if k, _ := d.Key("k"); !k.Policy.Allows("ec2:DescribeImages", "*") {
					t.Error("policy not applied")
				}
			},
		},
		{
			name: "management account not placed is a member at the root",
			doc: "accounts: [{id: \"111111111111\"}, {id: \"222222222222\"}]\norganizations:\n  - id: o-aaaaaaaaaa\n    management_account: \"111111111111\"\n" +
				"    units: [{id: ou-aaaa-aaaaaaaa, accounts: [\"222222222222\"]}]\n",
			check: func(t *testing.T, d *Directory) {
				want := resource.Viewer{Account: "111111111111", OrgARN: "arn:aws:organizations::111111111111:organization/o-aaaaaaaaaa"}
				if diff := cmp.Diff(want, d.Viewer("111111111111")); diff != "" {
					t.Errorf("Viewer mismatch (-want +got):\n%s", diff)
				}
				if got := d.Organizations()[0].Accounts; !cmp.Equal(got, []string{"111111111111"}) {
					t.Errorf("root accounts = %v", got)
				}
			},
		},
		{
			name: "management account may sit in an OU",
			doc: "accounts: [{id: \"111111111111\"}]\norganizations:\n  - id: o-aaaaaaaaaa\n    management_account: \"111111111111\"\n" +
				"    units: [{id: ou-aaaa-aaaaaaaa, accounts: [\"111111111111\"]}]\n",
			check: func(t *testing.T, d *Directory) {
				if got := d.Viewer("111111111111").OUARNs; len(got) != 1 {
					t.Errorf("OUARNs = %v", got)
				}
				if got := d.Organizations()[0].Accounts; len(got) != 0 {
					t.Errorf("root accounts = %v, want none", got)
				}
			},
		},
		{
			name: "two organizations",
			doc: "accounts: [{id: \"111111111111\"}, {id: \"222222222222\"}, {id: \"333333333333\"}]\norganizations:\n" +
				"  - {id: o-aaaaaaaaaa, management_account: \"111111111111\"}\n" +
				"  - {id: o-bbbbbbbbbb, management_account: \"222222222222\", accounts: [\"333333333333\"]}\n",
			check: func(t *testing.T, d *Directory) {
				if got, want := d.Viewer("333333333333").OrgARN, "arn:aws:organizations::222222222222:organization/o-bbbbbbbbbb"; got != want {
					t.Errorf("OrgARN = %q, want %q", got, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, d)
		})
	}
}

func TestParseRejects(t *testing.T) {
	const (
		acct1 = "accounts:\n  - id: \"111111111111\"\n    access_keys: [{id: k1, secret: s}]\n"
		acct2 = "  - id: \"222222222222\"\n    access_keys: [{id: k2, secret: s}]\n"
		acct3 = "  - id: \"333333333333\"\n"
		org   = "organizations:\n  - id: o-aaaaaaaaaa\n    management_account: \"111111111111\"\n"
	)
	tests := []struct {
		name, doc string
		want      []string // substrings of the error
	}{
		{"empty file", "", []string{"empty"}},
		{"only a comment", "# nothing\n", []string{"empty"}},
		{"no accounts", "accounts: []\n", []string{"no accounts"}},
		{"organizations only", org, []string{"no accounts", `management_account "111111111111" is not listed`}},
		{"not a mapping", "- 1\n", []string{"cannot unmarshal"}},
		{"two documents", acct1 + "---\n" + acct1, []string{"more than one YAML document"}},
		{"unknown top-level field", acct1 + "acounts: []\n", []string{"field acounts not found"}},
		{"unknown key field", "accounts:\n  - id: \"111111111111\"\n    access_keys: [{id: k, secret: s, polcy: {}}]\n", []string{"field polcy not found"}},
		{"unknown OU field", acct1 + org + "    units: [{id: ou-aaaa-aaaaaaaa, account: []}]\n", []string{"field account not found"}},
		{"short account id", "accounts: [{id: \"11111111111\"}]\n", []string{`accounts[0] "11111111111": account id must be exactly 12 digits`}},
		{"account id with letters", "accounts: [{id: \"11111111111a\"}]\n", []string{"exactly 12 digits"}},
		{"account id as a number with a sign", "accounts: [{id: +111111111111}]\n", []string{"exactly 12 digits"}},
		{"duplicate account", acct1 + "  - id: \"111111111111\"\n", []string{`accounts[1] "111111111111": account listed twice`}},
		{"duplicate key across accounts", acct1 + "  - id: \"222222222222\"\n    access_keys: [{id: k1, secret: t}]\n",
			[]string{`account "222222222222": access_keys[0] "k1": access key id already used in account "111111111111"`}},
		{"duplicate key in one account", "accounts:\n  - id: \"111111111111\"\n    access_keys: [{id: k, secret: s}, {id: k, secret: t}]\n",
			[]string{`access_keys[1] "k": access key id already used`}},
		{"empty key id", "accounts:\n  - id: \"111111111111\"\n    access_keys: [{secret: s}]\n", []string{`access_keys[0] "": access key id is empty`}},
		{"key id with a slash", "accounts:\n  - id: \"111111111111\"\n    access_keys: [{id: a/b, secret: s}]\n", []string{`"a/b": access key id must not contain`}},
		{"key id with a space", "accounts:\n  - id: \"111111111111\"\n    access_keys: [{id: \"a b\", secret: s}]\n", []string{"must not contain"}},
		{"empty secret", "accounts:\n  - id: \"111111111111\"\n    access_keys: [{id: k}]\n", []string{`account "111111111111": access_keys[0] "k": secret is empty`}},
		{"null policy", "accounts:\n  - id: \"111111111111\"\n    access_keys:\n      - {id: k, secret: s, policy: }\n", []string{`account: line 4: account "111111111111": access_keys[0] "k": policy: is empty`}},
		{"bad policy", "accounts:\n  - id: \"111111111111\"\n    access_keys:\n      - id: k\n        secret: s\n        policy: {Statement: {Effect: Allow, Action: \"*\", Resource: \"*\", Condition: {}}}\n",
			[]string{`line 6: account "111111111111": access_keys[0] "k": policy: iam: policy: Statement[0]: Condition is not supported`}},
		{"policy not JSON", "accounts:\n  - id: \"111111111111\"\n    access_keys: [{id: k, secret: s, policy: \"allow all\"}]\n", []string{"not valid JSON"}},
		{"bad org id", acct1 + "organizations: [{id: o-SHORT, management_account: \"111111111111\"}]\n", []string{`organizations[0] "o-SHORT": organization id must match`}},
		{"duplicate org", acct1 + acct2 + "organizations:\n  - {id: o-aaaaaaaaaa, management_account: \"111111111111\"}\n  - {id: o-aaaaaaaaaa, management_account: \"222222222222\"}\n",
			[]string{`organizations[1] "o-aaaaaaaaaa": listed again (first at organizations[0])`}},
		{"missing management account", acct1 + "organizations: [{id: o-aaaaaaaaaa}]\n", []string{"management_account is missing"}},
		{"unlisted management account", acct1 + "organizations: [{id: o-aaaaaaaaaa, management_account: \"999999999999\"}]\n",
			[]string{`management_account "999999999999" is not listed under accounts`}},
		{"bad OU id", acct1 + org + "    units: [{id: ou-AB-1}]\n", []string{`organization "o-aaaaaaaaaa": units[0] "ou-AB-1": OU id must match`}},
		{"bad nested OU id", acct1 + org + "    units: [{id: ou-aaaa-aaaaaaaa, units: [{id: ou-x}]}]\n",
			[]string{`units[0] "ou-aaaa-aaaaaaaa": units[0] "ou-x": OU id must match`}},
		{"duplicate OU", acct1 + org + "    units: [{id: ou-aaaa-aaaaaaaa}, {id: ou-aaaa-aaaaaaaa}]\n",
			[]string{`units[1] "ou-aaaa-aaaaaaaa": OU id already used in organization "o-aaaaaaaaaa"`}},
		{"bad member id", acct1 + org + "    accounts: [\"12\"]\n", []string{`organization "o-aaaaaaaaaa" root: account id "12" must be exactly 12 digits`}},
		{"member twice in one org", acct1 + acct3 + org + "    accounts: [\"333333333333\"]\n    units: [{id: ou-aaaa-aaaaaaaa, accounts: [\"333333333333\"]}]\n",
			[]string{`organization "o-aaaaaaaaaa" OU "ou-aaaa-aaaaaaaa": account "333333333333" already appears in organization "o-aaaaaaaaaa" root`}},
		{"member of two orgs", acct1 + acct2 + acct3 + "organizations:\n" +
			"  - {id: o-aaaaaaaaaa, management_account: \"111111111111\", accounts: [\"333333333333\"]}\n" +
			"  - {id: o-bbbbbbbbbb, management_account: \"222222222222\", accounts: [\"333333333333\"]}\n",
			[]string{`organization "o-bbbbbbbbbb" root: account "333333333333" already belongs to organization "o-aaaaaaaaaa"`}},
		{"management account of one org, member of another", acct1 + acct2 + "organizations:\n" +
			"  - {id: o-aaaaaaaaaa, management_account: \"111111111111\", accounts: [\"222222222222\"]}\n" +
			"  - {id: o-bbbbbbbbbb, management_account: \"222222222222\"}\n",
			[]string{`organization "o-bbbbbbbbbb" root (as its management account): account "222222222222" already belongs to organization "o-aaaaaaaaaa"`}},
		{"org member not under accounts", acct1 + org + "    accounts: [\"111111111111\", \"333333333333\"]\n",
			[]string{`account: line 7: organization "o-aaaaaaaaaa" root: account "333333333333" is not listed under accounts`}},
		{"OU member not under accounts", acct1 + org + "    units:\n      - id: ou-aaaa-aaaaaaaa\n        accounts: [\"333333333333\"]\n",
			[]string{`line 9: organization "o-aaaaaaaaaa" OU "ou-aaaa-aaaaaaaa": account "333333333333" is not listed under accounts`}},
		{"every problem is reported", "accounts:\n  - id: \"1\"\n  - id: \"111111111111\"\n    access_keys: [{id: k}]\n",
			[]string{"2 problems", `accounts[0] "1"`, `"k": secret is empty`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded with %d accounts, want an error", len(d.Accounts()))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "account: ") {
				t.Errorf("error %q lacks the account: prefix", err)
			}
		})
	}
}

// One run shows every problem of a file, in file order, each with its
// line: the decoder's (unknown fields, wrong shapes) and the rules', and
// those inside entries that are themselves wrong.
func TestParseReportsEverythingAtOnce(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown field, bad entries and what is inside them", `accounts:
  - id: "1"
    access_keys: [{id: k, polcy: x}]
organizations:
  - id: o-BAD
    management_account: "999999999999"
    accounts: ["12", "333333333333"]
    units:
      - id: ou-x
        accounts: ["444444444444"]
        units: [{id: ou-aaaa-aaaaaaaa, accounts: ["555555555555"]}]
`, []string{
			`line 2: accounts[0] "1": account id must be exactly 12 digits`,
			`line 3: field polcy not found in type account.keyEntry`,
			`line 3: account "1": access_keys[0] "k": secret is empty`,
			`line 5: organizations[0] "o-BAD": organization id must match ^o-[a-z0-9]{10,32}$`,
			`line 6: organizations[0] "o-BAD": management_account "999999999999" is not listed under accounts`,
			`line 7: organization "o-BAD" root: account id "12" must be exactly 12 digits`,
			`line 7: organization "o-BAD" root: account "333333333333" is not listed under accounts`,
			`line 9: organization "o-BAD": units[0] "ou-x": OU id must match ^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`,
			`line 10: organization "o-BAD" OU "ou-x": account "444444444444" is not listed under accounts`,
			`line 11: organization "o-BAD" OU "ou-aaaa-aaaaaaaa": account "555555555555" is not listed under accounts`,
		}},
		{"a duplicate account's keys and a second document", `accounts:
  - id: "111111111111"
    access_keys: [{id: k, secret: s}]
  - id: "111111111111"
    access_keys: [{id: k2}, {id: k}]
---
accounts: []
`, []string{
			`line 4: accounts[1] "111111111111": account listed twice`,
			`line 5: account "111111111111": access_keys[0] "k2": secret is empty`,
			`line 5: account "111111111111": access_keys[1] "k": access key id already used in account "111111111111"`,
			`the bootstrap file holds more than one YAML document`,
		}},
		{"empty entries and entries of the wrong kind keep the file's indices", `accounts:
  - x
  -
  - id: "1"
    access_keys: [[], {id: k}]
organizations:
  - id: o-aaaaaaaaaa
    management_account: "111111111111"
    accounts:
      - {a: b}
      - "2"
`, []string{
			"line 2: cannot unmarshal !!str `x` into account.accountEntry",
			`line 3: accounts[1] is empty`,
			`line 4: accounts[2] "1": account id must be exactly 12 digits`,
			`line 5: cannot unmarshal !!seq into account.keyEntry`,
			`line 5: account "1": access_keys[1] "k": secret is empty`,
			`line 8: organizations[0] "o-aaaaaaaaaa": management_account "111111111111" is not listed under accounts`,
			`line 10: cannot unmarshal !!map into string`,
			`line 11: organization "o-aaaaaaaaaa" root: account id "2" must be exactly 12 digits`,
		}},
		{"null document", "---\n", []string{"no accounts: the bootstrap file must list at least one"}},
		{"null accounts", "accounts:\n", []string{"line 1: no accounts: the bootstrap file must list at least one"}},
		{"wrong shapes", "accounts: 5\nextra: 1\n", []string{
			"line 1: cannot unmarshal !!int `5` into []account.accountEntry",
			"line 2: field extra not found in type account.file",
		}},
		{"misspelt accounts", "organizations: []\nacounts: []\n", []string{
			"line 2: field acounts not found in type account.file",
			"no accounts: the bootstrap file must list at least one",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse = %v, want an *Error", err)
			}
			var got []string
			for _, p := range perr.Problems {
				got = append(got, p.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Each problem carries its line for callers that want it.
func TestProblemLine(t *testing.T) {
	_, err := Parse([]byte("accounts:\n  - id: \"111111111111\"\n  - id: \"2\"\n"))
	var p *Problem
	if !errors.As(err, &p) || p.Line != 3 {
		t.Fatalf("Parse = %v; want a *Problem at line 3", err)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("accounts: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var perr *Error
	if !errors.As(err, &perr) || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("Load(bad) = %v, want an *Error prefixed with the path", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"example.yaml", "nested.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		for _, id := range d.Accounts() {
			a, ok := d.Account(id)
			if !ok {
				t.Fatalf("Accounts lists %s but Account does not find it", id)
			}
			for _, k := range a.Keys {
				if got, ok := d.Key(k.ID); !ok || got.Account != id {
					t.Fatalf("key %s of %s resolves to %+v, %v", k.ID, id, got, ok)
				}
			}
			d.Viewer(id)
		}
	})
}
