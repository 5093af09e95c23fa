package e2e

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// After kill -9 during a burst of changes, every acknowledged change has
// exactly one event, and every event's change is there: the event is
// written in the change's own transaction.
func TestKill9EveryAcknowledgedChangeHasOneEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	dataDir := t.TempDir()
	if onPostgres() {
		dataDir = pgDatabase(t)
	}
	addr := freeAddr(t)
	cmd := startProcess(t, dataDir, addr)
	e := &env{t: t, endpoint: "http://" + addr}
	var imgs [8]string
	for w := range imgs {
		imgs[w] = e.register(owner, fmt.Sprintf("audit-crash-%d", w))
	}

	acked := burstThenKill(t, e, cmd, imgs[:], "8")
	if len(acked) < 10 {
		t.Fatalf("only %d changes acknowledged before the kill; the test proves nothing", len(acked))
	}

	httpClient.CloseIdleConnections()
	cmd = startProcess(t, dataDir, addr)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	trail := trailClientAt(t, e.endpoint, owner)
	events := map[string]int{} // user id → successful events granting it
	for _, id := range imgs {
		granted := map[string]bool{}
		for _, u := range launchPermsOf(t, e, id) {
			granted[u] = true
		}
		for _, ev := range lookupAll(t, trail, byResource(id)) {
			if aws.ToString(ev.EventName) != "ModifyImageAttribute" {
				continue
			}
			var r struct {
				ErrorCode         string `json:"errorCode"`
				RequestParameters struct {
					LaunchPermission struct {
						Add struct {
							Items []struct {
								UserID string `json:"userId"`
							} `json:"items"`
						} `json:"add"`
					} `json:"launchPermission"`
				} `json:"requestParameters"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &r); err != nil {
				t.Fatal(err)
			}
			if r.ErrorCode != "" {
				continue
			}
			for _, it := range r.RequestParameters.LaunchPermission.Add.Items {
				events[it.UserID]++
				if !granted[it.UserID] {
					t.Errorf("event for a grant to %s on %s that is not there", it.UserID, id)
				}
			}
		}
	}
	for user, id := range acked {
		if events[user] != 1 {
			t.Errorf("acknowledged grant to %s on %s has %d events, want 1", user, id, events[user])
		}
	}
	t.Logf("%d acknowledged grants, %d events after restart", len(acked), len(events))
}
