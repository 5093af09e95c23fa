package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// buildAmigo compiles the real command once per test run.
var buildAmigo = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "amigo-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "amigo")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/amigo").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs `amigo serve` as its own process and waits for health.
// dataDir is a folder for SQLite, or a postgres:// URL.
// extra are more serve flags.
func startProcess(t *testing.T, dataDir, addr string, extra ...string) *exec.Cmd {
	t.Helper()
	bin, err := buildAmigo()
	if err != nil {
		t.Fatal(err)
	}
	where := []string{"--data", dataDir}
	if strings.HasPrefix(dataDir, "postgres") {
		where = []string{"--store", dataDir}
	}
	args := append([]string{"serve", "--listen", addr, "--config", "testdata/accounts.yaml", "--log-level", "warn", "--catalog", "none"}, where...)
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/_amigo/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("amigo did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Every change the server acknowledged before kill -9 is there after restart.
func TestKill9KeepsAcknowledgedChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	dataDir := t.TempDir()
	if onPostgres() {
		dataDir = pgDatabase(t)
	}
	addr := freeAddr(t)
	cmd := startProcess(t, dataDir, addr)
	e := &env{t: t, endpoint: "http://" + addr}
	// One image per writer keeps each under the 1,000-grant sharing quota.
	var imgs [16]string
	for w := range imgs {
		imgs[w] = e.register(owner, fmt.Sprintf("crash-%d", w))
	}

	acked := burstThenKill(t, e, cmd, imgs[:], "7")
	n := len(acked)
	if n < 10 {
		t.Fatalf("only %d changes acknowledged before the kill; the test proves nothing", n)
	}

	httpClient.CloseIdleConnections() // they led to the dead process
	cmd = startProcess(t, dataDir, addr)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	got := map[string]string{}
	for _, id := range imgs {
		for _, p := range launchPermsOf(t, e, id) {
			got[p] = id
		}
	}
	for user, id := range acked {
		if got[user] != id {
			t.Errorf("acknowledged grant to %s on %s lost after kill -9", user, id)
		}
	}
	t.Logf("%d acknowledged grants, %d present after restart", n, len(got))
}

func launchPermsOf(t *testing.T, e *env, id string) []string {
	t.Helper()
	out, err := e.client(owner).DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
		ImageId: aws.String(id), Attribute: ec2types.ImageAttributeNameLaunchPermission})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range out.LaunchPermissions {
		if p.UserId != nil {
			ids = append(ids, *p.UserId)
		}
	}
	return ids
}

// burstThenKill grants launch permissions on imgs, one writer per image,
// kills the process after 1.5 s and returns the grants it acknowledged
// (user id → image). Every user id starts with digit, so two tests' grants
// differ.
func burstThenKill(t *testing.T, e *env, cmd *exec.Cmd, imgs []string, digit string) map[string]string {
	t.Helper()
	var mu sync.Mutex
	acked := map[string]string{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range imgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client(owner)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				user := fmt.Sprintf("%s%03d%08d", digit, w, i)
				_, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(imgs[w]),
					LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(user)}}}})
				if err == nil {
					mu.Lock()
					acked[user] = imgs[w]
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	close(stop)
	wg.Wait()
	return acked
}
