package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
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
	// -test.v so that skips and their reasons are in the output.
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), engineEnv+"=postgres")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("suite on PostgreSQL failed: %v\n%s", err, summary(string(out)))
	}
	n, err := checkPostgresRun(string(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, summary(string(out)))
	}
	t.Logf("suite passed on PostgreSQL (%d databases)", n)
}

// checkPostgresRun reads the verbose output of a PostgreSQL pass: it must
// have passed, used PostgreSQL (the marker TestMain prints counts the
// databases tests got) and skipped nothing for want of PostgreSQL.
func checkPostgresRun(out string) (int, error) {
	if !strings.Contains(out, "\nPASS\n") && !strings.HasPrefix(out, "PASS\n") {
		return 0, errors.New("suite on PostgreSQL did not pass")
	}
	if strings.Contains(out, "postgres binaries not found") {
		return 0, errors.New("suite on PostgreSQL skipped tests: no PostgreSQL")
	}
	_, rest, ok := strings.Cut(out, engineMarker)
	if !ok {
		return 0, errors.New("suite on PostgreSQL did not report its engine")
	}
	line, _, _ := strings.Cut(rest, "\n")
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("engine report %q: %v", line, err)
	}
	if n == 0 {
		return 0, errors.New("suite on PostgreSQL used no PostgreSQL database")
	}
	return n, nil
}

// summary keeps what matters of a long verbose run: failures, skips, and
// the end.
func summary(out string) string {
	lines := strings.Split(out, "\n")
	var keep []string
	for _, l := range lines {
		if strings.Contains(l, "--- FAIL") || strings.Contains(l, "--- SKIP") {
			keep = append(keep, l)
		}
	}
	keep = append(keep, "…")
	return strings.Join(append(keep, lines[max(0, len(lines)-60):]...), "\n")
}

func TestCheckPostgresRun(t *testing.T) {
	cases := []struct {
		name, out string
		want      int
		err       string
	}{
		{"ran", "=== RUN   TestA\n--- PASS: TestA (0.1s)\nPASS\n" + engineMarker + "42\n", 42, ""},
		{"skipped for want of PostgreSQL", "=== RUN   TestA\n    harness_test.go:95: pgtest: postgres binaries not found (install PostgreSQL)\n--- SKIP: TestA (0.0s)\nPASS\n" + engineMarker + "0\n", 0, "no PostgreSQL"},
		{"no marker: not on PostgreSQL", "=== RUN   TestA\n--- PASS: TestA (0.1s)\nPASS\n", 0, "did not report its engine"},
		{"no database", "PASS\n" + engineMarker + "0\n", 0, "used no PostgreSQL database"},
		{"failed", "--- FAIL: TestA (0.1s)\nFAIL\n" + engineMarker + "3\n", 0, "did not pass"},
	}
	for _, tc := range cases {
		n, err := checkPostgresRun(tc.out)
		if tc.err == "" && (err != nil || n != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %d %v, want %d %q", tc.name, n, err, tc.want, tc.err)
		}
	}
}
