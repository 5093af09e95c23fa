package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
)

// TestStmtCacheSharesPaddedLists: id lists of lengths 3 and 4 share one
// statement text, and the cache stays bounded by evicting.
func TestStmtCacheSharesPaddedLists(t *testing.T) {
	if q3, _ := findQuery(image.Query{Region: "r", IDs: []string{"a", "b", "c"}}, record.ImageColumns); q3 != mustQuery(image.Query{Region: "r", IDs: []string{"a", "b", "c", "d"}}) {
		t.Errorf("3 and 4 ids prepare different statements")
	}
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	s.rc.max = 2
	for range 3 {
		for _, n := range []int{1, 2, 3, 5} {
			ids := make([]string, n)
			for i := range ids {
				ids[i] = benchID(i)
			}
			err := s.View(t.Context(), func(tx image.Tx) error {
				_, err := tx.FindImages(t.Context(), image.Query{Region: "r", IDs: ids})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(10 * time.Millisecond) // background prepares
	}
	if n := s.rc.len(); n == 0 || n > 2 {
		t.Errorf("%d cached statements, want 1..2", n)
	}
}

func mustQuery(q image.Query) string {
	s, _ := findQuery(q, record.ImageColumns)
	return s
}
