package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
)

func (t *tx) Setting(ctx context.Context, region, account, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	k := readcache.SettingKey{Region: region, Account: account, Name: name}
	v, ok := readcache.SettingVal{}, false
	if t.rc != nil {
		v, ok = t.rc.Setting(k)
	}
	if !ok {
		ctx, err := t.dctx(ctx)
		if err != nil {
			return "", err
		}
		err = t.queryRow(ctx, `SELECT value FROM settings WHERE region = ? AND account = ? AND name = ?`,
			[]any{region, account, name}, &v.Value)
		switch {
		case err == nil:
			v.Found = true
		case !errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("sqlite: setting %s: %w", name, err)
		}
		if t.rc != nil {
			t.rc.PutSetting(t.seen, k, v)
		}
	}
	if !v.Found {
		return "", resource.ErrNotFound
	}
	return v.Value, nil
}

func (t *tx) SetSetting(ctx context.Context, region, account, name, value string) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	t.touch(readcache.Invalidation{Setting: &readcache.SettingKey{Region: region, Account: account, Name: name}})
	if _, err := t.exec(ctx, `INSERT INTO settings (region, account, name, value) VALUES (?, ?, ?, ?)
ON CONFLICT (region, account, name) DO UPDATE SET value = excluded.value`, region, account, name, value); err != nil {
		return fmt.Errorf("sqlite: set setting %s: %w", name, err)
	}
	return nil
}

// Settings returns every setting, ordered by region, account and name.
func (t *tx) Settings(ctx context.Context) ([]resource.Setting, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	rows, done, err := t.query(ctx, `SELECT region, account, name, value FROM settings ORDER BY region, account, name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: settings: %w", err)
	}
	defer done()
	defer rows.Close()
	var out []resource.Setting
	for rows.Next() {
		var st resource.Setting
		if err := rows.Scan(&st.Region, &st.Account, &st.Name, &st.Value); err != nil {
			return nil, fmt.Errorf("sqlite: settings: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: settings: %w", err)
	}
	return out, nil
}
