package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/audit"
)

// AuditUpgradeEvents are events of every shape (root and IAM users, reads
// and changes, several sources, no resources and several), for an
// engine's test that a store written by an older schema upgrades: the
// test stores them the old way, opens the store, and calls
// CheckAuditLookups.
func AuditUpgradeEvents() []*audit.Event {
	var out []*audit.Event
	for i := range 24 {
		acct := []string{acct1, acct2}[i%2]
		e := auditEvent(i, acct, region, []string{"ModifyImageAttribute", "CreateTags", "DescribeImages"}[i%3], amiID(i%4))
		e.ID = fmt.Sprintf("0190a0b0-0000-7000-8000-%012d", i)
		if i%3 == 2 {
			e.ReadOnly = true
		}
		if i%4 == 1 {
			e.Identity = audit.Identity{Type: "IAMUser", PrincipalID: "AIDA" + acct, ARN: "arn:aws:iam::" + acct + ":user/alice",
				AccountID: acct, AccessKeyID: "AKIAALICE" + acct, UserName: "alice"}
		}
		switch i % 5 {
		case 1:
			e.Resources = append(e.Resources, audit.Resource{Type: "AWS::EC2::Snapshot", Name: "snap-0123456789abcdef0"})
		case 2:
			e.Resources = nil
		case 3:
			e.Source, e.Name = audit.SourceSTS, "GetCallerIdentity"
		}
		out = append(out, e)
	}
	return out
}

// CheckAuditLookups checks st's LookupEvents, by every attribute value of
// evs (stored in this order) and a few that match nothing, against what
// the events' Attributes say.
func CheckAuditLookups(t *testing.T, st audit.Store, evs []*audit.Event) {
	t.Helper()
	ctx := t.Context()
	queries := []audit.Attribute{{}, {Key: audit.KeyResourceType, Value: "AWS::EC2"}, {Key: audit.KeyUsername, Value: "bob"},
		{Key: audit.KeyEventName, Value: "RunInstances"}, {Key: audit.KeyReadOnly, Value: "true"}}
	for _, e := range evs {
		for _, a := range e.Attributes() {
			if !slices.Contains(queries, a) {
				queries = append(queries, a)
			}
		}
	}
	for _, acct := range []string{acct1, acct2} {
		for _, a := range queries {
			var want []string
			for i := len(evs) - 1; i >= 0; i-- {
				e := evs[i]
				if e.Account == acct && (a.Key == "" || slices.Contains(e.Attributes(), a)) {
					want = append(want, e.ID)
				}
			}
			q := audit.Query{Account: acct, Region: region, Attribute: a, Start: auditEpoch, End: auditEpoch.Add(time.Hour), Limit: 50}
			got, err := st.LookupEvents(ctx, q)
			if err != nil {
				t.Fatalf("lookup %v: %v", a, err)
			}
			if fmt.Sprint(eventIDs(got)) != fmt.Sprint(append([]string{}, want...)) {
				t.Errorf("%s by %v: %v, want %v", acct, a, eventIDs(got), want)
			}
			for i, e := range got {
				if w := evs[slices.IndexFunc(evs, func(x *audit.Event) bool { return x.ID == e.ID })]; fmt.Sprint(w.Resources) != fmt.Sprint(e.Resources) || w.Identity != e.Identity {
					t.Errorf("event %d by %v: %+v, want %+v", i, a, e, w)
				}
			}
		}
	}
}
