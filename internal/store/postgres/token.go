package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// ClientToken returns the record of a RunInstances client token.
func (t *tx) ClientToken(ctx context.Context, region, account, token, zone string) (*instance.TokenRecord, error) {
	if !matchable(region) || !matchable(account) || !matchable(token) || !matchable(zone) {
		return nil, resource.ErrNotFound
	}
	rec := &instance.TokenRecord{Region: region, Account: account, Token: token, Zone: zone}
	var ids string
	var created int64
	err := t.tx.QueryRow(ctx, `SELECT fingerprint, reservation_id, instance_ids, created_at FROM client_tokens
WHERE region = $1 AND account = $2 AND token = $3 AND zone = $4`, region, account, token, zone).
		Scan(&rec.Fingerprint, &rec.ReservationID, &ids, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, resource.ErrNotFound
	}
	if err != nil {
		return nil, t.fail(err, "client token")
	}
	rec.InstanceIDs = strings.Fields(ids)
	rec.CreatedAt = time.UnixMilli(created).UTC()
	return rec, nil
}

// PutClientToken stores a client token's record, replacing an older one.
// Two launches racing on one token both read "none": serializable
// isolation fails one of them, which is retried and finds the other's
// record.
func (t *tx) PutClientToken(ctx context.Context, rec *instance.TokenRecord) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO client_tokens (region, account, token, zone, fingerprint, reservation_id, instance_ids, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (region, account, token, zone) DO UPDATE SET fingerprint = excluded.fingerprint,
	reservation_id = excluded.reservation_id, instance_ids = excluded.instance_ids, created_at = excluded.created_at`,
		rec.Region, rec.Account, rec.Token, rec.Zone, rec.Fingerprint, rec.ReservationID,
		strings.Join(rec.InstanceIDs, " "), rec.CreatedAt.UnixMilli()); err != nil {
		return t.fail(err, "put client token")
	}
	return nil
}

// ClientTokens returns every client token's record (export).
func (t *tx) ClientTokens(ctx context.Context) ([]*instance.TokenRecord, error) {
	rows, err := t.tx.Query(ctx, `SELECT region, account, token, zone, fingerprint, reservation_id, instance_ids, created_at
FROM client_tokens ORDER BY region, account, token, zone`)
	if err != nil {
		return nil, t.fail(err, "client tokens")
	}
	defer rows.Close()
	var out []*instance.TokenRecord
	for rows.Next() {
		rec := &instance.TokenRecord{}
		var ids string
		var created int64
		if err := rows.Scan(&rec.Region, &rec.Account, &rec.Token, &rec.Zone, &rec.Fingerprint, &rec.ReservationID, &ids, &created); err != nil {
			return nil, t.fail(err, "client tokens")
		}
		rec.InstanceIDs = strings.Fields(ids)
		rec.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, "client tokens")
	}
	return out, nil
}
