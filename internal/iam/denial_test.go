package iam

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	root = Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root", ID: "111122223333"}
	user = Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/ci-builder", ID: "AIDAEXAMPLEUSERID0001", Name: "ci-builder"}
)

func TestDenialMessage(t *testing.T) {
	img := "arn:aws:ec2:us-east-1::image/ami-0abcdef1234567890"
	cases := []struct {
		name    string
		d       Denial
		encoded string
		want    string
	}{
		{"implicit, resource-level", Denial{Principal: user, Action: "ec2:ModifyImageAttribute", Resource: img, Decision: ImplicitDeny}, "ENC",
			"You are not authorized to perform this operation. User: arn:aws:iam::111122223333:user/ci-builder is not authorized to perform: ec2:ModifyImageAttribute on resource: " + img + " because no identity-based policy allows the ec2:ModifyImageAttribute action. Encoded authorization failure message: ENC"},
		{"explicit, resource-level", Denial{Principal: root, Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/*", Decision: ExplicitDeny}, "ENC",
			"You are not authorized to perform this operation. User: arn:aws:iam::111122223333:root is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:111122223333:instance/* with an explicit deny in an identity-based policy. Encoded authorization failure message: ENC"},
		{"describe: no resource, no encoded part, no period", Denial{Principal: user, Action: "ec2:DescribeImages", Resource: "*", Decision: ImplicitDeny}, "",
			"You are not authorized to perform this operation. User: arn:aws:iam::111122223333:user/ci-builder is not authorized to perform: ec2:DescribeImages because no identity-based policy allows the ec2:DescribeImages action"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.Message(tc.encoded); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDecoded(t *testing.T) {
	d := Denial{Principal: user, Action: "ec2:ModifyImageAttribute", Resource: "arn:aws:ec2:us-east-1::image/ami-1", Decision: ExplicitDeny, Region: "us-east-1"}
	var doc struct {
		Allowed      bool `json:"allowed"`
		ExplicitDeny bool `json:"explicitDeny"`
		Context      struct {
			Principal  map[string]string `json:"principal"`
			Action     string            `json:"action"`
			Resource   string            `json:"resource"`
			Conditions struct {
				Items []struct {
					Key    string `json:"key"`
					Values struct {
						Items []struct{ Value string } `json:"items"`
					} `json:"values"`
				} `json:"items"`
			} `json:"conditions"`
		} `json:"context"`
	}
	if err := json.Unmarshal(d.Decoded(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Allowed || !doc.ExplicitDeny || doc.Context.Action != d.Action || doc.Context.Resource != d.Resource {
		t.Fatalf("%+v", doc)
	}
	if diff := cmp.Diff(map[string]string{"id": user.ID, "name": "ci-builder", "arn": user.ARN}, doc.Context.Principal); diff != "" {
		t.Error(diff)
	}
	if c := doc.Context.Conditions.Items[0]; c.Key != "aws:Region" || c.Values.Items[0].Value != "us-east-1" {
		t.Errorf("condition %+v", c)
	}
	// The root is named by its account.
	if !strings.Contains(string(Denial{Principal: root}.Decoded()), `"name":"111122223333"`) {
		t.Error("root name")
	}
}

func TestSealer(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return now }
	d := Denial{Principal: user, Action: "ec2:CreateTags", Resource: "arn:aws:ec2:us-east-1::image/ami-1", Region: "us-east-1"}
	msg := s.Seal(d)
	if msg == s.Seal(d) {
		t.Error("two seals of one denial are equal: the nonce is not fresh")
	}
	if strings.ContainsAny(msg, "+/= \n") {
		t.Errorf("not base64url: %q", msg)
	}
	got, err := s.Open(user.Account, msg)
	if err != nil || string(got) != string(d.Decoded()) {
		t.Fatalf("Open: %v %s", err, got)
	}

	// Another process with the same key opens it.
	other, _ := NewSealer(key)
	other.Now = s.Now
	if _, err := other.Open(user.Account, msg); err != nil {
		t.Errorf("same key, other sealer: %v", err)
	}
	wrongKey, _ := NewSealer([]byte(strings.Repeat("x", 32)))
	tampered := []byte(msg)
	tampered[10] ^= 1
	for name, open := range map[string]func() error{
		"other account": func() error { _, err := s.Open("444455556666", msg); return err },
		"other key":     func() error { _, err := wrongKey.Open(user.Account, msg); return err },
		"tampered":      func() error { _, err := s.Open(user.Account, string(tampered)); return err },
		"not base64":    func() error { _, err := s.Open(user.Account, "not a message!"); return err },
		"too short":     func() error { _, err := s.Open(user.Account, "abc"); return err },
		"expired": func() error {
			s.Now = func() time.Time { return now.Add(MessageLifetime + time.Second) }
			defer func() { s.Now = func() time.Time { return now } }()
			_, err := s.Open(user.Account, msg)
			return err
		},
	} {
		if err := open(); err != ErrInvalidMessage {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}
