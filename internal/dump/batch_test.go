package dump

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/outbox"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// ties gives the store records whose ids repeat across regions and
// accounts: an image id in two regions, other accounts' tags under the key
// the owner used on the same image.
func ties(t *testing.T, st instance.Store) {
	t.Helper()
	ctx := context.Background()
	err := st.UpdateInstances(ctx, func(tx instance.Tx) error {
		imgs, err := tx.FindImages(ctx, image.Query{Region: "us-east-1", Limit: 40})
		if err != nil {
			return err
		}
		for _, img := range imgs {
			twin := img.Clone()
			twin.Region = "ap-south-1"
			if err := tx.InsertImage(ctx, twin); err != nil {
				return err
			}
			for _, acct := range []string{"222233334444", "444455556666"} {
				if err := tx.SetTags(ctx, "us-east-1", acct, img.ID, []resource.Tag{{Key: "Team", Value: acct}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An export read a few records at a time — every batch boundary falling
// somewhere, ids repeated across regions and accounts included — is byte
// for byte the export read in one piece, on both engines.
func TestExportInBatchesEqualsWhole(t *testing.T) {
	for name, open := range map[string]func(*testing.T) instance.Store{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			fill(t, st)
			ties(t, st)
			whole := export(t, st)
			defer func(n int) { exportBatch = n }(exportBatch)
			for _, n := range []int{1, 7} {
				exportBatch = n
				if got := export(t, st); !bytes.Equal(got, whole) {
					t.Fatalf("batches of %d: the export differs (%d bytes, whole %d)\n%s", n, len(got), len(whole), firstDiff(got, whole, whole))
				}
			}
			exportBatch = 1 << 30
			if got := export(t, st); !bytes.Equal(got, whole) {
				t.Fatalf("one batch: the export differs (%d bytes, batched %d)", len(got), len(whole))
			}
			if n := bytes.Count(whole, []byte(`"Region":"ap-south-1"`)); n < 40 {
				t.Errorf("%d images in the second region; want the 40 twins", n)
			}
		})
	}
}

// The undelivered outbound messages move with the store: an import
// enqueues them in their order, and the new store delivers each key's
// messages in the order the old one would have, with their ids (the
// receiver's de-duplication key) and bodies.
func TestOutboxMovesWithTheStore(t *testing.T) {
	a := openSQLite(t)
	fill(t, a)
	ctx := context.Background()
	// One message delivered already: it is not exported.
	done, err := a.(outbox.Store).Claim(ctx, image.TopicStateChange, time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC), time.Minute, 1)
	if err != nil || len(done) != 1 {
		t.Fatalf("claim: %v, %v", done, err)
	}
	if err := a.(outbox.Store).Done(ctx, []int64{done[0].Seq}); err != nil {
		t.Fatal(err)
	}
	data := export(t, a)
	if n := bytes.Count(data, []byte(`"kind":"outbox"`)); n != 2 {
		t.Fatalf("%d outbox records exported, want the 2 undelivered", n)
	}
	b := openPostgres(t)
	if _, err := Import(ctx, b, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	later := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []string
	for {
		ms, err := b.(outbox.Store).Claim(ctx, image.TopicStateChange, later, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			break
		}
		for _, m := range ms {
			got = append(got, fmt.Sprintf("%s %s %s %s", m.Key, m.ID, m.Body, m.NotBefore.Format(time.RFC3339)))
			if err := b.(outbox.Store).Done(ctx, []int64{m.Seq}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{
		"us-east-1/ami-a 00000000-0000-4000-8000-100000000001 {\"n\":1} 2026-01-02T04:04:05Z",
		"us-east-1/ami-b 00000000-0000-4000-8000-100000000002 {\"n\":2} 2026-01-02T05:04:05Z",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("delivered from the imported store:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Check finds a repeated id whether the kind's records come in order (the
// repeat is the record before) or not (a file edited by hand: a second
// read remembers that kind's keys), and lists every problem in line order.
func TestCheckFindsRepeatsInAnyOrder(t *testing.T) {
	line := func(kind, region, id string) string {
		var rec record
		rec.Kind = kind
		switch kind {
		case "image":
			rec.Image = &image.Image{Region: region, ID: id}
		case "instance":
			rec.Instance = &instance.Instance{Region: region, ID: id}
		}
		b, _ := json.Marshal(rec)
		return string(b)
	}
	file := strings.Join([]string{
		`{"kind":"header","version":1}`,
		line("image", "us-east-1", "ami-2"),  // 2
		line("image", "us-east-1", "ami-1"),  // 3: out of order
		line("instance", "us-east-1", "i-1"), // 4
		line("instance", "us-east-1", "i-1"), // 5: repeat, in order
		line("image", "eu-west-1", "ami-2"),  // 6: another region, fine
		`{"kind":"nothing"}`,                 // 7
		line("image", "us-east-1", "ami-2"),  // 8: repeat of line 2, far away
		line("instance", "us-east-1", "i-2"), // 9
		line("instance", "us-east-1", "i-2"), // 10: repeat, in order
		line("instance", "us-east-1", "i-2"), // 11: again
	}, "\n")
	err := Check(strings.NewReader(file))
	ce, ok := err.(*CheckError)
	if !ok {
		t.Fatalf("Check = %v, want a *CheckError", err)
	}
	want := []string{
		"line 5: instance i-1 in us-east-1 already given on line 4",
		`line 7: unknown record kind "nothing"`,
		"line 8: image ami-2 in us-east-1 already given on line 2",
		"line 10: instance i-2 in us-east-1 already given on line 9",
		"line 11: instance i-2 in us-east-1 already given on line 9",
	}
	if strings.Join(ce.Problems, "\n") != strings.Join(want, "\n") || ce.Total != len(want) {
		t.Errorf("problems (%d):\n%s\nwant:\n%s", ce.Total, strings.Join(ce.Problems, "\n"), strings.Join(want, "\n"))
	}
}
