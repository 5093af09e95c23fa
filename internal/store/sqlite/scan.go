package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ImageIDAfter walks the primary key's index (region, image_id) alone: n
// entries, no table rows.
func (t *tx) ImageIDAfter(ctx context.Context, region, after string, n int) (string, error) {
	if n < 1 {
		return "", fmt.Errorf("sqlite: image id after %q: n = %d, want ≥ 1", after, n)
	}
	ctx, err := t.dctx(ctx)
	if err != nil {
		return "", err
	}
	var id string
	err = t.queryRow(ctx, `SELECT image_id FROM images WHERE region = ? AND image_id > ?
ORDER BY image_id LIMIT 1 OFFSET ?`, []any{region, after, n - 1}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: image id after %q: %w", after, err)
	}
	return id, nil
}
