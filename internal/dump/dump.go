// Package dump moves amigo's whole state in and out of a store as JSON
// lines: the backup format, and the way from one engine to another.
//
// Each line is one record: {"kind": "...", ...}. Kinds, in the order they
// are written: "header", "account" and "organization" (from the bootstrap
// directory, for the record: they live in the bootstrap file, not in the
// store, and import skips them), "setting", "image" (with its launch
// permissions), "tag", "instance", "client_token" (what a RunInstances
// ClientToken launched), "volume", "snapshot" (with its create-volume
// permissions), "outbox" (the undelivered outbound messages, in the order
// of writing), "event" (the audit trail's, oldest first). Records are
// sorted — each kind by region and id (tags by region, account, resource
// id and key) — so two exports of the same state
// are byte for byte identical. Export reads each kind a batch at a time
// and import reads the file line by line (twice: Check, then the load),
// so neither holds more than a batch of records whatever the store's size.
package dump

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/outbox"
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
	Outbox       *outboxRecord         `json:"outbox,omitempty"`
}

// outboxRecord is one undelivered outbound message (internal/outbox). Its
// failed attempts are not carried: the importing store delivers it as a
// new message, from a fresh backoff, and gives it up as the exporting one
// would have, Options.MaxAge after Created.
type outboxRecord struct {
	ID              string `json:"id"`
	Topic           string `json:"topic"`
	Key             string `json:"key"`
	NotBeforeMillis int64  `json:"not_before_ms"`
	CreatedMillis   int64  `json:"created_ms"`
	Body            []byte `json:"body"`
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
	case "outbox":
		return rec.Outbox == nil || rec.Outbox.ID == "" || rec.Outbox.Topic == ""
	}
	return false
}

type accountRecord struct {
	ID         string   `json:"id"`
	AccessKeys []string `json:"access_keys"` // ids only: secrets stay in the bootstrap file
	OrgID      string   `json:"org_id,omitempty"`
}

// Export writes the whole state of st (and dir's accounts, for the record)
// to w in one consistent snapshot (one read transaction; the audit trail
// and the outbox after it), reading each kind exportBatch records at a
// time.
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
		sc, ok := tx.(scoper)
		if !ok {
			return fmt.Errorf("export: the store cannot list its regions")
		}
		regions, tagScopes, err := sc.ExportScopes(ctx)
		if err != nil {
			return err
		}
		for _, region := range regions {
			err := walk(func(after string, limit int) ([]*image.Image, error) {
				return tx.FindImages(ctx, image.Query{Region: region, IncludeDeregistered: true, AfterID: after, Limit: limit, Bulk: true})
			}, func(img *image.Image) string { return img.ID }, func(img *image.Image) error {
				return write(record{Kind: "image", Image: img})
			})
			if err != nil {
				return err
			}
		}
		for _, scope := range tagScopes {
			err := walk(func(after string, limit int) ([]resource.ResourceTag, error) {
				q := resource.TagQuery{Region: scope[0], Account: scope[1], Limit: limit}
				q.AfterResourceID, q.AfterKey, _ = strings.Cut(after, "\x00")
				return tx.ListTags(ctx, q)
			}, func(t resource.ResourceTag) string { return t.ResourceID + "\x00" + t.Key }, func(t resource.ResourceTag) error {
				return write(record{Kind: "tag", Tag: &t})
			})
			if err != nil {
				return err
			}
		}
		for _, region := range regions {
			err := walk(func(after string, limit int) ([]*instance.Instance, error) {
				return tx.FindInstances(ctx, instance.Query{Region: region, AfterID: after, Limit: limit})
			}, func(inst *instance.Instance) string { return inst.ID }, func(inst *instance.Instance) error {
				return write(record{Kind: "instance", Instance: inst})
			})
			if err != nil {
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
		if err := exportStorage(ctx, tx, regions, write); err != nil {
			return err
		}
		return exportOutbox(ctx, tx, write)
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
	Images, Tags, Settings, Instances, ClientTokens, Volumes, Snapshots, Events, Outbox, Skipped int
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
				case "outbox":
					o := rec.Outbox
					m := outbox.Message{ID: o.ID, Topic: o.Topic, Key: o.Key, Body: o.Body,
						NotBefore: time.UnixMilli(o.NotBeforeMillis).UTC(), Created: time.UnixMilli(o.CreatedMillis).UTC()}
					if err := tx.Enqueue(ctx, m); err != nil {
						return fmt.Errorf("outbox message %s: %w", o.ID, err)
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
		case "outbox":
			stats.Outbox++
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
// permissions, each by region and id, a batch at a time.
func exportStorage(ctx context.Context, tx instance.Tx, regions []string, write func(record) error) error {
	for _, region := range regions {
		err := walk(func(after string, limit int) ([]*volume.Volume, error) {
			return tx.FindVolumes(ctx, volume.Query{Region: region, AfterID: after, Limit: limit})
		}, func(v *volume.Volume) string { return v.ID }, func(v *volume.Volume) error {
			return write(record{Kind: "volume", Volume: v})
		})
		if err != nil {
			return err
		}
	}
	for _, region := range regions {
		var perms map[string][]snapshot.Permission // the batch's
		err := walk(func(after string, limit int) ([]*snapshot.Snapshot, error) {
			snaps, err := tx.FindSnapshots(ctx, snapshot.Query{Region: region, AfterID: after, Limit: limit})
			if err != nil || len(snaps) == 0 {
				return nil, err
			}
			ids := make([]string, len(snaps))
			for i, sn := range snaps {
				ids[i] = sn.ID
			}
			perms, err = tx.SnapshotPermissions(ctx, region, ids)
			return snaps, err
		}, func(sn *snapshot.Snapshot) string { return sn.ID }, func(sn *snapshot.Snapshot) error {
			return write(record{Kind: "snapshot", Snapshot: &snapshotRecord{Snapshot: *sn, Permissions: perms[sn.ID]}})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// scoper is the store transaction's list of the primary keys' leading
// columns (ExportScopes on both engines): an export walks every table as
// ranges of its primary key, region by region (tags: region and account),
// each range a batch at a time, so a batch costs an index range, not a
// scan and sort of the table.
type scoper interface {
	ExportScopes(ctx context.Context) (regions []string, tagScopes [][2]string, err error)
}

// exportOutbox writes the undelivered outbound messages in the order they
// were written, so an import enqueues them in that order (delivery keeps
// each key's order). It runs in the export's transaction: the messages
// are exactly those of the state exported.
func exportOutbox(ctx context.Context, tx instance.Tx, write func(record) error) error {
	l, ok := tx.(outbox.Lister)
	if !ok {
		return fmt.Errorf("export: the store cannot list its outbox")
	}
	after := int64(0)
	for {
		ms, err := l.PendingMessages(ctx, after, exportBatch)
		if err != nil {
			return err
		}
		for _, m := range ms {
			o := &outboxRecord{ID: m.ID, Topic: m.Topic, Key: m.Key, NotBeforeMillis: m.NotBefore.UnixMilli(),
				CreatedMillis: m.Created.UnixMilli(), Body: m.Body}
			if err := write(record{Kind: "outbox", Outbox: o}); err != nil {
				return err
			}
		}
		if len(ms) < exportBatch {
			return nil
		}
		after = ms[len(ms)-1].Seq
	}
}

// exportBatch is how many records of one kind an export reads at a time:
// its memory is one batch, however large the store.
var exportBatch = 1000 // a variable for tests

// walk writes every record of one range of keys in key order, exportBatch
// at a time: fetch returns up to limit records whose keys are after
// after, in key order.
func walk[T any](fetch func(after string, limit int) ([]T, error), key func(T) string, emit func(T) error) error {
	after := ""
	for {
		batch, err := fetch(after, exportBatch)
		if err != nil {
			return err
		}
		for _, t := range batch {
			if err := emit(t); err != nil {
				return err
			}
		}
		if len(batch) < exportBatch {
			return nil
		}
		after = key(batch[len(batch)-1])
	}
}
