package ec2

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/query"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
	"github.com/amigo-ec2/amigo/internal/store/postgres"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
	"github.com/amigo-ec2/amigo/internal/volume"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

const (
	stRegion = "us-east-1"
	stA      = "111111111111" // the caller
	stB      = "222222222222"
	stC      = "333333333333" // blocks all sharing of its snapshots
)

var stEpoch = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// streamServices are the services over one store, on a clock that stands
// still, so two reads of one state answer the same bytes.
type streamServices struct {
	st    instance.Store
	svc   Services
	tags  *resource.Tagging[instance.Tx]
	call  map[string]Action
	now   func() time.Time
	count int // the population's size per kind
}

// onEngines runs f on a populated SQLite store and a populated PostgreSQL
// one (skipped without PostgreSQL unless AMIGO_REQUIRE_POSTGRES is set).
func onEngines(t *testing.T, n int, f func(t *testing.T, s *streamServices)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "amigo.db"), sqlite.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, newStreamServices(t, st, n))
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(t.Context(), pgtest.Start(t), postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, newStreamServices(t, st, n))
	})
}

func newStreamServices(t *testing.T, st instance.Store, n int) *streamServices {
	t.Helper()
	now := func() time.Time { return stEpoch }
	images, err := image.NewService(t.Context(), st, image.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	vols := volume.NewService(st, images.Pages(), volume.Options{Now: now})
	snaps := snapshot.NewService(st, vols, images.Pages(), snapshot.Options{Now: now})
	insts := instance.NewService(st, images, instance.Options{Now: now})
	s := &streamServices{st: st, svc: Services{Images: images, Instances: insts, Snapshots: snaps, Volumes: vols},
		tags: insts.Tagging(), now: now, count: n}
	s.call = Actions(s.svc)
	streamPopulation(t, s, n)
	return s
}

func stID(prefix string, i int) string { return fmt.Sprintf("%s-%017x", prefix, i*3) }

// streamPopulation stores n snapshots, volumes and instances of three
// accounts — shared, public, pending, attached, in reservations whose
// instances lie far apart in id order — and the accounts' tags on some,
// more than a stream's first batch and one full batch of each.
func streamPopulation(t *testing.T, s *streamServices, n int) {
	t.Helper()
	ctx := t.Context()
	owners := []string{stA, stB, stC}
	err := s.st.UpdateInstances(ctx, func(tx instance.Tx) error {
		for i := 1; i <= n; i++ {
			sn := &snapshot.Snapshot{Region: stRegion, ID: stID("snap", i), OwnerID: owners[i%3], VolumeID: stID("vol", i), VolumeSize: int32(8 + i%5),
				State: snapshot.StateCompleted, StartTime: stEpoch.Add(-time.Hour), CompletedAt: stEpoch.Add(-time.Minute), Description: fmt.Sprint("snap ", i)}
			if i%11 == 0 {
				sn.CompletedAt = stEpoch.Add(time.Hour) // reads pending
			}
			var perms []snapshot.Permission
			switch {
			case i%5 == 0:
				perms, sn.Public = []snapshot.Permission{{Group: snapshot.GroupAll}}, true
			case i%7 == 0:
				perms = []snapshot.Permission{{UserID: stA}}
			}
			if err := tx.InsertSnapshot(ctx, sn); err != nil {
				return err
			}
			if len(perms) > 0 {
				if err := tx.SetSnapshotPermissions(ctx, stRegion, sn.ID, perms); err != nil {
					return err
				}
			}
			v := &volume.Volume{Region: stRegion, ID: stID("vol", i), OwnerID: owners[i%2], Size: int32(8 + i%7), VolumeType: "gp3",
				AvailabilityZone: "us-east-1a", ZoneID: "use1-az1", CreateTime: stEpoch.Add(-time.Hour), AvailableAt: stEpoch.Add(-time.Minute)}
			if i%9 == 0 {
				v.Attachment = &volume.Attachment{InstanceID: stID("i", i), Device: "/dev/xvda", AttachTime: stEpoch.Add(-time.Hour), DeleteOnTermination: true}
			}
			if i%13 == 0 {
				v.AvailableAt = stEpoch.Add(time.Hour) // reads creating
			}
			if err := tx.InsertVolume(ctx, v); err != nil {
				return err
			}
			// Reservation r holds instances r, r+700, r+1400…: far apart.
			r := i % 700
			inst := &instance.Instance{Region: stRegion, ID: stID("i", i), OwnerID: owners[r%2], ReservationID: stID("r", r),
				ImageID: stID("ami", i%17), State: instance.StateRunning, InstanceType: "t3.micro", LaunchTime: stEpoch.Add(-time.Hour)}
			if i%6 == 0 {
				inst.State = instance.StateStopped
			}
			if err := tx.InsertInstance(ctx, inst); err != nil {
				return err
			}
			for _, id := range []string{sn.ID, v.ID, inst.ID} {
				if i%4 == 0 {
					if err := tx.SetTags(ctx, stRegion, stA, id, []resource.Tag{{Key: "Env", Value: []string{"prod", "dev"}[i%8/4]}, {Key: "Team", Value: fmt.Sprint("t", i%3)}}); err != nil {
						return err
					}
				}
				if i%3 == 0 {
					if err := tx.SetTags(ctx, stRegion, stB, id, []resource.Tag{{Key: "Team", Value: "b"}}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Snapshots.EnableBlockPublicAccess(ctx, stCaller(stC), snapshot.BlockAllSharing, false); err != nil {
		t.Fatal(err)
	}
}

func stCaller(acct string) resource.Caller {
	return resource.Caller{Viewer: resource.Viewer{Account: acct}, Region: stRegion}
}

func stFilter(name string, values ...string) ec2api.Filter {
	return ec2api.Filter{Name: &name, Values: values}
}

// streamCase is one un-paged listing request and the same listing
// answered in one piece (the service's buffered path and the handler's
// conversion).
type streamCase struct {
	action string
	in     any
	whole  func(ctx context.Context) (any, error)
}

// streamCases are the requests of every streamed listing but
// DescribeImages (internal/image and the e2e tests cover it).
func (s *streamServices) streamCases() map[string]streamCase {
	a := stCaller(stA)
	snaps := func(in ec2api.DescribeSnapshotsRequest) streamCase {
		return streamCase{"DescribeSnapshots", &in, func(ctx context.Context) (any, error) {
			r := &snapshot.DescribeRequest{OwnerIDs: in.OwnerIds, RestorableBy: in.RestorableByUserIds, Filters: filters(in.Filters)}
			ds, _, err := s.svc.Snapshots.DescribeSnapshots(ctx, a, r)
			out := &ec2api.DescribeSnapshotsResult{Snapshots: make([]ec2api.Snapshot, len(ds))}
			for i := range ds {
				out.Snapshots[i] = snapshotOut(ds[i])
			}
			return out, err
		}}
	}
	vols := func(in ec2api.DescribeVolumesRequest) streamCase {
		return streamCase{"DescribeVolumes", &in, func(ctx context.Context) (any, error) {
			ds, _, err := s.svc.Volumes.DescribeVolumes(ctx, a, &volume.DescribeRequest{Filters: filters(in.Filters)})
			out := &ec2api.DescribeVolumesResult{Volumes: make([]ec2api.Volume, len(ds))}
			for i := range ds {
				out.Volumes[i] = describedVolumeOut(ds[i])
			}
			return out, err
		}}
	}
	insts := func(in ec2api.DescribeInstancesRequest) streamCase {
		return streamCase{"DescribeInstances", &in, func(ctx context.Context) (any, error) {
			rs, _, err := s.svc.Instances.DescribeInstances(ctx, a, &instance.DescribeRequest{Filters: filters(in.Filters)})
			out := &ec2api.DescribeInstancesResult{Reservations: make([]ec2api.Reservation, len(rs))}
			for i := range rs {
				out.Reservations[i] = reservationOut(rs[i])
			}
			return out, err
		}}
	}
	tags := func(in ec2api.DescribeTagsRequest) streamCase {
		return streamCase{"DescribeTags", &in, func(ctx context.Context) (any, error) {
			ts, _, err := s.tags.DescribeTags(ctx, a, &resource.DescribeTagsRequest{Filters: filters(in.Filters)})
			out := &ec2api.DescribeTagsResult{Tags: make([]ec2api.TagDescription, len(ts))}
			for i := range ts {
				out.Tags[i] = tagDescriptionOut(ts[i])
			}
			return out, err
		}}
	}
	return map[string]streamCase{
		"snapshots every usable":    snaps(ec2api.DescribeSnapshotsRequest{}),
		"snapshots owned":           snaps(ec2api.DescribeSnapshotsRequest{OwnerIds: []string{"self"}}),
		"snapshots of another":      snaps(ec2api.DescribeSnapshotsRequest{OwnerIds: []string{stB}}),
		"snapshots restorable by":   snaps(ec2api.DescribeSnapshotsRequest{RestorableByUserIds: []string{stA}}),
		"snapshots pending":         snaps(ec2api.DescribeSnapshotsRequest{Filters: []ec2api.Filter{stFilter("status", "pending")}}),
		"snapshots by tag":          snaps(ec2api.DescribeSnapshotsRequest{Filters: []ec2api.Filter{stFilter("tag:Team", "t1")}}),
		"snapshots none":            snaps(ec2api.DescribeSnapshotsRequest{Filters: []ec2api.Filter{stFilter("description", "nothing")}}),
		"volumes every owned":       vols(ec2api.DescribeVolumesRequest{}),
		"volumes creating":          vols(ec2api.DescribeVolumesRequest{Filters: []ec2api.Filter{stFilter("status", "creating")}}),
		"volumes attached":          vols(ec2api.DescribeVolumesRequest{Filters: []ec2api.Filter{stFilter("attachment.status", "attached")}}),
		"volumes by tag":            vols(ec2api.DescribeVolumesRequest{Filters: []ec2api.Filter{stFilter("tag:Env", "prod")}}),
		"instances every owned":     insts(ec2api.DescribeInstancesRequest{}),
		"instances stopped":         insts(ec2api.DescribeInstancesRequest{Filters: []ec2api.Filter{stFilter("instance-state-name", "stopped")}}),
		"instances by tag":          insts(ec2api.DescribeInstancesRequest{Filters: []ec2api.Filter{stFilter("tag:Team", "t2")}}),
		"instances by image":        insts(ec2api.DescribeInstancesRequest{Filters: []ec2api.Filter{stFilter("image-id", stID("ami", 3), stID("ami", 5))}}),
		"instances none":            insts(ec2api.DescribeInstancesRequest{Filters: []ec2api.Filter{stFilter("instance-type", "m5.large")}}),
		"tags every one":            tags(ec2api.DescribeTagsRequest{}),
		"tags of snapshots":         tags(ec2api.DescribeTagsRequest{Filters: []ec2api.Filter{stFilter("resource-type", "snapshot")}}),
		"tags by key":               tags(ec2api.DescribeTagsRequest{Filters: []ec2api.Filter{stFilter("key", "Team")}}),
		"tags of resources by tag":  tags(ec2api.DescribeTagsRequest{Filters: []ec2api.Filter{stFilter("tag:Env", "dev")}}),
		"tags by value and pattern": tags(ec2api.DescribeTagsRequest{Filters: []ec2api.Filter{stFilter("value", "t*")}}),
	}
}

// batchBound is the most results a batch of limit candidates may hold:
// limit, or for DescribeInstances the members of up to limit reservations
// (the population's reservations hold up to count/700+1 instances).
func (s *streamServices) batchBound(action string, limit int) int {
	if action == "DescribeInstances" {
		return limit * (s.count/700 + 1)
	}
	return limit
}

// encodeStreamed runs a streamed answer through the server's encoder,
// counting the batches and the largest.
func encodeStreamed(t *testing.T, json bool, action string, st *query.Stream) (b []byte, batches, largest int) {
	t.Helper()
	var out, buf bytes.Buffer
	next := func() (any, error) {
		v, err := st.Next(t.Context())
		if v != nil {
			n := len(toSlice(v))
			batches++
			largest = max(largest, n)
		}
		return v, err
	}
	err := query.EncodeStream(&buf, json, action, "req-1", st, next, func(b *bytes.Buffer) error {
		out.Write(b.Bytes())
		b.Reset()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out.Write(buf.Bytes())
	return out.Bytes(), batches, largest
}

func toSlice(v any) []any {
	switch v := v.(type) {
	case []ec2api.Snapshot:
		return make([]any, len(v))
	case []ec2api.Volume:
		return make([]any, len(v))
	case []ec2api.Reservation:
		n := 0
		for _, r := range v {
			n += len(r.Instances)
		}
		return make([]any, n)
	case []ec2api.TagDescription:
		return make([]any, len(v))
	}
	panic(fmt.Sprintf("unexpected batch %T", v))
}

// TestStreamedListingsEqualWholeAnswers: an un-paged DescribeSnapshots,
// DescribeVolumes, DescribeInstances or DescribeTags answers as a stream,
// and its bytes, XML and JSON, are those of the same listing answered in
// one piece — filters, visibility (grants, public, blocked sharing, other
// accounts' tags), order and DescribeInstances' reservations unchanged.
// Every non-empty answer of the population crosses batch boundaries; no
// batch is larger than a stream batch (instances: plus the members of
// the batch's reservations).
func TestStreamedListingsEqualWholeAnswers(t *testing.T) {
	onEngines(t, 2600, func(t *testing.T, s *streamServices) {
		for name, tc := range s.streamCases() {
			t.Run(name, func(t *testing.T) {
				for _, json := range []bool{false, true} {
					res, err := s.call[tc.action].Handle(t.Context(), stCaller(stA), tc.in)
					if err != nil {
						t.Fatal(err)
					}
					st, ok := res.(*query.Stream)
					if !ok {
						t.Fatalf("%s answered %T, want a stream", tc.action, res)
					}
					got, batches, largest := encodeStreamed(t, json, tc.action, st)
					whole, err := tc.whole(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					var want bytes.Buffer
					if json {
						query.EncodeJSON(&want, whole)
					} else {
						query.EncodeXML(&want, tc.action, "req-1", whole)
					}
					if !bytes.Equal(got, want.Bytes()) {
						t.Fatalf("json=%v: the streamed answer (%d bytes) differs from the whole one (%d bytes) at byte %d",
							json, len(got), want.Len(), firstDiff(got, want.Bytes()))
					}
					items := len(toSlice(listOf(whole)))
					if items > resource.StreamBatch && batches < 2 {
						t.Errorf("%d items came in %d batch; want several", items, batches)
					}
					if bound := s.batchBound(tc.action, resource.StreamBatch); largest > bound {
						t.Errorf("a batch of %d items; want at most %d", largest, bound)
					}
				}
			})
		}
		// The population is large enough for the test to mean something.
		for _, name := range []string{"snapshots every usable", "volumes every owned", "instances every owned", "tags every one"} {
			whole, err := s.streamCases()[name].whole(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if n := len(toSlice(listOf(whole))); n <= resource.FirstBatch+resource.StreamBatch {
				t.Errorf("%s: %d items; want more than a first and a full batch", name, n)
			}
		}
	})
}

func listOf(v any) any {
	switch v := v.(type) {
	case *ec2api.DescribeSnapshotsResult:
		return v.Snapshots
	case *ec2api.DescribeVolumesResult:
		return v.Volumes
	case *ec2api.DescribeInstancesResult:
		return v.Reservations
	case *ec2api.DescribeTagsResult:
		return v.Tags
	}
	panic(fmt.Sprintf("unexpected answer %T", v))
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestStreamedListingsReadBatchByBatch: a streamed listing holds no read
// transaction between batches and reads each batch as the store is then —
// a write made after the first batch commits while the answer is open,
// and the later batches see it — so what a stream holds is one batch,
// never the answer.
func TestStreamedListingsReadBatchByBatch(t *testing.T) {
	onEngines(t, 1500, func(t *testing.T, s *streamServices) {
		a := stCaller(stA)
		last := func(prefix string, owner func(i int) bool) string {
			for i := s.count; ; i-- {
				if owner(i) {
					return stID(prefix, i)
				}
			}
		}
		cases := []struct {
			name   string
			open   func() (func(context.Context) ([]string, error), error)
			gone   string
			remove func(ctx context.Context, tx instance.Tx) error
		}{
			{name: "DescribeSnapshots", gone: last("snap", func(i int) bool { return i%3 == 1 }),
				open: func() (func(context.Context) ([]string, error), error) {
					st, err := s.svc.Snapshots.StreamSnapshots(a, &snapshot.DescribeRequest{OwnerIDs: []string{"self"}})
					return ids(st, func(d snapshot.Described) string { return d.ID }), err
				}},
			{name: "DescribeVolumes", gone: last("vol", func(i int) bool { return i%2 == 1 }),
				open: func() (func(context.Context) ([]string, error), error) {
					st, err := s.svc.Volumes.StreamVolumes(a, &volume.DescribeRequest{})
					return ids(st, func(d volume.Described) string { return d.ID }), err
				}},
			{name: "DescribeInstances", gone: last("i", func(i int) bool { return i%700%2 == 1 }),
				open: func() (func(context.Context) ([]string, error), error) {
					st, err := s.svc.Instances.StreamInstances(a, &instance.DescribeRequest{})
					return func(ctx context.Context) ([]string, error) {
						rs, err := st.Next(ctx)
						var out []string
						for _, r := range rs {
							for _, d := range r.Instances {
								out = append(out, d.ID)
							}
						}
						return out, err
					}, err
				}},
			{name: "DescribeTags", gone: last("vol", func(i int) bool { return i%4 == 0 }),
				open: func() (func(context.Context) ([]string, error), error) {
					st, err := s.tags.StreamTags(a, &resource.DescribeTagsRequest{})
					return ids(st, func(t resource.ResourceTag) string { return t.ResourceID }), err
				}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				next, err := tc.open()
				if err != nil {
					t.Fatal(err)
				}
				first, err := next(t.Context())
				if bound := s.batchBound(tc.name, resource.FirstBatch); err != nil || len(first) == 0 || len(first) > bound {
					t.Fatalf("first batch: %d items, %v; want 1 to %d", len(first), err, bound)
				}
				// A write with the answer open: it commits at once.
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				err = s.st.UpdateInstances(ctx, func(tx instance.Tx) error {
					switch tc.name {
					case "DescribeSnapshots":
						return tx.DeleteSnapshot(ctx, stRegion, tc.gone)
					case "DescribeVolumes":
						return tx.DeleteVolume(ctx, stRegion, tc.gone)
					case "DescribeInstances":
						inst, err := tx.Instance(ctx, stRegion, tc.gone)
						if err != nil {
							return err
						}
						inst.OwnerID = stC // out of the caller's listing
						return tx.UpdateInstance(ctx, inst)
					default:
						return tx.SetTags(ctx, stRegion, stA, tc.gone, nil)
					}
				})
				if err != nil {
					t.Fatalf("a write while the stream is open: %v", err)
				}
				all := first
				for {
					b, err := next(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					if b == nil {
						break
					}
					all = append(all, b...)
				}
				if len(all) <= 2*resource.FirstBatch {
					t.Fatalf("%d items; want several batches", len(all))
				}
				if slices.Contains(all, tc.gone) {
					t.Errorf("%s, removed between batches, is still listed", tc.gone)
				}
			})
		}
	})
}

func ids[R any](st *resource.Stream[R], id func(R) string) func(context.Context) ([]string, error) {
	if st == nil {
		return nil
	}
	return func(ctx context.Context) ([]string, error) {
		rs, err := st.Next(ctx)
		if rs == nil {
			return nil, err
		}
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = id(r)
		}
		return out, err
	}
}
