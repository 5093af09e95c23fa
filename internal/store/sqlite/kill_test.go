package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
)

// TestKillNine runs a writer in a child process, kills it with SIGKILL
// mid-stream and checks that every update it had acknowledged is in the
// reopened file.
func TestKillNine(t *testing.T) {
	if path := os.Getenv("AMIGO_SQLITE_KILL_CHILD"); path != "" {
		killChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "amigo.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillNine$")
	cmd.Env = append(os.Environ(), "AMIGO_SQLITE_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(acked) < 200 {
		if id, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked = append(acked, id)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) == 0 {
		t.Fatal("child acknowledged nothing")
	}

	s := openTest(t, path, DefaultOptions())
	defer s.Close()
	err = s.View(t.Context(), func(tx image.Tx) error {
		for _, id := range acked {
			if _, err := tx.Image(t.Context(), "r", id); err != nil {
				t.Errorf("acknowledged image %s: %v", id, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged updates survived SIGKILL", len(acked))
}

// killChild writes images from several goroutines until it is killed,
// printing each id once Update has returned. The parent's reads pace it.
func killChild(path string) {
	s, err := Open(path, DefaultOptions())
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	acks := make(chan string)
	for g := range 8 {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("ami-%08x%09x", g, i)
				err := s.Update(ctx, func(tx image.Tx) error {
					return tx.InsertImage(ctx, &image.Image{Region: "r", ID: id, OwnerID: "o", State: image.StateAvailable})
				})
				if err != nil {
					fmt.Println("update:", err)
					os.Exit(1)
				}
				acks <- id
			}
		}()
	}
	w := bufio.NewWriter(os.Stdout)
	for id := range acks {
		fmt.Fprintln(w, "acked", id)
		w.Flush()
	}
}
