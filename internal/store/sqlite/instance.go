package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
)

// instanceColumns are the columns scanInstance reads, in order.
const instanceColumns = `region, instance_id, owner_id, image_id, state, doc`

func scanInstance(rows interface{ Scan(...any) error }) (*instance.Instance, error) {
	inst := &instance.Instance{}
	var doc []byte
	if err := rows.Scan(&inst.Region, &inst.ID, &inst.OwnerID, &inst.ImageID, &inst.State, &doc); err != nil {
		return nil, err
	}
	if err := record.DecodeInstance(doc, inst); err != nil {
		return nil, err
	}
	return inst, nil
}

func (t *tx) Instance(ctx context.Context, region, id string) (*instance.Instance, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	rows, done, err := t.query(ctx, `SELECT `+instanceColumns+` FROM instances WHERE region = ? AND instance_id = ?`, region, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: instance %s: %w", id, err)
	}
	defer done()
	defer rows.Close()
	if !rows.Next() {
		err = rows.Err()
		if err == nil {
			err = sql.ErrNoRows
		}
	} else {
		var inst *instance.Instance
		if inst, err = scanInstance(rows); err == nil {
			return inst, nil
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, resource.ErrNotFound
	}
	return nil, fmt.Errorf("sqlite: instance %s: %w", id, err)
}

func (t *tx) InsertInstance(ctx context.Context, inst *instance.Instance) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	doc, err := record.EncodeInstance(inst)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO instances (`+instanceColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		inst.Region, inst.ID, inst.OwnerID, inst.ImageID, inst.State, doc); err != nil {
		if isDuplicate(err) {
			return resource.ErrExists
		}
		return fmt.Errorf("sqlite: insert instance %s: %w", inst.ID, err)
	}
	return nil
}

func (t *tx) UpdateInstance(ctx context.Context, inst *instance.Instance) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	doc, err := record.EncodeInstance(inst)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE instances SET owner_id = ?, image_id = ?, state = ?, doc = ?
WHERE region = ? AND instance_id = ?`, inst.OwnerID, inst.ImageID, inst.State, doc, inst.Region, inst.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update instance %s: %w", inst.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update instance %s: %w", inst.ID, err)
	} else if n == 0 {
		return resource.ErrNotFound
	}
	return nil
}

// FindInstances returns the instances q selects, ordered by id (and region,
// when q spans every region).
func (t *tx) FindInstances(ctx context.Context, q instance.Query) ([]*instance.Instance, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	var b queryBuilder
	b.sql.WriteString(`SELECT ` + instanceColumns + ` FROM instances WHERE 1 = 1`)
	if q.Region != "" {
		b.and(`region = ?`, q.Region)
	}
	if q.OwnerID != "" {
		b.and(`owner_id = ?`, q.OwnerID)
	}
	if ids := padStrings(dedupe(q.IDs)); len(ids) > 0 {
		b.and(`instance_id IN (` + placeholders(len(ids)) + `)`)
		b.addStrings(ids)
	}
	if ids := padStrings(dedupe(q.ImageIDs)); len(ids) > 0 {
		b.and(`image_id IN (` + placeholders(len(ids)) + `)`)
		b.addStrings(ids)
	}
	if q.AfterID != "" {
		b.and(`instance_id > ?`, q.AfterID)
	}
	b.sql.WriteString(` ORDER BY instance_id, region`)
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ?`)
		b.args = append(b.args, q.Limit)
	}
	rows, done, err := t.query(ctx, b.sql.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find instances: %w", err)
	}
	defer done()
	defer rows.Close()
	var out []*instance.Instance
	for rows.Next() {
		inst, err := scanInstance(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: find instances: %w", err)
		}
		out = append(out, inst)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find instances: %w", err)
	}
	return out, nil
}
