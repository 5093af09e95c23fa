package e2e

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/store/pgtest"
)

// Two amigo processes on one PostgreSQL database behave as one service.
func TestTwoProcessesOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two real processes")
	}
	if onPostgres() {
		t.Skip("runs once, in the SQLite pass") // it always uses PostgreSQL
	}
	dsn := pgtest.Start(t)
	addrA, addrB := freeAddr(t), freeAddr(t)
	procA := startProcess(t, dsn, addrA)
	procB := startProcess(t, dsn, addrB)
	defer func() {
		procA.Process.Signal(syscall.SIGTERM)
		procB.Process.Signal(syscall.SIGTERM)
		procA.Wait()
		procB.Wait()
	}()
	a := &env{t: t, endpoint: "http://" + addrA}
	b := &env{t: t, endpoint: "http://" + addrB}

	// A change acknowledged by one is visible to the next read on the other.
	id := a.register(owner, "shared-db")
	if ids := b.visibleIDs(owner, &ec2.DescribeImagesInput{ImageIds: []string{id}}); len(ids) != 1 {
		t.Fatalf("B does not see A's image: %v", ids)
	}

	// 64 concurrent grants to one image, split across both processes.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := a
			if i%2 == 1 {
				e = b
			}
			_, err := e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
				LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(fmt.Sprintf("8000000000%02d", i))}}}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := launchPermsOf(t, b, id); len(got) != 64 {
		t.Fatalf("%d of 64 grants survived", len(got))
	}

	// A page token from one process continues on the other.
	for i := range 12 {
		a.register(owner, fmt.Sprintf("page-%02d", i))
	}
	first := must[*ec2.DescribeImagesOutput](t)(a.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(5)}))
	second := must[*ec2.DescribeImagesOutput](t)(b.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(5), NextToken: first.NextToken}))
	if len(first.Images) != 5 || len(second.Images) != 5 || *second.Images[0].ImageId <= *first.Images[4].ImageId {
		t.Fatalf("pages: %d then %d images", len(first.Images), len(second.Images))
	}
	// Per-account settings are shared.
	must[*ec2.EnableImageBlockPublicAccessOutput](t)(a.client(owner).EnableImageBlockPublicAccess(ctx, &ec2.EnableImageBlockPublicAccessInput{ImageBlockPublicAccessState: "block-new-sharing"}))
	st := must[*ec2.GetImageBlockPublicAccessStateOutput](t)(b.client(owner).GetImageBlockPublicAccessState(ctx, &ec2.GetImageBlockPublicAccessStateInput{}))
	if aws.ToString(st.ImageBlockPublicAccessState) != "block-new-sharing" {
		t.Fatalf("B sees %s", aws.ToString(st.ImageBlockPublicAccessState))
	}

	// Killing one process under load loses no acknowledged change; the other keeps serving.
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := a
			if w%2 == 1 {
				e = b
			}
			c := e.client(owner)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				user := fmt.Sprintf("6%03d%08d", w, i)
				_, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
					LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(user)}}}})
				if err == nil {
					mu.Lock()
					acked[user] = true
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	procA.Process.Signal(syscall.SIGKILL)
	procA.Wait()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	got := map[string]bool{}
	for _, u := range launchPermsOf(t, b, id) {
		got[u] = true
	}
	mu.Lock()
	defer mu.Unlock()
	for u := range acked {
		if !got[u] {
			t.Errorf("acknowledged grant to %s lost when a process was killed", u)
		}
	}
	if len(acked) < 10 {
		t.Fatalf("only %d grants acknowledged; the test proves nothing", len(acked))
	}
	// B still serves after A is gone.
	b.register(owner, "after-the-kill")
	t.Logf("%d grants acknowledged across the kill; all present", len(acked))
}
