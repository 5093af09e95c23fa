package throttle

import (
	"errors"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

func TestEC2Table(t *testing.T) {
	tests := []struct {
		action string
		plain  bool
		want   Bucket
	}{
		{"DescribeImages", true, Bucket{100, 20}}, // not in the unfiltered list
		{"DescribeImageAttribute", false, Bucket{100, 20}},
		{"GetAllowedImagesSettings", false, Bucket{100, 20}},
		{"DescribeRegions", true, Bucket{100, 20}},
		{"DescribeInstances", true, Bucket{50, 10}},
		{"DescribeInstances", false, Bucket{100, 20}},
		{"DescribeSnapshots", true, Bucket{50, 10}},
		{"DescribeInstanceStatus", true, Bucket{50, 10}},
		{"RegisterImage", false, Bucket{50, 5}},
		{"CreateImage", false, Bucket{50, 5}},
		{"ResetImageAttribute", false, Bucket{50, 5}},
		{"EnableImageDeprecation", false, Bucket{50, 5}},
		{"StopInstances", false, Bucket{50, 5}},
		{"RebootInstances", false, Bucket{50, 5}},
		{"CopyImage", false, Bucket{100, 1}},
		{"DeregisterImage", false, Bucket{100, 5}},
		{"ModifyImageAttribute", false, Bucket{100, 5}},
		{"EnableImageBlockPublicAccess", false, Bucket{1, 0.1}},
		{"DisableImageBlockPublicAccess", false, Bucket{1, 0.1}},
		{"CreateTags", false, Bucket{100, 10}},
		{"DeleteTags", false, Bucket{100, 10}},
		{"CreateSnapshot", false, Bucket{100, 5}},
		{"RunInstances", false, Bucket{5, 2}},
		{"StartInstances", false, Bucket{5, 2}},
		{"TerminateInstances", false, Bucket{100, 5}},
		{"CreateStoreImageTask", false, Bucket{50, 0.1}},
		{"DescribeStoreImageTasks", false, Bucket{50, 0.5}},
		{"CreateKeyPair", false, Bucket{50, 5}},
		{LookupEvents, false, Bucket{2, 2}},
	}
	for _, tt := range tests {
		if got := EC2(tt.action, tt.plain); got != tt.want {
			t.Errorf("EC2(%s, plain=%v) = %v, want %v", tt.action, tt.plain, got, tt.want)
		}
	}
}

func TestLimiterBurstThenRefill(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(Options{Now: func() time.Time { return now }})
	// CopyImage: a burst of 100, then one per second.
	for i := range 100 {
		if err := l.Allow("111122223333", "us-east-1", "CopyImage", false, 0); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	err := l.Allow("111122223333", "us-east-1", "CopyImage", false, 0)
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != "RequestLimitExceeded" || e.Status != 503 || e.Message != "Request limit exceeded." {
		t.Fatalf("101st call: %v, want RequestLimitExceeded (503)", err)
	}
	// Other actions, accounts and regions have buckets of their own.
	for _, k := range [][3]string{{"111122223333", "us-east-1", "DeregisterImage"}, {"222233334444", "us-east-1", "CopyImage"}, {"111122223333", "eu-west-1", "CopyImage"}} {
		if err := l.Allow(k[0], k[1], k[2], false, 0); err != nil {
			t.Errorf("%v: %v", k, err)
		}
	}
	now = now.Add(500 * time.Millisecond)
	if l.Allow("111122223333", "us-east-1", "CopyImage", false, 0) == nil {
		t.Fatal("half a token let a call through")
	}
	now = now.Add(500 * time.Millisecond)
	if err := l.Allow("111122223333", "us-east-1", "CopyImage", false, 0); err != nil {
		t.Fatalf("after a second: %v", err)
	}
	// A long pause refills to capacity, no further.
	now = now.Add(time.Hour)
	n := 0
	for l.Allow("111122223333", "us-east-1", "CopyImage", false, 0) == nil {
		n++
	}
	if n != 100 {
		t.Fatalf("after an hour: %d calls, want 100", n)
	}
}

func TestLimiterPlainDescribeHasItsOwnBucket(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(Options{Now: func() time.Time { return now }})
	n := 0
	for l.Allow("a", "r", "DescribeInstances", true, 0) == nil {
		n++
	}
	if n != 50 {
		t.Fatalf("plain DescribeInstances: %d, want 50", n)
	}
	if err := l.Allow("a", "r", "DescribeInstances", false, 0); err != nil {
		t.Fatalf("filtered DescribeInstances after the plain bucket emptied: %v", err)
	}
}

func TestResourceRateBucket(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(Options{Now: func() time.Time { return now }})
	// RunInstances: 5 calls of burst, 1000 instances of burst.
	if err := l.Allow("a", "r", "RunInstances", false, 999); err != nil {
		t.Fatal(err)
	}
	if l.Allow("a", "r", "RunInstances", false, 2) == nil {
		t.Fatal("1001 instances in a burst")
	}
	// The refused call took no call token: four more calls of one instance
	// fit (999+1 = 1000), the fifth call finds no instance left.
	if err := l.Allow("a", "r", "RunInstances", false, 1); err != nil {
		t.Fatal(err)
	}
	if l.Allow("a", "r", "RunInstances", false, 1) == nil {
		t.Fatal("instance bucket empty, yet a launch went through")
	}
	now = now.Add(time.Second) // 2 instances, 2 calls
	if err := l.Allow("a", "r", "RunInstances", false, 2); err != nil {
		t.Fatal(err)
	}
	// StopInstances refills 20 instances a second.
	if err := l.Allow("a", "r", "StopInstances", false, 1000); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if err := l.Allow("a", "r", "StopInstances", false, 20); err != nil {
		t.Fatal(err)
	}
	if l.Allow("a", "r", "StopInstances", false, 1) == nil {
		t.Fatal("StopInstances refilled more than 20 instances a second")
	}
}

// LookupEvents: two a second per account and Region, apart from EC2's
// buckets, refused with CloudTrail's ThrottlingException.
func TestLookupEvents(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(Options{Now: func() time.Time { return now }})
	const acct, rgn = "111122223333", "us-east-1"
	for i := range 2 {
		if err := l.AllowLookup(acct, rgn); err != nil {
			t.Fatalf("lookup %d: %v", i+1, err)
		}
	}
	err := l.AllowLookup(acct, rgn)
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != awserr.CodeThrottlingException || e.Status != 400 || e.Message != "Rate exceeded" {
		t.Fatalf("third lookup in the same instant: %v", err)
	}
	if err := l.AllowLookup(acct, "eu-west-1"); err != nil {
		t.Errorf("another Region's bucket: %v", err)
	}
	if err := l.AllowLookup("444455556666", rgn); err != nil {
		t.Errorf("another account's bucket: %v", err)
	}
	if err := l.Allow(acct, rgn, "DescribeImages", false, 0); err != nil {
		t.Errorf("EC2's buckets are apart: %v", err)
	}
	now = now.Add(500 * time.Millisecond) // one token back
	if err := l.AllowLookup(acct, rgn); err != nil {
		t.Errorf("after half a second: %v", err)
	}
	if err := l.AllowLookup(acct, rgn); err == nil {
		t.Error("a second lookup in the same half second went through")
	}
}
