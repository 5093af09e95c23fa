package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
)

// Statements built from record's column lists; $1 and $2 are the key.
var (
	instanceColumns   = record.List(record.InstanceColumns)
	insertInstanceSQL = `INSERT INTO instances (` + instanceColumns + `) VALUES (` + placeholders(1, len(record.InstanceColumns)) + `)
ON CONFLICT (region, instance_id) DO NOTHING`
	updateInstanceSQL = `UPDATE instances SET ` + record.Assign(record.InstanceColumns[len(record.InstanceKeyColumns):], len(record.InstanceKeyColumns)+1, placeholder) + `
WHERE region = $1 AND instance_id = $2`
)

func (t *tx) Instance(ctx context.Context, region, id string) (*instance.Instance, error) {
	if !matchable(region) || !matchable(id) {
		return nil, resource.ErrNotFound
	}
	inst, err := record.ScanInstance(t.tx.QueryRow(ctx, `SELECT `+instanceColumns+` FROM instances WHERE region = $1 AND instance_id = $2`, region, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, resource.ErrNotFound
	}
	if err != nil {
		return nil, t.fail(err, "instance %s", id)
	}
	return inst, nil
}

func (t *tx) InsertInstance(ctx context.Context, inst *instance.Instance) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	vals, err := record.InstanceValues(inst)
	if err != nil {
		return err
	}
	// ON CONFLICT DO NOTHING keeps the transaction usable (see InsertImage).
	tag, err := t.tx.Exec(ctx, insertInstanceSQL, vals...)
	if err != nil {
		return t.fail(err, "insert instance %s", inst.ID)
	}
	if tag.RowsAffected() == 0 {
		return resource.ErrExists
	}
	return nil
}

func (t *tx) UpdateInstance(ctx context.Context, inst *instance.Instance) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	vals, err := record.InstanceValues(inst)
	if err != nil {
		return err
	}
	tag, err := t.tx.Exec(ctx, updateInstanceSQL, vals...)
	if err != nil {
		return t.fail(err, "update instance %s", inst.ID)
	}
	if tag.RowsAffected() == 0 {
		return resource.ErrNotFound
	}
	return nil
}

// FindInstances returns the instances q selects, ordered by id (and region,
// when q spans every region).
func (t *tx) FindInstances(ctx context.Context, q instance.Query) ([]*instance.Instance, error) {
	var b queryBuilder
	b.sql.WriteString(`SELECT ` + instanceColumns + ` FROM instances WHERE true`)
	if q.Region != "" {
		if !matchable(q.Region) {
			return nil, nil
		}
		b.and(`region = ` + b.arg(q.Region))
	}
	if q.OwnerID != "" {
		if !matchable(q.OwnerID) {
			return nil, nil
		}
		b.and(`owner_id = ` + b.arg(q.OwnerID))
	}
	ids, ok := matchableOnly(q.IDs)
	if !ok {
		return nil, nil
	}
	if len(ids) > 0 {
		b.and(`instance_id = ANY(` + b.arg(ids) + `)`)
	}
	imageIDs, ok := matchableOnly(q.ImageIDs)
	if !ok {
		return nil, nil
	}
	if len(imageIDs) > 0 {
		b.and(`image_id = ANY(` + b.arg(imageIDs) + `)`)
	}
	reservations, ok := matchableOnly(q.ReservationIDs)
	if !ok {
		return nil, nil
	}
	if len(reservations) > 0 {
		b.and(`((doc::jsonb ->> 'reservationId') COLLATE "C") = ANY(` + b.arg(reservations) + `)`) // indexed (schema.go)
	}
	if q.AfterID != "" {
		b.and(`instance_id > ` + b.arg(q.AfterID))
	}
	b.sql.WriteString(` ORDER BY instance_id, region`)
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ` + b.arg(q.Limit))
	}
	rows, err := t.tx.Query(ctx, b.sql.String(), append([]any{searchMode}, b.args...)...)
	if err != nil {
		return nil, t.fail(err, "find instances")
	}
	defer rows.Close()
	var out []*instance.Instance
	for rows.Next() {
		inst, err := record.ScanInstance(rows)
		if err != nil {
			return nil, t.fail(err, "find instances")
		}
		out = append(out, inst)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, "find instances")
	}
	return out, nil
}
