package e2e

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// loseFirstAnswer lets the first RunInstances reach the server and be
// answered, then drops the answer and reports a connection reset, as when
// the network fails on the way back.
type loseFirstAnswer struct {
	next    http.RoundTripper
	dropped atomic.Int32
	lost    []byte // the answer the client never saw
	tokens  []string
}

func (l *loseFirstAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body.Close()
	isRun := strings.Contains(string(body), "Action=RunInstances")
	if isRun {
		for _, kv := range strings.Split(string(body), "&") {
			if v, ok := strings.CutPrefix(kv, "ClientToken="); ok {
				l.tokens = append(l.tokens, v)
			}
		}
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := l.next.RoundTrip(r)
	if err != nil || !isRun || l.dropped.Add(1) > 1 {
		return resp, err
	}
	l.lost, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}

// A RunInstances whose answer is lost is retried by the SDK's own retryer
// with the same ClientToken, and the retry is answered with the first
// reservation: one instance, never two.
func TestRunInstancesLostAnswerIsNotLaunchedTwice(t *testing.T) {
	e := startEnv(t)
	img := e.register(owner, "lost-answer")
	lose := &loseFirstAnswer{next: httpClient.Transport}
	k := keys[owner]
	c := ec2.New(ec2.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(k[0], k[1], ""),
		HTTPClient:   &http.Client{Transport: lose},
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxBackoff = 50 * time.Millisecond
		}),
	})
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatalf("RunInstances with a lost first answer: %v", err)
	}
	if lose.dropped.Load() != 2 || len(lose.tokens) != 2 || lose.tokens[0] == "" || lose.tokens[0] != lose.tokens[1] {
		t.Fatalf("want one lost answer and one retry with the same token, got %d sends with tokens %q", lose.dropped.Load(), lose.tokens)
	}
	if !bytes.Contains(lose.lost, []byte(aws.ToString(out.ReservationId))) || !bytes.Contains(lose.lost, []byte(aws.ToString(out.Instances[0].InstanceId))) {
		t.Fatalf("the retry's reservation %s differs from the lost answer:\n%s", aws.ToString(out.ReservationId), lose.lost)
	}
	all := must[*ec2.DescribeInstancesOutput](t)(e.client(owner).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}))
	if n := countInstances(all); n != 1 {
		t.Fatalf("%d instances after one lost answer, want 1", n)
	}
}

func countInstances(out *ec2.DescribeInstancesOutput) int {
	n := 0
	for _, r := range out.Reservations {
		n += len(r.Instances)
	}
	return n
}

func TestRunInstancesClientToken(t *testing.T) {
	e := slowEnv(t)
	c := e.client(owner)
	img := e.register(owner, "tokens")
	other := e.register(owner, "tokens-2")
	mine := e.register(member, "tokens-3")
	time.Sleep(400 * time.Millisecond) // all available
	in := func(token, image string, n int32) *ec2.RunInstancesInput {
		return &ec2.RunInstancesInput{ClientToken: aws.String(token), ImageId: aws.String(image), MinCount: aws.Int32(n), MaxCount: aws.Int32(n),
			InstanceType: ec2types.InstanceTypeT3Micro}
	}
	first := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, in("tok-1", img, 2)))
	if first.Instances[0].State.Name != ec2types.InstanceStateNamePending {
		t.Fatalf("first answer shows %s", first.Instances[0].State.Name)
	}
	time.Sleep(400 * time.Millisecond)
	again := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, in("tok-1", img, 2)))
	if aws.ToString(again.ReservationId) != aws.ToString(first.ReservationId) || len(again.Instances) != 2 ||
		aws.ToString(again.Instances[1].InstanceId) != aws.ToString(first.Instances[1].InstanceId) {
		t.Fatalf("repeat answered %+v, want reservation %s", again, aws.ToString(first.ReservationId))
	}
	if again.Instances[0].State.Name != ec2types.InstanceStateNameRunning {
		t.Fatalf("repeat shows %s, want the current state", again.Instances[0].State.Name)
	}

	// Other parameters with the same token.
	_, err := c.RunInstances(ctx, in("tok-1", other, 2))
	if msg := apiErr(t, err, "IdempotentParameterMismatch", 400); msg != "Arguments on this idempotent request are inconsistent with arguments used in previous request(s)." {
		t.Fatalf("message %q", msg)
	}
	_, err = c.RunInstances(ctx, in("tok-1", img, 1))
	apiErr(t, err, "IdempotentParameterMismatch", 400)

	// Tokens are per account and per region.
	if out := must[*ec2.RunInstancesOutput](t)(e.client(member).RunInstances(ctx, in("tok-1", mine, 1))); aws.ToString(out.ReservationId) == aws.ToString(first.ReservationId) {
		t.Fatal("another account's token answered")
	}
	// A DryRun neither uses nor records a token.
	dry := in("tok-dry", img, 1)
	dry.DryRun = aws.Bool(true)
	_, err = c.RunInstances(ctx, dry)
	apiErr(t, err, "DryRunOperation", 412)
	must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, in("tok-dry", other, 1)))

	// The record survives a restart.
	e.restart()
	c = e.client(owner)
	again = must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, in("tok-1", img, 2)))
	if aws.ToString(again.ReservationId) != aws.ToString(first.ReservationId) {
		t.Fatal("token forgotten across a restart")
	}

	// Once every instance of the launch is terminated.
	ids := []string{aws.ToString(first.Instances[0].InstanceId), aws.ToString(first.Instances[1].InstanceId)}
	must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[:1]}))
	must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, in("tok-1", img, 2)))
	must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[1:]}))
	_, err = c.RunInstances(ctx, in("tok-1", other, 2))
	apiErr(t, err, "IdempotentParameterMismatch", 400)
	_, err = c.RunInstances(ctx, in("tok-1", img, 2))
	if msg := apiErr(t, err, "IdempotentInstanceTerminated", 400); msg != "The client token you have provided is associated with a terminated instance. Please use a different client token." {
		t.Fatalf("message %q", msg)
	}

	_, err = c.RunInstances(ctx, in(strings.Repeat("x", 65), img, 1))
	apiErr(t, err, "InvalidParameterValue", 400)
}

// Concurrent sends of one token launch once.
func TestRunInstancesClientTokenConcurrent(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	img := e.register(owner, "racing")
	const n = 8
	ids := make(chan string, n)
	for range n {
		go func() {
			out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ClientToken: aws.String("race"), ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			if err != nil {
				ids <- "error: " + err.Error()
				return
			}
			ids <- aws.ToString(out.Instances[0].InstanceId)
		}()
	}
	first := <-ids
	for range n - 1 {
		if id := <-ids; id != first {
			t.Fatalf("concurrent sends answered %s and %s", first, id)
		}
	}
	if got := countInstances(must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}))); got != 1 {
		t.Fatalf("%d instances", got)
	}
}
