package dump

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/datagen"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/outbox"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
	"github.com/amigo-ec2/amigo/internal/store/postgres"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
	"github.com/amigo-ec2/amigo/internal/volume"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func openSQLite(t *testing.T) instance.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "amigo.db"), sqlite.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t *testing.T) instance.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.Start(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fill gives a store every kind of record: images in two regions with
// grants, tags of several accounts, settings and an instance.
func fill(t *testing.T, st instance.Store) {
	t.Helper()
	ctx := context.Background()
	accts := []string{"111122223333", "222233334444", "333344445555"}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		err := datagen.Generate(ctx, st, datagen.Options{Region: region, Images: 300, Accounts: accts, SharedFraction: 0.5, PublicFraction: 0.05,
			OrgARNs: []string{"arn:aws:organizations::111122223333:organization/o-exampleorg1"}, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := st.UpdateInstances(ctx, func(tx instance.Tx) error {
		imgs, err := tx.FindImages(ctx, image.Query{Region: "us-east-1", Limit: 2})
		if err != nil {
			return err
		}
		// Another account's tags on the same image.
		if err := tx.SetTags(ctx, "us-east-1", "444455556666", imgs[0].ID, []resource.Tag{{Key: "Mine", Value: "yes"}}); err != nil {
			return err
		}
		if err := tx.SetSetting(ctx, "us-east-1", "111122223333", image.SettingBlockPublicAccess, image.BlockNewSharing); err != nil {
			return err
		}
		ena := true
		if err := tx.InsertInstance(ctx, &instance.Instance{Region: "us-east-1", ID: "i-0123456789abcdef0", OwnerID: "111122223333",
			ReservationID: "r-0123456789abcdef0", ImageID: imgs[1].ID, State: instance.StateRunning, InstanceType: "m1.small",
			LaunchTime: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), Architecture: "x86_64", EnaSupport: &ena,
			HttpTokens: "required", HttpPutResponseHopLimit: 2}); err != nil {
			return err
		}
		created := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
		iops := int32(3000)
		if err := tx.InsertVolume(ctx, &volume.Volume{Region: "us-east-1", ID: "vol-0123456789abcdef0", OwnerID: "111122223333", Size: 8,
			AvailabilityZone: "us-east-1a", ZoneID: "use1-az6", VolumeType: "gp3", Iops: &iops, CreateTime: created, AvailableAt: created}); err != nil {
			return err
		}
		snap := &snapshot.Snapshot{Region: "us-east-1", ID: "snap-0123456789abcdef0", OwnerID: "111122223333", VolumeID: "vol-0123456789abcdef0",
			VolumeSize: 8, State: snapshot.StateCompleted, StartTime: created, CompletedAt: created, Description: "d", Public: true}
		if err := tx.InsertSnapshot(ctx, snap); err != nil {
			return err
		}
		if err := tx.SetTags(ctx, "us-east-1", "111122223333", snap.ID, []resource.Tag{{Key: "Team", Value: "blue"}}); err != nil {
			return err
		}
		// Undelivered outbound messages: two keys, one due later.
		for i, key := range []string{"us-east-1/ami-b", "us-east-1/ami-a", "us-east-1/ami-b"} {
			m := outbox.Message{ID: fmt.Sprintf("00000000-0000-4000-8000-1000000000%02d", i), Topic: image.TopicStateChange, Key: key,
				NotBefore: created.Add(time.Duration(i) * time.Hour), Created: created, Body: []byte(fmt.Sprintf(`{"n":%d}`, i))}
			if err := tx.Enqueue(ctx, m); err != nil {
				return err
			}
		}
		return tx.SetSnapshotPermissions(ctx, "us-east-1", snap.ID, []snapshot.Permission{{UserID: "222233334444"}, {Group: snapshot.GroupAll}})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Two audit events, one refused.
	err = st.(audit.Store).UpdateAudit(ctx, func(tx audit.PruneTx) error {
		for i, code := range []string{"", "Client.InvalidAMIID.NotFound"} {
			e := &audit.Event{Account: "111122223333", Region: "us-east-1", Time: time.Date(2026, 1, 2, 3, 4, 5+i, 6e6, time.UTC),
				ID: fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i), Name: "DeregisterImage", Source: audit.SourceEC2,
				Identity:          audit.Identity{Type: "Root", PrincipalID: "111122223333", ARN: "arn:aws:iam::111122223333:root", AccountID: "111122223333", AccessKeyID: "AKIAOWNER0000000000"},
				RequestParameters: []byte(`{"imageId":"ami-0123456789abcdef0"}`), ErrorCode: code,
				Resources: []audit.Resource{{Type: "AWS::EC2::Ami", Name: "ami-0123456789abcdef0"}}}
			if err := tx.InsertEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func export(t *testing.T, st instance.Store) []byte {
	t.Helper()
	dir, err := account.Load("../account/testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Export(context.Background(), st, dir, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func load(t *testing.T, st instance.Store, data []byte) {
	t.Helper()
	stats, err := Import(context.Background(), st, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Images != 600 || stats.Instances != 1 || stats.Settings == 0 || stats.Tags < 1200 || stats.Volumes != 1 || stats.Snapshots != 601 || stats.Events != 2 || stats.Outbox != 3 { // 600 snapshots generated with their images, 1 made here
		t.Fatalf("imported %+v", stats)
	}
}

// SQLite → PostgreSQL → SQLite leaves identical exports.
func TestRoundTripAcrossEngines(t *testing.T) {
	a := openSQLite(t)
	fill(t, a)
	first := export(t, a)
	if !bytes.Contains(first, []byte(`"kind":"instance"`)) || !bytes.Contains(first, []byte(`"Mine"`)) ||
		!bytes.Contains(first, []byte(`"kind":"volume"`)) || !bytes.Contains(first, []byte(`"kind":"event"`)) || !bytes.Contains(first, []byte(`"kind":"outbox"`)) || !bytes.Contains(first, []byte(`"permissions":[{"UserID":"222233334444"`)) {
		t.Fatal("export misses records")
	}
	pg := openPostgres(t)
	load(t, pg, first)
	second := export(t, pg)
	b := openSQLite(t)
	load(t, b, second)
	third := export(t, b)
	if !bytes.Equal(first, second) || !bytes.Equal(second, third) {
		t.Fatalf("exports differ: %d, %d, %d bytes\n%s", len(first), len(second), len(third), firstDiff(first, second, third))
	}
}

func TestImportNeedsAnEmptyStore(t *testing.T) {
	a := openSQLite(t)
	fill(t, a)
	if _, err := Import(context.Background(), a, bytes.NewReader(export(t, a))); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("import into a full store: %v", err)
	}
	if _, err := Import(context.Background(), openSQLite(t), strings.NewReader(`{"kind":"header","version":99}`)); err == nil {
		t.Fatal("a future format version was accepted")
	}
}

func firstDiff(exports ...[]byte) string {
	lines := make([][]string, len(exports))
	for i, e := range exports {
		lines[i] = strings.Split(string(e), "\n")
	}
	for n := 0; ; n++ {
		var cur []string
		for _, l := range lines {
			if n < len(l) {
				cur = append(cur, l[n])
			} else {
				cur = append(cur, "<end>")
			}
		}
		if cur[0] != cur[1] || cur[1] != cur[2] {
			return strings.Join(cur, "\n")
		}
		if cur[0] == "<end>" {
			return ""
		}
	}
}

// A hand-edited file that repeats a launch permission or a tag key still
// imports: the store is given sets, as image.Tx asks (the permission once,
// the key with its last value).
func TestImportRepeatedEntries(t *testing.T) {
	const region, owner, id = "us-east-1", "111122223333", "ami-0123456789abcdef0"
	grant := image.LaunchPermission{Kind: image.PermUser, Value: "222233334444"}
	img := &image.Image{Region: region, ID: id, OwnerID: owner, Name: "n", State: image.StateAvailable,
		LaunchPermissions: []image.LaunchPermission{grant, image.Public, grant}}
	tag := func(value string) record {
		return record{Kind: "tag", Tag: &resource.ResourceTag{Region: region, Account: owner, ResourceID: id, Tag: resource.Tag{Key: "Team", Value: value}}}
	}
	var file bytes.Buffer
	for _, rec := range []record{{Kind: "header", Version: Version}, {Kind: "image", Image: img}, tag("red"), tag("blue")} {
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		file.Write(append(b, '\n'))
	}
	for name, st := range map[string]instance.Store{"sqlite": openSQLite(t), "postgres": openPostgres(t)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := Import(ctx, st, bytes.NewReader(file.Bytes())); err != nil {
				t.Fatal(err)
			}
			err := st.View(ctx, func(tx image.Tx) error {
				got, err := tx.Image(ctx, region, id)
				if err != nil {
					return err
				}
				if want := []image.LaunchPermission{grant, image.Public}; !slices.Equal(got.LaunchPermissions, want) {
					t.Errorf("launch permissions %v, want %v", got.LaunchPermissions, want)
				}
				tags, err := tx.Tags(ctx, region, owner, []string{id})
				if err != nil {
					return err
				}
				if want := []resource.Tag{{Key: "Team", Value: "blue"}}; !slices.Equal(tags[id], want) {
					t.Errorf("tags %v, want %v", tags[id], want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
