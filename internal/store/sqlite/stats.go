package sqlite

import (
	"context"
	"fmt"
)

// CacheStats returns how many reads the read cache answered (hits) and how
// many it did not (misses), since Open; zeros when the cache is off.
func (s *Store) CacheStats() (hits, misses uint64) {
	if s.cache == nil {
		return 0, 0
	}
	return s.cache.Stats()
}

// ImagesPerRegion counts the stored images of each region, deregistered ones
// not yet purged included. It scans an index whose first column is the
// region (images_public), not the documents.
func (s *Store) ImagesPerRegion(ctx context.Context) (map[string]int64, error) {
	if s.isClosed.Load() {
		return nil, ErrClosed
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT region, count(*) FROM images GROUP BY region`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count images: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var r string
		var n int64
		if err := rows.Scan(&r, &n); err != nil {
			return nil, fmt.Errorf("sqlite: count images: %w", err)
		}
		out[r] = n
	}
	return out, rows.Err()
}
