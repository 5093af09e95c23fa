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

// instanceColumns are the columns record.ScanInstance reads, in order.
var instanceColumns = record.List(record.InstanceColumns)

// updateInstanceSQL rewrites every column of one instance.
var updateInstanceSQL = `UPDATE instances SET ` + record.Assign(record.InstanceColumns[len(record.InstanceKeyColumns):], 1, placeholder) + `
WHERE region = ? AND instance_id = ?`

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
		if inst, err = record.ScanInstance(rows); err == nil {
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
	vals, err := record.InstanceValues(inst)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO instances (`+instanceColumns+`) VALUES (`+placeholders(len(vals))+`)`, vals...); err != nil {
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
	vals, err := record.InstanceValues(inst)
	if err != nil {
		return err
	}
	key := len(record.InstanceKeyColumns)
	res, err := t.exec(ctx, updateInstanceSQL, append(vals[key:], vals[:key]...)...)
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
	if ids := padStrings(dedupe(q.ReservationIDs)); len(ids) > 0 {
		b.and(`json_extract(doc, '$.reservationId') IN (` + placeholders(len(ids)) + `)`) // indexed (schema.go)
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
		inst, err := record.ScanInstance(rows)
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
