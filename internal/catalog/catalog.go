// Package catalog loads public images (Amazon's, Canonical's, Marketplace
// sellers'…) into the store, so `describe-images --owners amazon` answers
// out of the box. A small realistic catalogue is embedded; `--catalog FILE`
// replaces it with a YAML file of the same shape or JSON lines.
package catalog

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/query"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

//go:embed default.yaml
var defaultCatalog []byte

// Entry is one catalogue image. Field names are the file format.
type Entry struct {
	Name            string        `yaml:"name" json:"name"`
	OwnerID         string        `yaml:"owner_id" json:"owner_id"`
	OwnerAlias      string        `yaml:"owner_alias" json:"owner_alias"`
	Description     string        `yaml:"description" json:"description"`
	Architecture    string        `yaml:"architecture" json:"architecture"`
	CreationDate    string        `yaml:"creation_date" json:"creation_date"`
	RootDeviceName  string        `yaml:"root_device_name" json:"root_device_name"`
	VolumeSize      int32         `yaml:"volume_size" json:"volume_size"`
	VolumeType      string        `yaml:"volume_type" json:"volume_type"`
	EnaSupport      bool          `yaml:"ena_support" json:"ena_support"`
	BootMode        string        `yaml:"boot_mode" json:"boot_mode"`
	ImdsSupport     string        `yaml:"imds_support" json:"imds_support"`
	TpmSupport      string        `yaml:"tpm_support" json:"tpm_support"`
	Platform        string        `yaml:"platform" json:"platform"`
	PlatformDetails string        `yaml:"platform_details" json:"platform_details"`
	UsageOperation  string        `yaml:"usage_operation" json:"usage_operation"`
	SriovNetSupport string        `yaml:"sriov_net_support" json:"sriov_net_support"`
	ProductCodes    []ProductCode `yaml:"product_codes" json:"product_codes"`
	// Private entries are loaded without the public grant (rare; for tests).
	Private bool `yaml:"private" json:"private"`
}

// ProductCode is a devpay or marketplace product code.
type ProductCode struct {
	Code string `yaml:"code" json:"code"`
	Type string `yaml:"type" json:"type"`
}

// DefaultRegions are where the catalogue is loaded unless told otherwise:
// the commercial regions clients most often default to.
var DefaultRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ca-central-1", "sa-east-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
}

// Default returns the embedded catalogue.
func Default() ([]Entry, error) { return Parse(defaultCatalog) }

// Load reads a catalogue file: YAML (`images: [...]`) or JSON lines.
func Load(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	es, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return es, nil
}

// Parse reads catalogue entries and checks them.
func Parse(data []byte) ([]Entry, error) {
	var es []Entry
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			if !utf8.Valid(line) { // encoding/json would turn it into U+FFFD unseen
				return nil, fmt.Errorf("line %d: invalid UTF-8", n)
			}
			var e Entry
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			es = append(es, e)
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	} else {
		var doc struct {
			Images []Entry `yaml:"images"`
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&doc); err != nil {
			return nil, err
		}
		es = doc.Images
	}
	var errs []error
	seen := map[string]bool{}
	for i, e := range es {
		where := fmt.Sprintf("image %d (%q)", i+1, e.Name)
		if err := image.CheckName(e.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s: bad name", where))
		}
		if !resource.ValidAccountID(e.OwnerID) {
			errs = append(errs, fmt.Errorf("%s: owner_id must be 12 digits", where))
		}
		switch e.OwnerAlias {
		case "", "amazon", "aws-marketplace", "aws-backup-vault":
		default:
			errs = append(errs, fmt.Errorf("%s: owner_alias must be amazon, aws-marketplace or aws-backup-vault", where))
		}
		if _, err := time.Parse(time.RFC3339, e.CreationDate); err != nil {
			errs = append(errs, fmt.Errorf("%s: creation_date: %v", where, err))
		}
		if !e.validText() {
			errs = append(errs, fmt.Errorf("%s: a value holds a NUL character or invalid UTF-8", where))
		}
		key := e.OwnerID + "/" + e.Name
		if seen[key] {
			errs = append(errs, fmt.Errorf("%s: duplicate name for this owner", where))
		}
		seen[key] = true
	}
	return es, errors.Join(errs...)
}

// validText holds the catalogue to the API's contract for stored strings
// (query.ValidText): PostgreSQL cannot store NUL or invalid UTF-8.
func (e Entry) validText() bool {
	for _, s := range []string{e.Name, e.OwnerID, e.OwnerAlias, e.Description, e.Architecture, e.CreationDate,
		e.RootDeviceName, e.VolumeType, e.BootMode, e.ImdsSupport, e.TpmSupport, e.Platform, e.PlatformDetails,
		e.UsageOperation, e.SriovNetSupport} {
		if !query.ValidText(s) {
			return false
		}
	}
	for _, pc := range e.ProductCodes {
		if !query.ValidText(pc.Code) || !query.ValidText(pc.Type) {
			return false
		}
	}
	return true
}

// idFor derives a stable id, so reloading the catalogue updates images in
// place instead of adding copies.
func idFor(prefix, region string, e Entry) string {
	sum := sha256.Sum256([]byte(region + "\x00" + e.OwnerID + "\x00" + e.Name))
	return prefix + "-0" + hex.EncodeToString(sum[:])[:16]
}

// Image builds the image an entry describes in one region.
func (e Entry) Image(region string) *image.Image {
	created, _ := time.Parse(time.RFC3339, e.CreationDate)
	created = created.UTC()
	ena := e.EnaSupport
	del, enc := true, false
	size := e.VolumeSize
	if size == 0 {
		size = 8
	}
	img := &image.Image{
		Region:             region,
		ID:                 idFor("ami", region, e),
		OwnerID:            e.OwnerID,
		OwnerAlias:         e.OwnerAlias,
		Name:               e.Name,
		Description:        e.Description,
		State:              image.StateAvailable,
		CreationDate:       created,
		Architecture:       orDefault(e.Architecture, "x86_64"),
		ImageType:          "machine",
		Platform:           e.Platform,
		PlatformDetails:    orDefault(e.PlatformDetails, "Linux/UNIX"),
		UsageOperation:     orDefault(e.UsageOperation, "RunInstances"),
		RootDeviceName:     orDefault(e.RootDeviceName, "/dev/xvda"),
		RootDeviceType:     "ebs",
		VirtualizationType: "hvm",
		Hypervisor:         "xen",
		SriovNetSupport:    e.SriovNetSupport,
		EnaSupport:         &ena,
		BootMode:           e.BootMode,
		TpmSupport:         e.TpmSupport,
		ImdsSupport:        e.ImdsSupport,
		BlockDeviceMappings: []image.BlockDeviceMapping{{
			DeviceName: orDefault(e.RootDeviceName, "/dev/xvda"),
			Ebs: &image.EbsBlockDevice{SnapshotID: idFor("snap", region, e), VolumeSize: &size,
				VolumeType: orDefault(e.VolumeType, "gp3"), DeleteOnTermination: &del, Encrypted: &enc},
		}},
		DeregistrationProtection: "disabled",
	}
	alias := e.OwnerAlias
	if alias == "" {
		alias = e.OwnerID
	}
	img.Location = alias + "/" + e.Name
	for _, pc := range e.ProductCodes {
		img.ProductCodes = append(img.ProductCodes, image.ProductCode{Code: pc.Code, Type: orDefault(pc.Type, "marketplace")})
	}
	if !e.Private {
		img.LaunchPermissions = []image.LaunchPermission{image.Public}
		img.CapDeprecation() // EC2 deprecates public images after two years
	}
	return img
}

// Snapshot is the snapshot record of the image's root device in one
// region (spec ec2-snapshots §6.10): the image owner's, public unless the
// entry is private, completed since the image's creation, with the alias
// amazon only for Amazon's own; so CopyImage, CreateVolume and
// DescribeSnapshots --owner-ids amazon work on it as on EC2.
func (e Entry) Snapshot(region string) (*snapshot.Snapshot, []snapshot.Permission) {
	img := e.Image(region)
	alias := ""
	if e.OwnerAlias == "amazon" {
		alias = e.OwnerAlias
	}
	ebs := img.BlockDeviceMappings[0].Ebs
	snap := &snapshot.Snapshot{Region: region, ID: ebs.SnapshotID, OwnerID: e.OwnerID, OwnerAlias: alias,
		VolumeSize: *ebs.VolumeSize, State: snapshot.StateCompleted, StartTime: img.CreationDate, CompletedAt: img.CreationDate,
		Public: !e.Private}
	if e.Private {
		return snap, nil
	}
	return snap, []snapshot.Permission{{Group: snapshot.GroupAll}}
}

func orDefault(v, d string) string {
	if strings.TrimSpace(v) == "" {
		return d
	}
	return v
}

// Install writes the entries into each region, inserting new images and
// refreshing existing ones, with their snapshot records, in one
// transaction per region. Running it again changes nothing.
func Install(ctx context.Context, st image.Store, regions []string, es []Entry) error {
	for _, region := range regions {
		err := st.Update(ctx, func(tx image.Tx) error {
			for _, e := range es {
				img := e.Image(region)
				newSnap, err := installSnapshot(ctx, tx, e, region)
				if err != nil {
					return err
				}
				old, err := tx.Image(ctx, region, img.ID)
				switch {
				case errors.Is(err, resource.ErrNotFound):
					if err := tx.InsertImage(ctx, img); err != nil {
						return err
					}
				case err != nil:
					return err
				default:
					img.LastLaunchedTime = old.LastLaunchedTime
					// An image stored before its snapshot had a record is
					// written once more, so the index of snapshot
					// references knows it (DeleteSnapshot's InUse).
					if !newSnap && reflect.DeepEqual(old, img) {
						continue
					}
					if err := tx.UpdateImage(ctx, img); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("catalogue for %s: %w", region, err)
		}
	}
	return nil
}

// installSnapshot stores the entry's snapshot record in region unless it
// is there, and says whether it stored it.
func installSnapshot(ctx context.Context, tx image.Tx, e Entry, region string) (bool, error) {
	snap, perms := e.Snapshot(region)
	if _, err := tx.Snapshot(ctx, region, snap.ID); err == nil || !errors.Is(err, resource.ErrNotFound) {
		return false, err
	}
	if err := tx.InsertSnapshot(ctx, snap); err != nil {
		return false, err
	}
	if len(perms) > 0 {
		if err := tx.SetSnapshotPermissions(ctx, region, snap.ID, perms); err != nil {
			return false, err
		}
	}
	return true, nil
}
