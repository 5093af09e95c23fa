package sqlite

import (
	"context"
	"fmt"
	"maps"

	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
)

func (t *tx) Tags(ctx context.Context, region, account string, resourceIDs []string) (map[string][]resource.Tag, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.rc != nil {
		out := make(map[string][]resource.Tag, len(resourceIDs))
		var miss []string
		for _, id := range resourceIDs {
			if tags, ok := t.rc.Tags(region, account, id); !ok {
				miss = append(miss, id)
			} else if len(tags) > 0 {
				out[id] = tags // shared: Tags' lists are read-only
			}
		}
		if len(miss) == 0 {
			return out, nil
		}
		miss = dedupe(miss)
		fetched, err := t.tagsSQL(ctx, region, account, miss)
		if err != nil {
			return nil, err
		}
		if t.rc.RoomFor(len(miss)) {
			t.rc.PutTags(t.seen, region, account, miss, fetched)
		}
		maps.Copy(out, fetched)
		return out, nil
	}
	return t.tagsSQL(ctx, region, account, dedupe(resourceIDs))
}

// tagsSQL is Tags for distinct ids, read from SQLite.
func (t *tx) tagsSQL(ctx context.Context, region, account string, ids []string) (map[string][]resource.Tag, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]resource.Tag)
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxParams)]
		ids = ids[len(chunk):]
		chunk = padStrings(chunk)
		args := make([]any, 0, len(chunk)+2)
		args = append(args, region, account)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, done, err := t.query(ctx, `SELECT resource_id, key, value FROM tags
WHERE region = ? AND account = ? AND resource_id IN (`+placeholders(len(chunk))+`) ORDER BY resource_id, key`, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: tags: %w", err)
		}
		err = func() error {
			defer done()
			defer rows.Close()
			for rows.Next() {
				var id string
				var tag resource.Tag
				if err := rows.Scan(&id, &tag.Key, &tag.Value); err != nil {
					return err
				}
				out[id] = append(out[id], tag)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("sqlite: tags: %w", err)
		}
	}
	return out, nil
}

func (t *tx) SetTags(ctx context.Context, region, account, resourceID string, tags []resource.Tag) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	t.touch(readcache.Invalidation{Res: readcache.Key{Region: region, ID: resourceID}, Tags: true})
	if _, err := t.exec(ctx, `DELETE FROM tags WHERE region = ? AND account = ? AND resource_id = ?`,
		region, account, resourceID); err != nil {
		return fmt.Errorf("sqlite: set tags of %s: %w", resourceID, err)
	}
	if len(tags) == 0 {
		return nil
	}
	// One cached single-row insert per tag rather than a multi-row
	// statement whose text depends on the tag count: the writer's
	// statements run on its own connection, so this costs no round trips.
	// Keys are distinct (image.Tx).
	for _, tag := range tags {
		if _, err := t.exec(ctx, `INSERT INTO tags (region, account, resource_id, key, value) VALUES (?, ?, ?, ?, ?)`,
			region, account, resourceID, tag.Key, tag.Value); err != nil {
			return fmt.Errorf("sqlite: set tags of %s: %w", resourceID, err)
		}
	}
	return nil
}

// ListTags returns the tags q selects, ordered by resource id and key (then
// region and account, which only an export spanning several sees). With
// region and account given, the walk is the primary key's.
func (t *tx) ListTags(ctx context.Context, q resource.TagQuery) ([]resource.ResourceTag, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	query, args := listTagsQuery(q)
	rows, done, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tags: %w", err)
	}
	defer done()
	defer rows.Close()
	var out []resource.ResourceTag
	for rows.Next() {
		var rt resource.ResourceTag
		if err := rows.Scan(&rt.Region, &rt.Account, &rt.ResourceID, &rt.Key, &rt.Value); err != nil {
			return nil, fmt.Errorf("sqlite: list tags: %w", err)
		}
		out = append(out, rt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tags: %w", err)
	}
	return out, nil
}

// listTagsQuery turns q into one SELECT over tags in ListTags order.
func listTagsQuery(q resource.TagQuery) (string, []any) {
	var b queryBuilder
	b.sql.WriteString(`SELECT region, account, resource_id, key, value FROM tags WHERE 1 = 1`)
	if q.Region != "" {
		b.and(`region = ?`, q.Region)
	}
	if q.Account != "" {
		b.and(`account = ?`, q.Account)
	}
	if ids := padStrings(dedupe(q.ResourceIDs)); len(ids) > 0 {
		b.and(`resource_id IN (` + placeholders(len(ids)) + `)`)
		b.addStrings(ids)
	}
	if keys := padStrings(dedupe(q.Keys)); len(keys) > 0 {
		b.and(`key IN (` + placeholders(len(keys)) + `)`)
		b.addStrings(keys)
	}
	if q.AfterResourceID != "" || q.AfterKey != "" {
		b.and(`(resource_id, key) > (?, ?)`, q.AfterResourceID, q.AfterKey)
	}
	b.sql.WriteString(` ORDER BY resource_id, key, region, account`)
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ?`)
		b.args = append(b.args, q.Limit)
	}
	return b.sql.String(), b.args
}
