package account

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/iam"
)

func TestPrincipal(t *testing.T) {
	d, err := Parse([]byte(`
accounts:
  - id: "111122223333"
    access_keys:
      - {id: AKIAROOT, secret: s}
      - {id: AKIABUILDER, secret: s, user: ci-builder}
      - {id: AKIABUILDER2, secret: s, user: ci-builder}
      - {id: AKIAALICE, secret: s, user: alice@example.com}
  - id: "444455556666"
    access_keys:
      - {id: AKIAOTHERBUILDER, secret: s, user: ci-builder}
`))
	if err != nil {
		t.Fatal(err)
	}
	p := func(id string) iam.Principal {
		k, ok := d.Key(id)
		if !ok {
			t.Fatalf("no key %s", id)
		}
		return k.Principal()
	}
	if diff := cmp.Diff(iam.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root", ID: "111122223333"}, p("AKIAROOT")); diff != "" {
		t.Error(diff)
	}
	b := p("AKIABUILDER")
	if b.ARN != "arn:aws:iam::111122223333:user/ci-builder" || b.Name != "ci-builder" || b.Account != "111122223333" {
		t.Errorf("%+v", b)
	}
	if !regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`).MatchString(b.ID) {
		t.Errorf("user id %q", b.ID)
	}
	// Two keys of one user are one user; the same name in another account is another.
	if p("AKIABUILDER2").ID != b.ID {
		t.Error("one user, two ids")
	}
	if o := p("AKIAOTHERBUILDER"); o.ID == b.ID || o.ARN != "arn:aws:iam::444455556666:user/ci-builder" {
		t.Errorf("%+v", o)
	}
	if UserID("111122223333", "ci-builder") != b.ID {
		t.Error("UserID is not stable")
	}
	if a := p("AKIAALICE"); a.ARN != "arn:aws:iam::111122223333:user/alice@example.com" {
		t.Errorf("%+v", a)
	}
}

func TestUserNameRejected(t *testing.T) {
	for _, name := range []string{"ops/alice", "has space", strings.Repeat("a", 65), "ünï"} {
		_, err := Parse([]byte(`
accounts:
  - id: "111122223333"
    access_keys: [{id: AKIAX, secret: s, user: "` + name + `"}]
`))
		if err == nil || !strings.Contains(err.Error(), `access_keys[0] "AKIAX": user`) {
			t.Errorf("%q: %v", name, err)
		}
	}
}
