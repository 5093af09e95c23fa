package resource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// source is a sorted in-memory store of ids; it counts its fetches.
type source struct {
	ids     []string
	fetches int
}

func (s *source) listing(keep func(string) bool, criteria string) Listing[string, string] {
	return Listing[string, string]{
		Kind:     "test",
		Criteria: func(f *Fingerprint) { f.Add(criteria) },
		Fetch: func(after string, limit int) ([]string, error) {
			s.fetches++
			i, _ := slices.BinarySearch(s.ids, after)
			if i < len(s.ids) && s.ids[i] == after {
				i++
			}
			out := s.ids[i:]
			if limit > 0 && len(out) > limit {
				out = out[:limit]
			}
			return out, nil
		},
		Key: func(id string) string { return id },
		Keep: func(ids []string) ([]string, error) {
			var out []string
			for _, id := range ids {
				if keep(id) {
					out = append(out, strings.ToUpper(id))
				}
			}
			return out, nil
		},
		ResultKey: func(r string) string { return strings.ToLower(r) },
	}
}

func newSource(n int) *source {
	s := &source{}
	for i := range n {
		s.ids = append(s.ids, fmt.Sprintf("id-%04d", i))
	}
	return s
}

func i32(v int32) *int32 { return &v }

func TestListPages(t *testing.T) {
	pages := NewPages([]byte("key"))
	alice := Caller{Viewer: Viewer{Account: "111122223333"}, Region: "us-east-1"}
	for _, tc := range []struct {
		name      string
		n, max    int
		keepEvery int // keep ids whose number is a multiple of this
	}{
		{"everything, one page", 50, 0, 1},
		{"pages of 5", 23, 5, 1},
		{"sparse matches need several fetches per page", 1000, 5, 97},
		{"no match", 300, 10, 100000},
		{"exact multiple", 20, 5, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(tc.n)
			keep := func(id string) bool {
				var k int
				fmt.Sscanf(id, "id-%d", &k)
				return k%tc.keepEvery == 0
			}
			var want []string
			for _, id := range src.ids {
				if keep(id) {
					want = append(want, strings.ToUpper(id))
				}
			}
			var got []string
			pg := Page{}
			if tc.max > 0 {
				pg.MaxResults = i32(int32(tc.max))
			}
			for calls := 0; ; calls++ {
				if calls > tc.n+1 {
					t.Fatal("pagination does not end")
				}
				out, next, err := List(context.Background(), pages, alice, pg, src.listing(keep, "q"))
				if err != nil {
					t.Fatal(err)
				}
				if tc.max > 0 && len(out) > tc.max {
					t.Fatalf("page of %d, MaxResults %d", len(out), tc.max)
				}
				got = append(got, out...)
				if next == "" {
					break
				}
				pg.NextToken = &next
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %d results, want %d (%v…)", len(got), len(want), got[:min(len(got), 3)])
			}
			if tc.max == 0 && src.fetches != 1 {
				t.Fatalf("%d fetches without MaxResults, want 1", src.fetches)
			}
		})
	}
}

func TestListTokenIsBound(t *testing.T) {
	pages := NewPages([]byte("key"))
	alice := Caller{Viewer: Viewer{Account: "111122223333"}, Region: "us-east-1"}
	src := newSource(30)
	all := func(string) bool { return true }
	_, next, err := List(context.Background(), pages, alice, Page{MaxResults: i32(5)}, src.listing(all, "q"))
	if err != nil || next == "" {
		t.Fatalf("first page: %q %v", next, err)
	}
	other := src.listing(all, "q")
	other.Kind = "other"
	bob := alice
	bob.Account = "444455556666"
	eu := alice
	eu.Region = "eu-west-1"
	for _, tc := range []struct {
		name  string
		c     Caller
		l     Listing[string, string]
		pages *Pages
		tok   string
	}{
		{"another query", alice, src.listing(all, "other q"), pages, next},
		{"another action", alice, other, pages, next},
		{"another account", bob, src.listing(all, "q"), pages, next},
		{"another region", eu, src.listing(all, "q"), pages, next},
		{"another key", alice, src.listing(all, "q"), NewPages([]byte("k2")), next},
		{"tampered", alice, src.listing(all, "q"), pages, next[:len(next)-2] + "AA"},
		{"garbage", alice, src.listing(all, "q"), pages, "!!"},
		{"empty", alice, src.listing(all, "q"), pages, ""},
	} {
		tok := tc.tok
		_, _, err := List(context.Background(), tc.pages, tc.c, Page{MaxResults: i32(5), NextToken: &tok}, tc.l)
		if codeOf(err) != "InvalidParameterValue" || !strings.Contains(err.Error(), "parameter NextToken is invalid") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// The same query continues, and MaxResults may change between pages.
	if out, _, err := List(context.Background(), pages, alice, Page{MaxResults: i32(10), NextToken: &next}, src.listing(all, "q")); err != nil || len(out) != 10 || out[0] != "ID-0005" {
		t.Fatalf("continuation: %v %v", out, err)
	}
}

func TestCheckMaxResults(t *testing.T) {
	for _, tc := range []struct {
		n    *int32
		want string
	}{
		{nil, ""},
		{i32(5), ""},
		{i32(1000), ""},
		{i32(4), "Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5."},
		{i32(-1), "Value ( -1 ) for parameter maxResults is invalid. Expecting a value greater than 5."},
		{i32(1001), "Value ( 1001 ) for parameter maxResults is invalid. Expecting a value smaller than or equal to 1000."},
	} {
		err := CheckMaxResults(tc.n)
		if tc.want == "" && err != nil || tc.want != "" && (codeOf(err) != "InvalidParameterValue" || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want %q", tc.n, err, tc.want)
		}
	}
}

// A listing that over-fetches stops at the request's deadline between
// fetches instead of reading the whole store.
func TestListStopsAtDeadline(t *testing.T) {
	pages := NewPages([]byte("key"))
	alice := Caller{Viewer: Viewer{Account: "111122223333"}, Region: "us-east-1"}
	src := newSource(5000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	none := func(string) bool { cancel(); return false } // nothing matches: List would read all
	_, _, err := List(ctx, pages, alice, Page{MaxResults: i32(5)}, src.listing(none, "q"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if src.fetches != 1 {
		t.Fatalf("%d fetches after the deadline, want 1", src.fetches)
	}
}

func TestPoll(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i, want := range map[int]error{0: context.Canceled, 1: nil, PollEvery - 1: nil, PollEvery: context.Canceled} {
		if err := Poll(ctx, i); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("Poll(%d) = %v, want %v", i, err, want)
		}
	}
}
