package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ImageIDAfter walks the primary key's index (region, image_id): an
// index-only scan of n entries where the visibility map allows.
func (t *tx) ImageIDAfter(ctx context.Context, region, after string, n int) (string, error) {
	if n < 1 {
		return "", fmt.Errorf("postgres: image id after %q: n = %d, want ≥ 1", after, n)
	}
	if !matchable(region) || !matchable(after) {
		return "", nil // no bound: the caller's range reaches to the end
	}
	var id string
	err := t.tx.QueryRow(ctx, `SELECT image_id FROM images WHERE region = $1 AND image_id > $2
ORDER BY image_id LIMIT 1 OFFSET $3`, region, after, n-1).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", t.fail(err, "image id after %q", after)
	}
	return id, nil
}
