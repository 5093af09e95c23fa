package sqlite

import (
	"context"
	"fmt"
)

// ExportScopes lists the regions that hold images, instances, volumes or
// snapshots, and the (region, account) pairs that hold tags: the leading
// columns of those tables' primary keys, so an export can walk each
// table as ranges of its primary key (dump.Export).
func (t *tx) ExportScopes(ctx context.Context) (regions []string, tagScopes [][2]string, err error) {
	ctx, err = t.dctx(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows, done, err := t.query(ctx, `SELECT region FROM images UNION SELECT region FROM instances
UNION SELECT region FROM volumes UNION SELECT region FROM snapshots ORDER BY 1`)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: export scopes: %w", err)
	}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			rows.Close()
			done()
			return nil, nil, fmt.Errorf("sqlite: export scopes: %w", err)
		}
		regions = append(regions, r)
	}
	err = rows.Err()
	rows.Close()
	done()
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: export scopes: %w", err)
	}
	rows, done, err = t.query(ctx, `SELECT DISTINCT region, account FROM tags ORDER BY region, account`)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: export scopes: %w", err)
	}
	defer done()
	defer rows.Close()
	for rows.Next() {
		var s [2]string
		if err := rows.Scan(&s[0], &s[1]); err != nil {
			return nil, nil, fmt.Errorf("sqlite: export scopes: %w", err)
		}
		tagScopes = append(tagScopes, s)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("sqlite: export scopes: %w", err)
	}
	return regions, tagScopes, nil
}
