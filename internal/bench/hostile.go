package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/amigo-ec2/amigo/internal/server"
)

// The hostile-client suite: each class of attack runs against one endpoint
// while a well-behaved client keeps asking it something small. A class
// passes when the server stays up, its memory stays under a bound, the
// well-behaved client is still answered (p99 under a bound), and the
// attacker gets a 4xx or 503 EC2 error, or has its connection closed.
// `amigo bench hostile` runs it against a server; e2e runs a short form.

// HostileConfig is one run of the suite.
type HostileConfig struct {
	Endpoint string
	Region   string
	// Principal signs the well-behaved client's requests; its key id is
	// the "known key id" of the SignedHeaders attack.
	Principal *Principal
	// Attacker signs the attacks that need a valid signature (never-read,
	// overload): another client, as hostile clients are. Nil means
	// Principal (then the server cannot tell the two apart, and the polite
	// client is one more of the attacker's requests).
	Attacker *Principal
	// Classes to run, by name (HostileClasses); empty for all.
	Classes []string
	// Duration of each class's attack.
	Duration time.Duration
	// Scale multiplies the attackers of each class (1: the short form
	// that go test runs; the command uses 10).
	Scale int
	// Memory, when set, reports the server's memory in bytes (resident
	// set of its process, or the heap of an in-process server).
	Memory func() (uint64, error)
	// MemoryBound and P99Bound are the pass marks.
	MemoryBound uint64
	P99Bound    time.Duration
	// MaxBodyBytes is the server's body cap (the big-bodies class sends
	// bodies just under and over it).
	MaxBodyBytes int64
	// The server's deadlines (zero: its defaults). The classes that only
	// a deadline ends (slow-bodies, never-read, many-connections below the
	// connection cap) run until it has passed, so that they show the
	// attacker refused rather than a class shorter than the deadline.
	HeaderTimeout, BodyTimeout, WriteTimeout time.Duration
}

// classTime is how long a class attacks: cfg.Duration, and for the classes
// a deadline ends, long enough to see it pass (2 s of margin for a loaded
// machine).
func classTime(cfg *HostileConfig, name string) time.Duration {
	def := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return max(v, 0)
	}
	const margin = 2 * time.Second
	d := cfg.Duration
	switch name {
	case "never-read":
		// The kernel's socket buffers take megabytes before a write
		// blocks, and the attacker's key gets few listings admitted at a
		// time (the rest are refused into the buffers); then the write
		// deadline runs. Half the deadline again for that.
		w := def(cfg.WriteTimeout, server.DefaultWriteTimeout)
		return max(3*d, w+w/2+margin)
	case "slow-bodies":
		return max(d, def(cfg.BodyTimeout, server.DefaultBodyTimeout)+margin)
	case "many-connections":
		return max(d, def(cfg.HeaderTimeout, server.DefaultHeaderTimeout)+margin)
	}
	return d
}

// HostileClasses names the classes in the order they run.
var HostileClasses = []string{"signed-headers", "big-bodies", "slow-bodies", "many-connections", "never-read", "overload"}

// ClassReport is the outcome of one class.
type ClassReport struct {
	Class string `json:"class"`
	// Attacker answers by "status code" ("400 IncompleteSignature",
	// "503 Unavailable"), "closed" for a connection the server closed, and
	// "none" for requests that got neither within the class.
	Attacker   map[string]uint64 `json:"attacker"`
	ServedOK   uint64            `json:"served_ok"`
	ServedFail uint64            `json:"served_failed"` // not counting 503s, which clients retry
	Served503  uint64            `json:"served_503"`
	P99MS      float64           `json:"served_p99_ms"`
	PeakMemory uint64            `json:"peak_memory_bytes,omitempty"`
	Up         bool              `json:"server_up"`
	Problems   []string          `json:"problems,omitempty"`
	failSample string            // the polite client's first failure
}

// Hostile runs the classes one after the other.
func Hostile(ctx context.Context, cfg HostileConfig) ([]ClassReport, error) {
	if cfg.Scale <= 0 {
		cfg.Scale = 1
	}
	if cfg.Duration <= 0 {
		cfg.Duration = time.Second
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	classes := cfg.Classes
	if len(classes) == 0 {
		classes = HostileClasses
	}
	c, err := newClient(cfg.Endpoint, cfg.Region, 4)
	if err != nil {
		return nil, err
	}
	defer c.close()
	var reps []ClassReport
	for _, name := range classes {
		attack, ok := attacks[name]
		if !ok {
			return reps, fmt.Errorf("hostile: unknown class %q (want one of %s)", name, strings.Join(HostileClasses, ", "))
		}
		rep := runClass(ctx, &cfg, c, name, attack)
		reps = append(reps, rep)
		if ctx.Err() != nil {
			return reps, ctx.Err()
		}
	}
	return reps, nil
}

// outcomes counts what the attacker got.
type outcomes struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (o *outcomes) add(k string) {
	o.mu.Lock()
	if o.m == nil {
		o.m = make(map[string]uint64)
	}
	o.m[k]++
	o.mu.Unlock()
}

type attackFunc func(ctx context.Context, cfg *HostileConfig, h *hostileTarget, out *outcomes)

var attacks = map[string]attackFunc{
	"signed-headers":   attackSignedHeaders,
	"big-bodies":       attackBigBodies,
	"slow-bodies":      attackSlowBodies,
	"many-connections": attackManyConnections,
	"never-read":       attackNeverRead,
	"overload":         attackOverload,
}

// hostileTarget is where attacks connect and what they sign with.
type hostileTarget struct {
	addr   string // host:port
	client *client
	p      *Principal
}

func runClass(ctx context.Context, cfg *HostileConfig, c *client, name string, attack attackFunc) ClassReport {
	rep := ClassReport{Class: name}
	ctx, cancel := context.WithTimeout(ctx, classTime(cfg, name))
	defer cancel()
	attacker := cfg.Attacker
	if attacker == nil {
		attacker = cfg.Principal
	}
	h := &hostileTarget{addr: c.url.Host, client: c, p: attacker}
	polite := newForm("DescribeImages").add("Owner.1", "self").b
	{ // a kept-alive connection before the attack, as a steady client has
		var buf bytes.Buffer
		_, _ = c.do(ctx, cfg.Principal, polite, &buf)
	}
	var out outcomes
	var wg sync.WaitGroup
	wg.Add(3)
	var peak atomic.Uint64
	go func() { // memory
		defer wg.Done()
		if cfg.Memory == nil {
			return
		}
		for ctx.Err() == nil {
			if m, err := cfg.Memory(); err == nil && m > peak.Load() {
				peak.Store(m)
			}
			sleep(ctx, 20*time.Millisecond)
		}
	}()
	var hist Histogram
	go func() { // the well-behaved client
		defer wg.Done()
		var buf bytes.Buffer
		for ctx.Err() == nil {
			t0 := time.Now()
			r, err := c.do(ctx, cfg.Principal, polite, &buf)
			if err != nil && ctx.Err() == nil {
				// A connection error (a kept-alive connection the server
				// closed as the request went out) is retried at once, as
				// the SDKs' retryers do; a second one is a failure.
				r, err = c.do(ctx, cfg.Principal, polite, &buf)
			}
			switch {
			case ctx.Err() != nil:
				// Cut off by the end of the class: it took at least this
				// long, which the p99 must not forget.
				if d := time.Since(t0); d > 100*time.Millisecond {
					hist.Record(d)
				}
			case err == nil && r.code == "":
				rep.ServedOK++
				hist.Record(time.Since(t0))
			case r.status == http.StatusServiceUnavailable:
				rep.Served503++
				sleep(ctx, 20*time.Millisecond) // as a retryer would
			default:
				rep.ServedFail++
				if rep.failSample == "" {
					rep.failSample = fmt.Sprintf("%d %s %v", r.status, r.code, err)
				}
			}
			sleep(ctx, 10*time.Millisecond)
		}
	}()
	go func() {
		defer wg.Done()
		attack(ctx, cfg, h, &out)
	}()
	wg.Wait()
	rep.Attacker = out.m
	rep.PeakMemory = peak.Load()
	rep.P99MS = ms(hist.Percentile(99))

	// Up: a request after the attack is answered, once the attack's
	// last requests have drained (503s are retried, as clients do).
	var buf bytes.Buffer
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer acancel()
	for actx.Err() == nil {
		r, err := c.do(actx, cfg.Principal, polite, &buf)
		if rep.Up = err == nil && r.code == ""; rep.Up || r.status != http.StatusServiceUnavailable {
			break
		}
		sleep(actx, 50*time.Millisecond)
	}
	judge(cfg, &rep)
	return rep
}

func judge(cfg *HostileConfig, rep *ClassReport) {
	if !rep.Up {
		rep.Problems = append(rep.Problems, "the server did not answer after the attack")
	}
	served := rep.ServedOK
	if rep.Class == "overload" {
		// Past capacity the polite client is one more client: the
		// attackers' answered requests are service too.
		served += rep.Attacker["ok"]
	}
	if served == 0 {
		rep.Problems = append(rep.Problems, "the well-behaved client was never answered during the attack")
	}
	if rep.ServedFail > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the well-behaved client got %d errors other than 503 (first: %s)", rep.ServedFail, rep.failSample))
	}
	if cfg.P99Bound > 0 && rep.P99MS > float64(cfg.P99Bound.Milliseconds()) {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the well-behaved client's p99 %.1f ms is over %s", rep.P99MS, cfg.P99Bound))
	}
	if cfg.MemoryBound > 0 && rep.PeakMemory > cfg.MemoryBound {
		rep.Problems = append(rep.Problems, fmt.Sprintf("memory peaked at %d MB, over %d MB", rep.PeakMemory>>20, cfg.MemoryBound>>20))
	}
	var answered uint64
	for k, n := range rep.Attacker {
		switch {
		case k == "closed" || strings.HasPrefix(k, "4") || strings.HasPrefix(k, "503 "):
			answered += n
		case k == "none" || k == "ok":
		default:
			rep.Problems = append(rep.Problems, fmt.Sprintf("the attacker got %d × %q", n, k))
		}
	}
	if answered == 0 {
		rep.Problems = append(rep.Problems, "the attacker was never refused")
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// parallel runs n copies of f until ctx ends.
func parallel(ctx context.Context, n int, f func(ctx context.Context)) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				f(ctx)
			}
		}()
	}
	wg.Wait()
}

// exchange writes raw to a new connection and reads one answer.
func exchange(ctx context.Context, addr string, raw []byte, out *outcomes) {
	conn, err := dialCtx(ctx, addr)
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(raw); err != nil {
		readAnswer(ctx, conn, out)
		return
	}
	readAnswer(ctx, conn, out)
}

func dialCtx(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// readAnswer reads one HTTP answer from conn and records its status and
// EC2 code, or "closed".
func readAnswer(ctx context.Context, conn net.Conn, out *outcomes) {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		if ctx.Err() == nil {
			out.add("closed")
		} else {
			out.add("none")
		}
		return
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	out.add(strconv.Itoa(resp.StatusCode) + " " + ErrorCode(b))
}

// rawRequest is an HTTP/1.1 POST with the given extra header lines.
func rawRequest(addr string, headers []string, body []byte, contentLength int) []byte {
	var b bytes.Buffer
	b.WriteString("POST / HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(contentLength) + "\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// signedRaw is a signed request as bytes, to send over raw connections.
func (h *hostileTarget) signedRaw(body []byte) ([]byte, error) {
	u := h.client.url
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", formType)
	sum := sha256.Sum256(body)
	if err := h.p.signer.SignHTTP(context.Background(), h.p.creds, req, hex.EncodeToString(sum[:]), "ec2", h.client.region, time.Now()); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// attackSignedHeaders names a known key id and lists one large header
// many times in SignedHeaders: the verifier used to build a canonical
// request per listing.
func attackSignedHeaders(ctx context.Context, cfg *HostileConfig, h *hostileTarget, out *outcomes) {
	now := time.Now().UTC()
	list := "host;" + strings.Repeat("x-big;", 1500) + "x-amz-date"
	authz := fmt.Sprintf("Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/ec2/aws4_request, SignedHeaders=%s, Signature=%s",
		h.p.creds.AccessKeyID, now.Format("20060102"), h.client.region, list, strings.Repeat("0", 64))
	body := []byte("Action=DescribeImages&Version=" + APIVersion)
	raw := rawRequest(h.addr, []string{authz, "X-Amz-Date: " + now.Format("20060102T150405Z"),
		"X-Big: " + strings.Repeat("b", 40<<10)}, body, len(body))
	parallel(ctx, 4*cfg.Scale, func(ctx context.Context) { exchange(ctx, h.addr, raw, out) })
}

// fakeAuth is an Authorization header (and its date) naming the
// attacker's key with a signature that cannot match: the server must read
// the body before it can tell.
func (h *hostileTarget) fakeAuth() []string {
	now := time.Now().UTC()
	return []string{fmt.Sprintf("Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=%s",
		h.p.creds.AccessKeyID, now.Format("20060102"), h.client.region, strings.Repeat("0", 64)),
		"X-Amz-Date: " + now.Format("20060102T150405Z")}
}

// attackBigBodies sends bodies just under and over the body cap, unsigned
// (refused without being read) and with a signature that does not match
// (read and hashed before the signature can be checked).
func attackBigBodies(ctx context.Context, cfg *HostileConfig, h *hostileTarget, out *outcomes) {
	under := bytes.Repeat([]byte("a"), int(cfg.MaxBodyBytes)-64)
	under = append([]byte("Action=DescribeImages&Version="+APIVersion+"&X="), under...)
	over := make([]byte, cfg.MaxBodyBytes+1)
	auth := h.fakeAuth()
	raws := [][]byte{rawRequest(h.addr, nil, under, len(under)), rawRequest(h.addr, nil, over, len(over)),
		rawRequest(h.addr, auth, under, len(under)), rawRequest(h.addr, auth, over, len(over))}
	var n atomic.Int64
	parallel(ctx, 8*cfg.Scale, func(ctx context.Context) {
		exchange(ctx, h.addr, raws[n.Add(1)%int64(len(raws))], out)
	})
}

// attackSlowBodies sends headers promising a body, then trickles it. The
// head carries a signature, so the server has to wait for the body (an
// unsigned one it refuses at once).
func attackSlowBodies(ctx context.Context, cfg *HostileConfig, h *hostileTarget, out *outcomes) {
	head := rawRequest(h.addr, h.fakeAuth(), nil, 100000)
	parallel(ctx, 16*cfg.Scale, func(ctx context.Context) {
		conn, err := dialCtx(ctx, h.addr)
		if err != nil {
			sleep(ctx, 10*time.Millisecond)
			return
		}
		defer conn.Close()
		if _, err := conn.Write(head); err != nil {
			return
		}
		// A byte every 100 ms; the server's body deadline ends it.
		for ctx.Err() == nil {
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := conn.Write([]byte("a")); err != nil {
				break
			}
			_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			var one [1]byte
			if n, _ := conn.Read(one[:]); n > 0 {
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				readAnswer(ctx, &prefixConn{Conn: conn, prefix: one[:]}, out)
				return
			}
		}
		out.add("none")
	})
}

// prefixConn puts back a byte already read.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// attackManyConnections opens connections that send half a request line
// and wait, many more than the server's cap.
func attackManyConnections(ctx context.Context, cfg *HostileConfig, h *hostileTarget, out *outcomes) {
	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	parallel(ctx, 8*cfg.Scale, func(ctx context.Context) {
		conn, err := dialCtx(ctx, h.addr)
		if err != nil {
			out.add("closed")
			sleep(ctx, 10*time.Millisecond)
			return
		}
		mu.Lock()
		conns = append(conns, conn)
		mu.Unlock()
		_, _ = conn.Write([]byte("POST / HTTP/1.1\r\nHost: "))
		go func() {
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			readAnswer(ctx, conn, out)
		}()
		sleep(ctx, time.Millisecond)
	})
}

// attackNeverRead pipelines signed listings on connections it never reads.
func attackNeverRead(ctx context.Context, cfg *HostileConfig, h *hostileTarget, out *outcomes) {
	raw, err := h.signedRaw(newForm("DescribeImages").b)
	if err != nil {
		return
	}
	batch := bytes.Repeat(raw, 64)
	parallel(ctx, 4*cfg.Scale, func(ctx context.Context) {
		conn, err := dialCtx(ctx, h.addr)
		if err != nil {
			sleep(ctx, 10*time.Millisecond)
			return
		}
		defer conn.Close()
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10) // fill up soon
		}
		for ctx.Err() == nil {
			_ = conn.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := conn.Write(batch); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue // the server is not reading our requests: it is stuck writing to us
				}
				out.add("closed")
				return
			}
		}
		drainAnswers(conn, out)
	})
}

// drainAnswers reads, at the end of a never-read class, the answers the
// server left in a connection's buffers: a server that paces such a
// client (its key's share full, its requests refused with 503 after a
// wait) refuses it there rather than closing the connection. Nothing read
// counts "none".
func drainAnswers(conn net.Conn, out *outcomes) {
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	br := bufio.NewReader(conn)
	got := false
	for range 64 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got = true
		if resp.StatusCode == http.StatusOK {
			out.add("ok")
		} else {
			out.add(strconv.Itoa(resp.StatusCode) + " " + ErrorCode(b))
		}
	}
	if !got {
		out.add("none")
	}
}

// attackOverload sends signed requests from many workers that never back
// off.
func attackOverload(ctx context.Context, cfg *HostileConfig, h *hostileTarget, out *outcomes) {
	c, err := newClient("http://"+h.addr, h.client.region, 64*cfg.Scale)
	if err != nil {
		return
	}
	defer c.close()
	body := newForm("DescribeImages").add("Owner.1", "self").b
	parallel(ctx, 64*cfg.Scale, func(ctx context.Context) {
		var buf bytes.Buffer
		r, err := c.do(ctx, h.p, body, &buf)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			out.add("closed")
		case r.code != "":
			out.add(strconv.Itoa(r.status) + " " + r.code)
		default:
			out.add("ok") // answered: not a refusal, not a problem either
		}
	})
}

// WriteHostile prints the reports as a table and the problems found.
func WriteHostile(w io.Writer, reps []ClassReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "class\tattacker got\tserved ok\tserved 503\tserved p99 ms\tpeak MB\tup\tverdict")
	for _, r := range reps {
		verdict := "pass"
		if len(r.Problems) > 0 {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%d\t%v\t%s\n", r.Class, outcomeText(r.Attacker), r.ServedOK, r.Served503, r.P99MS, r.PeakMemory>>20, r.Up, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range reps {
		for _, p := range r.Problems {
			fmt.Fprintf(w, "%s: %s\n", r.Class, p)
		}
	}
	return nil
}

func outcomeText(m map[string]uint64) string {
	var parts []string
	for _, k := range sortedCodes(m) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// processRSS reads a process's resident set from /proc.
func processRSS(pid int) func() (uint64, error) {
	return func() (uint64, error) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				return kb << 10, err
			}
		}
		return 0, errors.New("no VmRSS")
	}
}

func hostileCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("hostile", "--endpoint URL --config FILE [--pid N] [--duration 10s] [--scale 10]", stderr)
	endpoint := fs.String("endpoint", defaultEndpoint, "amigo endpoint (loopback)")
	config := fs.String("config", "", "bootstrap file; its first account's key signs")
	region := fs.String("region", "us-east-1", "region to sign for")
	pid := fs.Int("pid", 0, "the server's process id, to watch its resident memory (VmRSS)")
	duration := fs.Duration("duration", 10*time.Second, "attack time of each class")
	scale := fs.Int("scale", 10, "attackers per class, as a multiple of the short form's")
	classes := fs.String("classes", "", "comma-separated classes to run (default all): "+strings.Join(HostileClasses, ", "))
	memBound := fs.Int("memory-bound", 512, "pass mark for the server's resident memory, MB")
	p99 := fs.Duration("p99-bound", 500*time.Millisecond, "pass mark for the well-behaved client's p99")
	maxBody := fs.Int64("max-body-bytes", server.DefaultMaxBodyBytes, "the server's --max-body-bytes")
	headerTO := fs.Duration("header-timeout", server.DefaultHeaderTimeout, "the server's --header-timeout (many-connections runs past it)")
	bodyTO := fs.Duration("body-timeout", server.DefaultBodyTimeout, "the server's --body-timeout (slow-bodies runs past it)")
	writeTO := fs.Duration("write-timeout", server.DefaultWriteTimeout, "the server's --write-timeout (never-read runs past it)")
	sameKey := fs.Bool("same-key", false, "the signed attacks use the polite client's key (default: the second account's, when the file has one)")
	if err := parse(fs, args); err != nil {
		return err
	}
	u, err := url.Parse(*endpoint)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		return fmt.Errorf("bench hostile: --endpoint %s is not a loopback address; the suite attacks only loopback", *endpoint)
	}
	dir, err := loadDirectory(*config)
	if err != nil {
		return err
	}
	ps := principals(dir)
	if len(ps) == 0 {
		return errors.New("no account of the bootstrap file has an access key")
	}
	cfg := HostileConfig{Endpoint: *endpoint, Region: *region, Principal: ps[0], Duration: *duration, Scale: *scale,
		MemoryBound: uint64(*memBound) << 20, P99Bound: *p99, MaxBodyBytes: *maxBody,
		HeaderTimeout: *headerTO, BodyTimeout: *bodyTO, WriteTimeout: *writeTO}
	if len(ps) > 1 && !*sameKey {
		cfg.Attacker = ps[1]
	}
	if *classes != "" {
		cfg.Classes = strings.Split(*classes, ",")
	}
	if *pid > 0 {
		cfg.Memory = processRSS(*pid)
	}
	reps, err := Hostile(ctx, cfg)
	if werr := WriteHostile(stdout, reps); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	for _, r := range reps {
		if len(r.Problems) > 0 {
			return errors.New("bench hostile: some classes failed")
		}
	}
	return nil
}
