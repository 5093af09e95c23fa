package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	snap "github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// listingPopulation stores n snapshots, volumes and instances of the test
// accounts (some snapshots public or shared with member; instances in
// reservations whose members lie far apart in id order) and tags on a
// part of them.
func listingPopulation(t *testing.T, e *env, n int) {
	t.Helper()
	at := imagetest.Epoch.Add(-time.Hour)
	owners := []string{owner, member}
	err := e.app.Store().UpdateInstances(ctx, func(tx instance.Tx) error {
		for i := 1; i <= n; i++ {
			id := func(prefix string) string { return fmt.Sprintf("%s-%017x", prefix, i*3) }
			sn := &snap.Snapshot{Region: region, ID: id("snap"), OwnerID: owners[i%2], VolumeID: id("vol"), VolumeSize: 8,
				State: snap.StateCompleted, StartTime: at, CompletedAt: at, Description: fmt.Sprint("snapshot ", i)}
			if err := tx.InsertSnapshot(ctx, sn); err != nil {
				return err
			}
			switch {
			case i%5 == 0:
				sn.Public = true
				if err := tx.UpdateSnapshot(ctx, sn); err != nil {
					return err
				}
				if err := tx.SetSnapshotPermissions(ctx, region, sn.ID, []snap.Permission{{Group: snap.GroupAll}}); err != nil {
					return err
				}
			case i%7 == 0:
				if err := tx.SetSnapshotPermissions(ctx, region, sn.ID, []snap.Permission{{UserID: member}}); err != nil {
					return err
				}
			}
			v := &volume.Volume{Region: region, ID: id("vol"), OwnerID: owners[i%2], Size: 8, VolumeType: "gp3",
				AvailabilityZone: "us-east-1a", ZoneID: "use1-az1", CreateTime: at, AvailableAt: at}
			if err := tx.InsertVolume(ctx, v); err != nil {
				return err
			}
			r := i % 500
			inst := &instance.Instance{Region: region, ID: id("i"), OwnerID: owners[r%2], ReservationID: fmt.Sprintf("r-%017x", r),
				ImageID: "ami-0123456789abcdef0", State: instance.StateRunning, InstanceType: "t3.micro", LaunchTime: at}
			if err := tx.InsertInstance(ctx, inst); err != nil {
				return err
			}
			if i%3 == 0 {
				for _, rid := range []string{sn.ID, v.ID, inst.ID} {
					if err := tx.SetTags(ctx, region, member, rid, []resource.Tag{{Key: "Team", Value: fmt.Sprint("t", i%4)}}); err != nil {
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
}

// Un-paged DescribeSnapshots, DescribeVolumes, DescribeInstances and
// DescribeTags (streamed batch by batch from the store) list exactly what
// the SDK's paginators collect page by page: every item once, in the same
// order, every member equal; DescribeInstances' reservations each once,
// with all their instances.
func TestUnpagedListingsEqualPages(t *testing.T) {
	if testing.Short() {
		t.Skip("2,600 of each kind")
	}
	e := startEnv(t)
	listingPopulation(t, e, 2600)
	c := e.client(member)
	page := aws.Int32(1000)
	same := func(t *testing.T, what string, whole, pages any, n int) {
		t.Helper()
		if n <= 1200 {
			t.Errorf("%s: %d items; the test wants an answer of several batches", what, n)
		}
		a, _ := json.Marshal(whole)
		b, _ := json.Marshal(pages)
		if !bytes.Equal(a, b) {
			i := 0
			for i < min(len(a), len(b)) && a[i] == b[i] {
				i++
			}
			t.Errorf("%s: the un-paged answer (%d bytes) differs from the pages' union (%d bytes) at byte %d: %.200s ≠ %.200s",
				what, len(a), len(b), i, a[max(0, i-100):], b[max(0, i-100):])
		}
	}

	t.Run("DescribeSnapshots", func(t *testing.T) {
		whole, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var pages []ec2types.Snapshot
		p := ec2.NewDescribeSnapshotsPaginator(c, &ec2.DescribeSnapshotsInput{MaxResults: page})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, out.Snapshots...)
		}
		same(t, "snapshots", whole.Snapshots, pages, len(whole.Snapshots))
	})
	t.Run("DescribeVolumes", func(t *testing.T) {
		whole, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
		if err != nil {
			t.Fatal(err)
		}
		var pages []ec2types.Volume
		p := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: page})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, out.Volumes...)
		}
		same(t, "volumes", whole.Volumes, pages, len(whole.Volumes))
	})
	t.Run("DescribeTags", func(t *testing.T) {
		whole, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var pages []ec2types.TagDescription
		p := ec2.NewDescribeTagsPaginator(c, &ec2.DescribeTagsInput{MaxResults: page})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, out.Tags...)
		}
		same(t, "tags", whole.Tags, pages, len(whole.Tags))
	})
	t.Run("DescribeInstances", func(t *testing.T) {
		whole, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		// Pages group by reservation within a page; the whole answer
		// groups across it. Compare the instances in id order, and check
		// the whole answer's grouping.
		var pages []ec2types.Instance
		p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: page})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Reservations {
				pages = append(pages, r.Instances...)
			}
		}
		var all []ec2types.Instance
		seen := map[string]bool{}
		firsts := []string{}
		for _, r := range whole.Reservations {
			if seen[*r.ReservationId] {
				t.Errorf("reservation %s listed twice", *r.ReservationId)
			}
			seen[*r.ReservationId] = true
			firsts = append(firsts, *r.Instances[0].InstanceId)
			for _, in := range r.Instances {
				if !strings.HasPrefix(*r.ReservationId, "r-") || len(r.Instances) < 5 {
					t.Errorf("reservation %s holds %d instances, want 5 or 6", *r.ReservationId, len(r.Instances))
					break
				}
				all = append(all, in)
			}
		}
		if !slices.IsSorted(firsts) {
			t.Error("reservations are not in the order of their first instances")
		}
		byID := func(a, b ec2types.Instance) int { return strings.Compare(*a.InstanceId, *b.InstanceId) }
		slices.SortFunc(all, byID)
		slices.SortFunc(pages, byID)
		// amigo numbers AmiLaunchIndex by position in the listed group,
		// which a page cuts: compare everything else.
		for i := range all {
			all[i].AmiLaunchIndex = nil
		}
		for i := range pages {
			pages[i].AmiLaunchIndex = nil
		}
		same(t, "instances", all, pages, len(all))
	})
}
