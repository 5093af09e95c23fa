package postgres

import (
	"context"
	"fmt"
)

// ImagesPerRegion counts the stored images of each region, deregistered ones
// not yet purged included.
func (s *Store) ImagesPerRegion(ctx context.Context) (map[string]int64, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT region, count(*) FROM images GROUP BY region`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("postgres: count images: %w", err))
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var r string
		var n int64
		if err := rows.Scan(&r, &n); err != nil {
			return nil, fmt.Errorf("postgres: count images: %w", err)
		}
		out[r] = n
	}
	return out, rows.Err()
}
