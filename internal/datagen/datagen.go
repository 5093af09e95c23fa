// Package datagen fills a store with a large, realistic population of
// images straight through the store interface (no HTTP), so scale can be
// measured at a million images without waiting for a million API calls.
package datagen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

// Options shape the generated population.
type Options struct {
	Region string
	Images int
	// Accounts are the owners; the first ones should be the bootstrap
	// file's accounts so their keys can query what was generated.
	Accounts []string
	// OrgARNs and OUARNs are grant targets besides accounts.
	OrgARNs, OUARNs []string
	// SharedFraction of images get 1–3 grants; PublicFraction are public.
	SharedFraction, PublicFraction float64
	Seed                           uint64
	// Batch is how many images one transaction writes.
	Batch int
	// Progress, when set, is called after each batch with the count so far.
	Progress func(done int)
}

var (
	arches  = []string{"x86_64", "x86_64", "x86_64", "arm64"}
	volumes = []string{"gp3", "gp3", "gp2", "io2"}
	teams   = []string{"payments", "search", "platform", "data", "web", "mobile", "infra", "ml"}
	envs    = []string{"prod", "staging", "dev"}
	distros = []string{"al2023", "ubuntu-noble", "debian-12", "rhel-9", "windows-2022"}
)

// Generate inserts opts.Images images with their root snapshots' records
// (and the owners' tags on the images).
func Generate(ctx context.Context, st image.Store, o Options) error {
	if o.Batch <= 0 {
		o.Batch = 2000
	}
	if len(o.Accounts) == 0 {
		return fmt.Errorf("datagen: no accounts")
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	done := 0
	for done < o.Images {
		n := min(o.Batch, o.Images-done)
		imgs := make([]*image.Image, n)
		tags := make([][]resource.Tag, n)
		for i := range imgs {
			k := done + i
			owner := o.Accounts[k%len(o.Accounts)]
			img, t := one(rng, o, owner, k, base)
			imgs[i], tags[i] = img, t
		}
		err := st.Update(ctx, func(tx image.Tx) error {
			for i, img := range imgs {
				if err := insertSnapshot(ctx, tx, img); err != nil {
					return err
				}
				if err := tx.InsertImage(ctx, img); err != nil {
					return err
				}
				if err := tx.SetTags(ctx, o.Region, img.OwnerID, img.ID, tags[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		done += n
		if o.Progress != nil {
			o.Progress(done)
		}
	}
	return nil
}

func one(rng *rand.Rand, o Options, owner string, k int, base time.Time) (*image.Image, []resource.Tag) {
	distro := distros[rng.IntN(len(distros))]
	arch := arches[rng.IntN(len(arches))]
	created := base.Add(time.Duration(rng.Int64N(int64(1000 * 24 * time.Hour)))).Truncate(time.Millisecond)
	name := fmt.Sprintf("%s-%s-%s-%07d", distro, arch, created.Format("20060102"), k)
	size := int32(8 + 8*rng.IntN(4))
	del, enc := true, rng.IntN(10) == 0
	ena := true
	img := &image.Image{
		Region:             o.Region,
		ID:                 resource.NewID("ami"),
		OwnerID:            owner,
		Name:               name,
		Description:        fmt.Sprintf("%s %s build %d", distro, arch, k),
		Location:           owner + "/" + name,
		State:              image.StateAvailable,
		CreationDate:       created,
		Architecture:       arch,
		ImageType:          "machine",
		PlatformDetails:    "Linux/UNIX",
		UsageOperation:     "RunInstances",
		RootDeviceName:     "/dev/xvda",
		RootDeviceType:     "ebs",
		VirtualizationType: "hvm",
		Hypervisor:         "xen",
		EnaSupport:         &ena,
		BootMode:           "uefi-preferred",
		BlockDeviceMappings: []image.BlockDeviceMapping{{DeviceName: "/dev/xvda", Ebs: &image.EbsBlockDevice{
			SnapshotID: resource.NewID("snap"), VolumeSize: &size, VolumeType: volumes[rng.IntN(len(volumes))],
			DeleteOnTermination: &del, Encrypted: &enc}}},
		DeregistrationProtection: "disabled",
	}
	if distro == "windows-2022" {
		img.Platform, img.PlatformDetails, img.UsageOperation = "windows", "Windows", "RunInstances:0002"
	}
	if rng.Float64() < o.SharedFraction {
		for range 1 + rng.IntN(3) {
			var p image.LaunchPermission
			switch x := rng.IntN(10); {
			case x < 6 || len(o.OrgARNs)+len(o.OUARNs) == 0:
				p = image.LaunchPermission{Kind: image.PermUser, Value: o.Accounts[rng.IntN(len(o.Accounts))]}
			case x < 8 && len(o.OrgARNs) > 0:
				p = image.LaunchPermission{Kind: image.PermOrg, Value: o.OrgARNs[rng.IntN(len(o.OrgARNs))]}
			case len(o.OUARNs) > 0:
				p = image.LaunchPermission{Kind: image.PermOU, Value: o.OUARNs[rng.IntN(len(o.OUARNs))]}
			default:
				continue
			}
			if p.Value != owner && !contains(img.LaunchPermissions, p) {
				img.LaunchPermissions = append(img.LaunchPermissions, p)
			}
		}
	}
	if !enc && rng.Float64() < o.PublicFraction {
		img.LaunchPermissions = append(img.LaunchPermissions, image.Public)
		img.CapDeprecation() // EC2 deprecates public images after two years
	}
	tags := []resource.Tag{{Key: "Team", Value: teams[rng.IntN(len(teams))]}, {Key: "Env", Value: envs[rng.IntN(len(envs))]}}
	return img, tags
}

// insertSnapshot stores the record of img's root snapshot: its owner's,
// completed when the image was created, shared as the image is where a
// snapshot can be (accounts and public; a snapshot has no organization
// grants), so copies by grantees work as with a publisher who shares both.
func insertSnapshot(ctx context.Context, tx image.Tx, img *image.Image) error {
	e := img.BlockDeviceMappings[0].Ebs
	snap := &snapshot.Snapshot{Region: img.Region, ID: e.SnapshotID, OwnerID: img.OwnerID, VolumeSize: *e.VolumeSize,
		State: snapshot.StateCompleted, StartTime: img.CreationDate, CompletedAt: img.CreationDate, Encrypted: *e.Encrypted,
		Description: "Created by CreateImage(" + resource.NewID("i") + ") for " + img.ID, Public: img.IsPublic()}
	var perms []snapshot.Permission
	for _, p := range img.LaunchPermissions {
		switch p.Kind {
		case image.PermUser:
			perms = append(perms, snapshot.Permission{UserID: p.Value})
		case image.PermGroup:
			perms = append(perms, snapshot.Permission{Group: snapshot.GroupAll})
		}
	}
	if err := tx.InsertSnapshot(ctx, snap); err != nil {
		return err
	}
	if len(perms) == 0 {
		return nil
	}
	return tx.SetSnapshotPermissions(ctx, img.Region, snap.ID, perms)
}

func contains(ps []image.LaunchPermission, p image.LaunchPermission) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}
