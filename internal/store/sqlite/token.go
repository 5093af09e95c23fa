package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// ClientToken returns the record of a RunInstances client token.
func (t *tx) ClientToken(ctx context.Context, region, account, token, zone string) (*instance.TokenRecord, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	rec := &instance.TokenRecord{Region: region, Account: account, Token: token, Zone: zone}
	var ids string
	var created int64
	err = t.queryRow(ctx, `SELECT fingerprint, reservation_id, instance_ids, created_at FROM client_tokens
WHERE region = ? AND account = ? AND token = ? AND zone = ?`, []any{region, account, token, zone},
		&rec.Fingerprint, &rec.ReservationID, &ids, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, resource.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: client token: %w", err)
	}
	rec.InstanceIDs = strings.Fields(ids)
	rec.CreatedAt = time.UnixMilli(created).UTC()
	return rec, nil
}

// PutClientToken stores a client token's record, replacing an older one.
func (t *tx) PutClientToken(ctx context.Context, rec *instance.TokenRecord) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO client_tokens (region, account, token, zone, fingerprint, reservation_id, instance_ids, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (region, account, token, zone) DO UPDATE SET fingerprint = excluded.fingerprint,
	reservation_id = excluded.reservation_id, instance_ids = excluded.instance_ids, created_at = excluded.created_at`,
		rec.Region, rec.Account, rec.Token, rec.Zone, rec.Fingerprint, rec.ReservationID,
		strings.Join(rec.InstanceIDs, " "), rec.CreatedAt.UnixMilli()); err != nil {
		return fmt.Errorf("sqlite: put client token: %w", err)
	}
	return nil
}

// ClientTokens returns every client token's record (export).
func (t *tx) ClientTokens(ctx context.Context) ([]*instance.TokenRecord, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	rows, done, err := t.query(ctx, `SELECT region, account, token, zone, fingerprint, reservation_id, instance_ids, created_at
FROM client_tokens ORDER BY region, account, token, zone`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: client tokens: %w", err)
	}
	defer done()
	defer rows.Close()
	var out []*instance.TokenRecord
	for rows.Next() {
		rec := &instance.TokenRecord{}
		var ids string
		var created int64
		if err := rows.Scan(&rec.Region, &rec.Account, &rec.Token, &rec.Zone, &rec.Fingerprint, &rec.ReservationID, &ids, &created); err != nil {
			return nil, fmt.Errorf("sqlite: client tokens: %w", err)
		}
		rec.InstanceIDs = strings.Fields(ids)
		rec.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: client tokens: %w", err)
	}
	return out, nil
}
