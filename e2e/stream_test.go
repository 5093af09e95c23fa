package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/datagen"
	"github.com/amigo-ec2/amigo/internal/server"
)

// streamPopulation generates n images over the test accounts, shared with
// the organization, its OUs and accounts, some public, with tags.
func streamPopulation(t *testing.T, e *env, n int) {
	t.Helper()
	err := datagen.Generate(ctx, e.app.Store(), datagen.Options{Region: region, Images: n,
		Accounts: []string{owner, member, nested, stranger}, OrgARNs: []string{orgARN}, OUARNs: []string{ou1ARN, ou2ARN},
		SharedFraction: 0.4, PublicFraction: 0.02, Seed: 15, Batch: 5000})
	if err != nil {
		t.Fatal(err)
	}
}

// A long un-paged DescribeImages (streamed batch by batch from the store)
// lists exactly what the SDK's paginator collects page by page: every
// image once, in the same order, every member equal.
func TestUnpagedDescribeImagesEqualsPages(t *testing.T) {
	if testing.Short() {
		t.Skip("3,500 images")
	}
	e := startEnv(t)
	streamPopulation(t, e, 3500)
	for _, tc := range []struct {
		who string
		in  ec2.DescribeImagesInput
	}{
		{member, ec2.DescribeImagesInput{}},
		{owner, ec2.DescribeImagesInput{Owners: []string{"self"}}},
		{nested, ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}}},
		{stranger, ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("architecture"), Values: []string{"arm64"}}}}},
	} {
		whole, err := e.client(tc.who).DescribeImages(ctx, &tc.in)
		if err != nil {
			t.Fatal(err)
		}
		var pages []ec2types.Image
		paged := tc.in
		paged.MaxResults = aws.Int32(1000)
		p := ec2.NewDescribeImagesPaginator(e.client(tc.who), &paged)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, out.Images...)
		}
		if len(whole.Images) <= 1200 && tc.who == member {
			t.Errorf("%s sees %d images; the test wants an answer of several batches", tc.who, len(whole.Images))
		}
		a, _ := json.Marshal(whole.Images)
		b, _ := json.Marshal(pages)
		if !bytes.Equal(a, b) {
			t.Errorf("%s %+v: the un-paged answer (%d images) differs from the pages' union (%d images)", tc.who, tc.in, len(whole.Images), len(pages))
		}
	}
}

// A client that asks for a long listing and stops reading has its
// connection closed once a write waits past the write deadline; the
// server stays healthy and serves the next client.
func TestStalledReaderIsCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("8,000 images")
	}
	logs := &logLines{}
	e := startEnv(t, func(c *app.Config) {
		c.Limits = server.Limits{WriteTimeout: 300 * time.Millisecond}
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	streamPopulation(t, e, 8000)
	whole, err := e.client(member).DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if err != nil {
		t.Fatal(err)
	}

	// A raw signed request on a connection with a small receive buffer.
	body := "Action=DescribeImages&Version=2016-11-15"
	req, err := http.NewRequest(http.MethodPost, e.endpoint, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	k := keys[member]
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}, req, hex.EncodeToString(sum[:]), "ec2", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.DialContext(ctx, "tcp", e.app.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 4<<10), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	head := make([]byte, 32<<10)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	// Stop reading until the server has given up on this client.
	deadline := time.Now().Add(30 * time.Second)
	for !logs.has("ClientTimeout") {
		if time.Now().After(deadline) {
			t.Fatal("the server did not give up on a client that stopped reading")
		}
		time.Sleep(20 * time.Millisecond)
	}
	rest, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("the stalled answer ended cleanly after %d bytes; want the connection closed mid-answer", len(head)+len(rest))
	}
	if bytes.Contains(rest, []byte("<Errors>")) {
		t.Error("an error envelope followed part of an answer")
	}

	// The server still answers, completely.
	again, err := e.client(member).DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Images) != len(whole.Images) {
		t.Errorf("after the stall: %d images, want %d", len(again.Images), len(whole.Images))
	}
	for time.Now().Before(deadline) && e.app.Server.InFlight() != 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if n := e.app.Server.InFlight(); n != 0 {
		t.Errorf("%d requests still in flight", n)
	}
}

// logLines collects a server's log output.
type logLines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logLines) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.b.String(), s)
}
