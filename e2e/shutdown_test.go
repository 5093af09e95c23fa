package e2e

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMWithSlowClients: clients that trickle a body or never finish
// their headers must not hold the exit: after the drain time the remaining
// connections are closed and amigo exits 0.
func TestSIGTERMWithSlowClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := buildAmigo()
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data", t.TempDir(), "--config", "testdata/accounts.yaml",
		"--log-level", "warn", "--catalog", "none", "--shutdown-timeout", "1s")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/_amigo/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("amigo did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range 6 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if i%2 == 0 { // a body that will take forever
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nAction=", addr)
		} else { // headers that never end
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\n", addr)
		}
	}
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("amigo exited with %v after SIGTERM, want 0", err)
		} else if err != nil {
			t.Fatal(err)
		}
		t.Logf("exited 0 after %s", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("amigo still running 10 s after SIGTERM with a 1 s drain")
	}
}
