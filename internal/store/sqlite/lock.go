package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

var errInUse = errors.New("is in use")

// lockFile takes an exclusive advisory lock on path+"-lock", held until the
// returned file is closed (or the process dies). The read cache is exact
// only while one Store owns every write to the database, so a second amigo
// process on the same file is refused up front instead of serving stale
// answers; PostgreSQL is the store for several processes.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path+"-lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sqlite: %s %w by another amigo process or store (one process serves a SQLite file; use PostgreSQL for several)", path, errInUse)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	return f, nil
}
