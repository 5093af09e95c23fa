package image_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// The rules that read the clock, driven by the harness's fake clock.

// EnableImageDeprecation (spec §2.10): rounded to the minute, not in the
// past, at most ten years ahead, and for a public image at most two years
// after its creation.
func TestDeprecationTime(t *testing.T) {
	const invalid = "Value (%s) for parameter DeprecateAt is invalid. "
	cases := []struct {
		name   string
		public bool
		// at is the requested time, as an offset from the creation (Epoch).
		at   time.Duration
		want time.Duration // the stored time, as an offset; 0 when refused
		msg  string
	}{
		{name: "an hour ahead", at: time.Hour, want: time.Hour},
		{name: "seconds round down", at: time.Hour + 29*time.Second, want: time.Hour},
		{name: "seconds round up", at: time.Hour + 30*time.Second, want: time.Hour + time.Minute},
		{name: "now", at: 0, want: 0},
		{name: "earlier this minute rounds to now", at: -20 * time.Second, want: 0},
		{name: "in the past", at: -time.Minute, msg: "The deprecation time cannot be in the past."},
		{name: "ten years ahead", at: 10 * 365 * 24 * time.Hour, want: 10 * 365 * 24 * time.Hour},
		{name: "more than ten years ahead", at: 11 * 365 * 24 * time.Hour, msg: "The deprecation time cannot be more than 10 years in the future."},
		{name: "private: three years after creation", at: 3 * 365 * 24 * time.Hour, want: 3 * 365 * 24 * time.Hour},
		{name: "public: a year after creation", public: true, at: 365 * 24 * time.Hour, want: 365 * 24 * time.Hour},
		{name: "public: three years after creation", public: true, at: 3 * 365 * 24 * time.Hour, msg: "A public image must be deprecated within 2 years of its creation date."},
	}
	owner := it.Caller(it.Owner)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := it.New(t, image.Options{PublicImageQuota: 5})
			id := e.Register(t, owner, "old")
			if tc.public {
				if err := e.AddPermissions(owner, id, it.Public()); err != nil {
					t.Fatal(err)
				}
			}
			at := it.Epoch.Add(tc.at)
			err := e.Svc.EnableImageDeprecation(ctx, owner, id, &at, false)
			if tc.msg != "" {
				it.WantError(t, err, "InvalidParameterValue", 400, invalidf(invalid, at)+tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := e.Image(t, it.Region, id).DeprecationTime
			if want := it.Epoch.Add(tc.want); got == nil || !got.Equal(want) {
				t.Fatalf("deprecationTime %v, want %v", got, want)
			}
		})
	}
}

func invalidf(format string, at time.Time) string {
	return fmt.Sprintf(format, at.UTC().Format(time.RFC3339))
}

// Making an image public caps its deprecation at two years after its
// creation, to the second; a public image's deprecation cannot be
// cancelled.
func TestPublicDeprecationCap(t *testing.T) {
	e := it.New(t, image.Options{PublicImageQuota: 5})
	owner := it.Caller(it.Owner)
	id := e.Register(t, owner, "public")
	e.Clock.Advance(3*time.Hour + 17*time.Second) // made public later than created
	if err := e.AddPermissions(owner, id, it.Public()); err != nil {
		t.Fatal(err)
	}
	want := it.Epoch.AddDate(2, 0, 0)
	if got := e.Image(t, it.Region, id).DeprecationTime; got == nil || !got.Equal(want) {
		t.Fatalf("deprecationTime %v, want %v", got, want)
	}
	it.WantError(t, e.Svc.DisableImageDeprecation(ctx, owner, id, false), "OperationNotPermitted", 400,
		"The deprecation time of a public image cannot be cancelled. Make the image private first.")
	if err := e.RemovePermissions(owner, id, it.Public()); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.DisableImageDeprecation(ctx, owner, id, false); err != nil {
		t.Fatal(err)
	}
	if got := e.Image(t, it.Region, id).DeprecationTime; got != nil {
		t.Fatalf("deprecationTime %v after Disable", got)
	}
}

// A deprecated image leaves non-owners' listings once its time has come
// (spec §2.4.5), unless they ask for it by id or with IncludeDeprecated;
// the owner always sees it.
func TestDeprecatedImagesLeaveListings(t *testing.T) {
	e := it.New(t, image.Options{})
	owner, member := it.Caller(it.Owner), it.Caller(it.Member)
	id := e.Register(t, owner, "fading")
	if err := e.AddPermissions(owner, id, it.User(it.Member)); err != nil {
		t.Fatal(err)
	}
	at := it.Epoch.Add(time.Hour)
	if err := e.Svc.EnableImageDeprecation(ctx, owner, id, &at, false); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		after time.Duration // clock offset from Epoch
		who   resource.Caller
		req   image.DescribeRequest
		seen  bool
	}{
		{"scheduled", 59 * time.Minute, member, image.DescribeRequest{}, true},
		{"deprecated", time.Hour, member, image.DescribeRequest{}, false},
		{"deprecated, by id", time.Hour, member, image.DescribeRequest{ImageIDs: []string{id}}, true},
		{"deprecated, IncludeDeprecated", time.Hour, member, image.DescribeRequest{IncludeDeprecated: true}, true},
		{"deprecated, owner", time.Hour, owner, image.DescribeRequest{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.Clock.Set(it.Epoch.Add(tc.after))
			if got := describedIDs(t, e, tc.who, &tc.req); slices.Contains(got, id) != tc.seen {
				t.Fatalf("listed %v, want image seen: %v", got, tc.seen)
			}
		})
	}
}

func describedIDs(t *testing.T, e *it.Env, c resource.Caller, r *image.DescribeRequest) []string {
	t.Helper()
	out, _, err := e.Svc.DescribeImages(ctx, c, r)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, d := range out {
		ids = append(ids, d.ID)
	}
	return ids
}

// A deregistered image is answered by id with an empty list for the
// retention window, then reads as never having existed (spec §2.4.2).
func TestDeregisteredRetention(t *testing.T) {
	owner := it.Caller(it.Owner)
	cases := []struct {
		name      string
		retention time.Duration // 0: the default hour
		after     time.Duration
		notFound  bool
	}{
		{"at once", 0, 0, false},
		{"within the hour", 0, time.Hour, false},
		{"after the hour", 0, time.Hour + time.Millisecond, true},
		{"a shorter retention", time.Minute, 2 * time.Minute, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := it.New(t, image.Options{DeregisteredRetention: tc.retention})
			id := e.Register(t, owner, "gone")
			if _, err := e.Svc.DeregisterImage(ctx, owner, id, false, false); err != nil {
				t.Fatal(err)
			}
			e.Clock.Advance(tc.after)
			out, _, err := e.Svc.DescribeImages(ctx, owner, &image.DescribeRequest{ImageIDs: []string{id}})
			if tc.notFound {
				it.WantError(t, err, "InvalidAMIID.NotFound", 400, "The image id '["+id+"]' does not exist")
				return
			}
			if err != nil || len(out) != 0 {
				t.Fatalf("%d images, %v; want an empty answer", len(out), err)
			}
			// Not in a listing either, and its name is free again.
			if ids := describedIDs(t, e, owner, &image.DescribeRequest{}); len(ids) != 0 {
				t.Fatalf("listed %v", ids)
			}
			e.Register(t, owner, "gone")
		})
	}
}

// With PendingDelay a new image is pending until its time comes, and reads
// as available from then on (Image.Settle).
func TestPendingDelay(t *testing.T) {
	e := it.New(t, image.Options{PendingDelay: 2 * time.Second})
	owner := it.Caller(it.Owner)
	id := e.Register(t, owner, "slow")
	state := func() string {
		t.Helper()
		out, _, err := e.Svc.DescribeImages(ctx, owner, &image.DescribeRequest{ImageIDs: []string{id}})
		if err != nil || len(out) != 1 {
			t.Fatalf("%d images, %v", len(out), err)
		}
		return out[0].State
	}
	steps := []struct {
		advance time.Duration
		want    string
	}{{0, image.StatePending}, {time.Second, image.StatePending}, {time.Second - time.Millisecond, image.StatePending}, {time.Millisecond, image.StateAvailable}, {time.Hour, image.StateAvailable}}
	for _, s := range steps {
		e.Clock.Advance(s.advance)
		if got := state(); got != s.want {
			t.Fatalf("at +%v: %s, want %s", e.Clock.Now().Sub(it.Epoch), got, s.want)
		}
	}
}
