package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The README's single test command covers both engines: this test runs the
// whole end-to-end suite again, in a child process, on PostgreSQL.
func TestSuiteOnPostgres(t *testing.T) {
	if onPostgres() {
		t.Skip("already on PostgreSQL")
	}
	if testing.Short() {
		t.Skip("runs the suite a second time")
	}
	args := []string{"-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), engineEnv+"=postgres")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("suite on PostgreSQL failed: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "postgres binaries not found") {
		t.Fatalf("PostgreSQL suite skipped:\n%s", out)
	}
	t.Logf("suite passed on PostgreSQL")
}
