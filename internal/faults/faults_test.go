package faults

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"empty", ``, ""},
		{"yaml", "rules:\n  - action: CopyImage\n    every: 2\n    error: {code: InternalError}\n", ""},
		{"json", `{"rules":[{"delay":"300ms","probability":0.5,"seed":7}]}`, ""},
		{"outcome", `{"rules":[{"outcome":{"state":"failed","after":"5s","message":"x"}}]}`, ""},
		{"nothing to do", `{"rules":[{"action":"CopyImage"}]}`, "exactly one"},
		{"two things", `{"rules":[{"delay":"1s","error":{"code":"InternalError"}}]}`, "exactly one"},
		{"unknown field", `{"rules":[{"delay":"1s","colour":"red"}]}`, "colour"},
		{"bad duration", `{"rules":[{"delay":"soon"}]}`, "not a duration"},
		{"bad probability", `{"rules":[{"delay":"1s","probability":2}]}`, "between 0 and 1"},
		{"both triggers", `{"rules":[{"delay":"1s","probability":0.5,"every":2}]}`, "not both"},
		{"bad status", `{"rules":[{"error":{"code":"InternalError","status":200}}]}`, "400-599"},
		{"bad code", `{"rules":[{"error":{"code":"no spaces please"}}]}`, "error code"},
		{"snapshot state", `{"rules":[{"outcome":{"state":"error"}}]}`, "only"},
		{"too long", `{"rules":[{"delay":"1h"}]}`, "longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Parse: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

func decide(t *testing.T, doc string, reqs ...Request) []Decision {
	t.Helper()
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	in := New()
	in.Set(d)
	var out []Decision
	for _, r := range reqs {
		out = append(out, in.Decide(r))
	}
	return out
}

func TestEveryCountsMatchesOnly(t *testing.T) {
	copy1 := Request{Action: "CopyImage", Account: "111122223333", Region: "us-east-1"}
	other := Request{Action: "DescribeImages", Account: "111122223333", Region: "us-east-1"}
	ds := decide(t, `{"rules":[{"action":"CopyImage","every":2,"error":{"code":"InternalError"}}]}`,
		copy1, other, copy1, other, copy1, copy1)
	var got []bool
	for _, d := range ds {
		got = append(got, d.Err != nil)
	}
	want := []bool{false, false, true, false, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("errors %v, want %v", got, want)
		}
	}
	if e := ds[2].Err; e.Code != "InternalError" || e.Status != 500 {
		t.Fatalf("error %+v", e)
	}
}

func TestMatchFields(t *testing.T) {
	doc := `{"rules":[{"account":"111122223333","region":"eu-west-1","resource":"ami-0123456789abcdef0","delay":"250ms"},
		{"action":"RegisterImage","outcome":{"state":"failed","after":"5s","message":"boom"}}]}`
	ds := decide(t, doc,
		Request{Action: "DescribeImages", Account: "111122223333", Region: "eu-west-1", Resources: []string{"ami-0123456789abcdef0"}},
		Request{Action: "DescribeImages", Account: "111122223333", Region: "us-east-1", Resources: []string{"ami-0123456789abcdef0"}},
		Request{Action: "DescribeImages", Account: "222233334444", Region: "eu-west-1", Resources: []string{"ami-0123456789abcdef0"}},
		Request{Action: "DescribeImages", Account: "111122223333", Region: "eu-west-1"},
		Request{Action: "RegisterImage", Account: "111122223333", Region: "us-east-1"},
	)
	if ds[0].Delay != 250*time.Millisecond || ds[1].Delay != 0 || ds[2].Delay != 0 || ds[3].Delay != 0 {
		t.Fatalf("delays %v %v %v %v", ds[0].Delay, ds[1].Delay, ds[2].Delay, ds[3].Delay)
	}
	if o := ds[4].Outcome; o == nil || o.After != 5*time.Second || o.Reason.Message != "boom" {
		t.Fatalf("outcome %+v", o)
	}
}

func TestProbabilityWithSeedRepeats(t *testing.T) {
	doc := `{"rules":[{"probability":0.3,"seed":42,"error":{"code":"InternalError"}}]}`
	r := Request{Action: "DescribeImages"}
	reqs := make([]Request, 1000)
	for i := range reqs {
		reqs[i] = r
	}
	a, b := decide(t, doc, reqs...), decide(t, doc, reqs...)
	n := 0
	for i := range a {
		if (a[i].Err != nil) != (b[i].Err != nil) {
			t.Fatalf("draw %d differs between runs with one seed", i)
		}
		if a[i].Err != nil {
			n++
		}
	}
	if n < 200 || n > 400 {
		t.Fatalf("%d of 1000 failed at probability 0.3", n)
	}
}
