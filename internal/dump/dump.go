// Package dump moves amigo's whole state in and out of a store as JSON
// lines: the backup format, and the way from one engine to another.
//
// Each line is one record: {"kind": "...", ...}. Kinds, in the order they
// are written: "header", "account" and "organization" (from the bootstrap
// directory, for the record: they live in the bootstrap file, not in the
// store, and import skips them), "setting", "image" (with its launch
// permissions), "tag", "instance", "client_token" (what a RunInstances
// ClientToken launched), "volume", "snapshot" (with its create-volume
// permissions), "event" (the audit trail's, oldest first). Records are
// sorted, so two exports of the same state are byte for byte identical.
package dump

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// Version is the format version written in the header.
const Version = 1

type record struct {
	Kind         string                `json:"kind"`
	Version      int                   `json:"version,omitempty"`
	Account      *accountRecord        `json:"account,omitempty"`
	Organization *account.Organization `json:"organization,omitempty"`
	Setting      *resource.Setting     `json:"setting,omitempty"`
	Image        *image.Image          `json:"image,omitempty"`
	Tag          *resource.ResourceTag `json:"tag,omitempty"`
	Instance     *instance.Instance    `json:"instance,omitempty"`
	ClientToken  *instance.TokenRecord `json:"client_token,omitempty"`
	Volume       *volume.Volume        `json:"volume,omitempty"`
	Snapshot     *snapshotRecord       `json:"snapshot,omitempty"`
	Event        *eventRecord          `json:"event,omitempty"`
}

// eventRecord is one audit event: its CloudTrail record, the resources it
// names and its time to the millisecond.
type eventRecord struct {
	TimeMillis int64            `json:"time_ms"`
	Resources  []audit.Resource `json:"resources"`
	Record     json.RawMessage  `json:"record"`
}

// snapshotRecord is a snapshot with its permissions, which the store
// keeps beside it.
type snapshotRecord struct {
	snapshot.Snapshot
	Permissions []snapshot.Permission `json:"permissions,omitempty"`
}

// bodyMissing reports a record whose kind names a body it lacks.
func bodyMissing(rec *record) bool {
	switch rec.Kind {
	case "setting":
		return rec.Setting == nil
	case "image":
		return rec.Image == nil
	case "tag":
		return rec.Tag == nil
	case "instance":
		return rec.Instance == nil
	case "client_token":
		return rec.ClientToken == nil
	case "volume":
		return rec.Volume == nil
	case "snapshot":
		return rec.Snapshot == nil
	case "event":
		return rec.Event == nil || len(rec.Event.Record) == 0
	}
	return false
}

type accountRecord struct {
	ID         string   `json:"id"`
	AccessKeys []string `json:"access_keys"` // ids only: secrets stay in the bootstrap file
	OrgID      string   `json:"org_id,omitempty"`
}

// Export writes the whole state of st (and dir's accounts, for the record)
// to w in one consistent snapshot.
func Export(ctx context.Context, st instance.Store, dir *account.Directory, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	write := func(r record) error { return enc.Encode(r) }
	if err := write(record{Kind: "header", Version: Version}); err != nil {
		return err
	}
	if dir != nil {
		for _, id := range dir.Accounts() {
			a, _ := dir.Account(id)
			ar := &accountRecord{ID: id, OrgID: a.OrgID, AccessKeys: []string{}}
			for _, k := range a.Keys {
				ar.AccessKeys = append(ar.AccessKeys, k.ID)
			}
			if err := write(record{Kind: "account", Account: ar}); err != nil {
				return err
			}
		}
		for _, o := range dir.Organizations() {
			o := o
			if err := write(record{Kind: "organization", Organization: &o}); err != nil {
				return err
			}
		}
	}
	err := st.ViewInstances(ctx, func(tx instance.Tx) error {
		settings, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		sort.Slice(settings, func(i, j int) bool {
			a, b := settings[i], settings[j]
			if a.Region != b.Region {
				return a.Region < b.Region
			}
			if a.Account != b.Account {
				return a.Account < b.Account
			}
			return a.Name < b.Name
		})
		for i := range settings {
			if err := write(record{Kind: "setting", Setting: &settings[i]}); err != nil {
				return err
			}
		}
		imgs, err := tx.FindImages(ctx, image.Query{IncludeDeregistered: true})
		if err != nil {
			return err
		}
		sort.Slice(imgs, func(i, j int) bool {
			if imgs[i].Region != imgs[j].Region {
				return imgs[i].Region < imgs[j].Region
			}
			return imgs[i].ID < imgs[j].ID
		})
		for _, img := range imgs {
			if err := write(record{Kind: "image", Image: img}); err != nil {
				return err
			}
		}
		tags, err := tx.ListTags(ctx, resource.TagQuery{})
		if err != nil {
			return err
		}
		sort.Slice(tags, func(i, j int) bool {
			a, b := tags[i], tags[j]
			if a.Region != b.Region {
				return a.Region < b.Region
			}
			if a.Account != b.Account {
				return a.Account < b.Account
			}
			if a.ResourceID != b.ResourceID {
				return a.ResourceID < b.ResourceID
			}
			return a.Key < b.Key
		})
		for i := range tags {
			if err := write(record{Kind: "tag", Tag: &tags[i]}); err != nil {
				return err
			}
		}
		insts, err := tx.FindInstances(ctx, instance.Query{})
		if err != nil {
			return err
		}
		sort.Slice(insts, func(i, j int) bool {
			if insts[i].Region != insts[j].Region {
				return insts[i].Region < insts[j].Region
			}
			return insts[i].ID < insts[j].ID
		})
		for _, inst := range insts {
			if err := write(record{Kind: "instance", Instance: inst}); err != nil {
				return err
			}
		}
		toks, err := tx.ClientTokens(ctx) // in key order
		if err != nil {
			return err
		}
		for _, tok := range toks {
			if err := write(record{Kind: "client_token", ClientToken: tok}); err != nil {
				return err
			}
		}
		return exportStorage(ctx, tx, write)
	})
	if err != nil {
		return err
	}
	if ast, ok := st.(audit.Store); ok {
		err := ast.ExportEvents(ctx, func(e *audit.Event) error {
			rec, err := e.Record()
			if err != nil {
				return err
			}
			return write(record{Kind: "event", Event: &eventRecord{TimeMillis: e.Time.UnixMilli(), Resources: e.Resources, Record: rec}})
		})
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Stats counts what Import loaded.
type Stats struct {
	Images, Tags, Settings, Instances, ClientTokens, Volumes, Snapshots, Events, Skipped int
}

// Import loads an export into st, which must hold no images yet. It reads
// the input twice: Check first (a *CheckError names every offending line and
// nothing is written), then the load, in batches, each batch one
// transaction. A reader that cannot seek is copied to a temporary file.
func Import(ctx context.Context, st instance.Store, r io.Reader) (Stats, error) {
	var stats Stats
	empty := true
	err := st.ViewInstances(ctx, func(tx instance.Tx) error {
		imgs, err := tx.FindImages(ctx, image.Query{IncludeDeregistered: true, Limit: 1})
		empty = len(imgs) == 0
		return err
	})
	if err != nil {
		return stats, err
	}
	if !empty {
		return stats, fmt.Errorf("import: the store already holds images; import needs an empty store")
	}
	// The whole file is checked before the first write, so a bad line
	// refuses the import instead of stopping it halfway.
	rs, start, done, err := rewindable(r)
	if err != nil {
		return stats, err
	}
	defer done()
	if err := Check(rs); err != nil {
		return stats, err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return stats, fmt.Errorf("import: rewinding the input: %w", err)
	}
	sc := bufio.NewScanner(rs)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var batch []record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		recs := batch
		batch = nil
		// Tags are written per resource, so gather them first.
		return st.UpdateInstances(ctx, func(tx instance.Tx) error {
			tags := map[[3]string][]resource.Tag{}
			var order [][3]string
			for _, rec := range recs {
				switch rec.Kind {
				case "setting":
					s := rec.Setting
					if err := tx.SetSetting(ctx, s.Region, s.Account, s.Name, s.Value); err != nil {
						return err
					}
				case "image":
					rec.Image.LaunchPermissions = distinct(rec.Image.LaunchPermissions)
					if err := tx.InsertImage(ctx, rec.Image); err != nil {
						return fmt.Errorf("image %s: %w", rec.Image.ID, err)
					}
				case "instance":
					if err := tx.InsertInstance(ctx, rec.Instance); err != nil {
						return fmt.Errorf("instance %s: %w", rec.Instance.ID, err)
					}
				case "client_token":
					if err := tx.PutClientToken(ctx, rec.ClientToken); err != nil {
						return fmt.Errorf("client token %s: %w", rec.ClientToken.Token, err)
					}
				case "volume":
					if err := tx.InsertVolume(ctx, rec.Volume); err != nil {
						return fmt.Errorf("volume %s: %w", rec.Volume.ID, err)
					}
				case "snapshot":
					sn := &rec.Snapshot.Snapshot
					if err := tx.InsertSnapshot(ctx, sn); err != nil {
						return fmt.Errorf("snapshot %s: %w", sn.ID, err)
					}
					if ps := rec.Snapshot.Permissions; len(ps) > 0 {
						if err := tx.SetSnapshotPermissions(ctx, sn.Region, sn.ID, distinct(ps)); err != nil {
							return fmt.Errorf("snapshot %s: %w", sn.ID, err)
						}
					}
				case "event":
					atx, ok := tx.(audit.Tx)
					if !ok {
						return fmt.Errorf("event: the store keeps no audit trail")
					}
					ev := rec.Event
					e, err := audit.FromRecord(0, time.UnixMilli(ev.TimeMillis).UTC(), ev.Record, ev.Resources)
					if err != nil {
						return fmt.Errorf("event: %w", err)
					}
					if err := atx.InsertEvent(ctx, e); err != nil {
						return fmt.Errorf("event %s: %w", e.ID, err)
					}
				case "tag":
					k := [3]string{rec.Tag.Region, rec.Tag.Account, rec.Tag.ResourceID}
					if _, ok := tags[k]; !ok {
						order = append(order, k)
					}
					tags[k] = withTag(tags[k], rec.Tag.Tag)
				}
			}
			for _, k := range order {
				existing, err := tx.Tags(ctx, k[0], k[1], []string{k[2]})
				if err != nil {
					return err
				}
				merged := slices.Clone(existing[k[2]]) // Tags' lists are read-only
				for _, t := range tags[k] {
					merged = withTag(merged, t)
				}
				if err := tx.SetTags(ctx, k[0], k[1], k[2], merged); err != nil {
					return err
				}
			}
			return nil
		})
	}
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return stats, fmt.Errorf("line %d: %w", line, err)
		}
		switch rec.Kind {
		case "header":
			if rec.Version != Version {
				return stats, fmt.Errorf("line %d: export format version %d, this amigo reads %d", line, rec.Version, Version)
			}
			continue
		case "account", "organization":
			stats.Skipped++
			continue
		case "setting":
			stats.Settings++
		case "image":
			stats.Images++
		case "tag":
			stats.Tags++
		case "instance":
			stats.Instances++
		case "client_token":
			stats.ClientTokens++
		case "volume":
			stats.Volumes++
		case "snapshot":
			stats.Snapshots++
		case "event":
			stats.Events++
		default:
			return stats, fmt.Errorf("line %d: unknown record kind %q", line, rec.Kind)
		}
		if bodyMissing(&rec) {
			return stats, fmt.Errorf("line %d: %s record without its body", line, rec.Kind)
		}
		batch = append(batch, rec)
		if len(batch) >= 2000 {
			if err := flush(); err != nil {
				return stats, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return stats, err
	}
	return stats, flush()
}

// image.Tx takes sets without repeats; an export never repeats an entry,
// but a file edited by hand may, and import keeps accepting it as before:
// a launch or create-volume permission once, a tag key with its last
// value.

// distinct returns ps without repeated entries, in their order.
func distinct[T comparable](ps []T) []T {
	out := ps[:0:0]
	for _, p := range ps {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// withTag returns tags with t set: its key's value replaced, or t added.
func withTag(tags []resource.Tag, t resource.Tag) []resource.Tag {
	for i := range tags {
		if tags[i].Key == t.Key {
			tags[i].Value = t.Value
			return tags
		}
	}
	return append(tags, t)
}

// exportStorage writes every volume, then every snapshot with its
// permissions, each sorted by region and id.
func exportStorage(ctx context.Context, tx instance.Tx, write func(record) error) error {
	vols, err := tx.FindVolumes(ctx, volume.Query{})
	if err != nil {
		return err
	}
	sort.Slice(vols, func(i, j int) bool {
		if vols[i].Region != vols[j].Region {
			return vols[i].Region < vols[j].Region
		}
		return vols[i].ID < vols[j].ID
	})
	for _, v := range vols {
		if err := write(record{Kind: "volume", Volume: v}); err != nil {
			return err
		}
	}
	snaps, err := tx.FindSnapshots(ctx, snapshot.Query{})
	if err != nil {
		return err
	}
	sort.Slice(snaps, func(i, j int) bool {
		if snaps[i].Region != snaps[j].Region {
			return snaps[i].Region < snaps[j].Region
		}
		return snaps[i].ID < snaps[j].ID
	})
	for _, sn := range snaps {
		perms, err := tx.SnapshotPermissions(ctx, sn.Region, []string{sn.ID})
		if err != nil {
			return err
		}
		if err := write(record{Kind: "snapshot", Snapshot: &snapshotRecord{Snapshot: *sn, Permissions: perms[sn.ID]}}); err != nil {
			return err
		}
	}
	return nil
}
