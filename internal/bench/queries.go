package bench

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
)

// queriesCmd measures the latency of each DescribeImages (and
// DescribeSnapshots) query shape, one
// request at a time, against whatever the server holds (for example a
// store filled by `amigo generate`). The first account of the bootstrap
// file asks; names and ids to ask for are read from its own images first.
func queriesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench queries", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultEndpoint, "amigo endpoint")
	config := fs.String("config", "", "bootstrap file; its first account with a key asks")
	region := fs.String("region", "us-east-1", "region")
	n := fs.Int("n", 50, "requests per query shape")
	only := fs.String("only", "", "run only the shapes whose label contains this")
	timeout := fs.Duration("timeout", requestTimeout, "bound on one request (a 100,000-image answer on a busy machine can take longer than the default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *config == "" {
		return fmt.Errorf("bench queries: --config is required")
	}
	dir, err := account.Load(*config)
	if err != nil {
		return err
	}
	ps := principals(dir)
	if len(ps) == 0 {
		return fmt.Errorf("bench queries: no account with a key in %s", *config)
	}
	p := ps[0]
	c, err := newClient(*endpoint, *region, 2)
	if err != nil {
		return err
	}
	defer c.close()
	c.http.Timeout = *timeout
	if tr, ok := c.http.Transport.(*http.Transport); ok {
		tr.ResponseHeaderTimeout = *timeout // an answer held whole sends nothing until it is complete
	}
	var buf bytes.Buffer
	// Learn one of the caller's images: its id and name.
	if _, err := c.do(ctx, p, newForm("DescribeImages").add("Owner.1", "self").add("MaxResults", "5").b, &buf); err != nil {
		return err
	}
	id := string(firstMatch(buf.Bytes(), `<imageId>([^<]+)</imageId>`))
	name := string(firstMatch(buf.Bytes(), `<name>([^<]+)</name>`))
	if id == "" {
		return fmt.Errorf("bench queries: account %s owns no image in %s", p.Account, *region)
	}
	prefix := name
	if len(prefix) > 8 {
		prefix = prefix[:len(prefix)-8] // "al2023-x86_64-20240315-" of a generated name
	}
	shapes := []struct {
		label string
		f     *form
		item  string // counts the answer's items; "" is <imageId>
	}{
		{"by id", newForm("DescribeImages").add("ImageId.1", id), ""},
		{"--owners self", newForm("DescribeImages").add("Owner.1", "self"), ""},
		{"--executable-users self", newForm("DescribeImages").add("ExecutableBy.1", "self"), ""},
		{"name = exact", newForm("DescribeImages").add("Filter.1.Name", "name").add("Filter.1.Value.1", name), ""},
		{"name = prefix*", newForm("DescribeImages").add("Filter.1.Name", "name").add("Filter.1.Value.1", prefix+"*"), ""},
		{"--owners self, tag:Team=payments", newForm("DescribeImages").add("Owner.1", "self").add("Filter.1.Name", "tag:Team").add("Filter.1.Value.1", "payments"), ""},
		{"tag:Team=payments (all visible)", newForm("DescribeImages").add("Filter.1.Name", "tag:Team").add("Filter.1.Value.1", "payments"), ""},
		{"--owners self, description=*build 1*", newForm("DescribeImages").add("Owner.1", "self").add("Filter.1.Name", "description").add("Filter.1.Value.1", "*build 1*"), ""},
		{"first page, no arguments (MaxResults 1000)", newForm("DescribeImages").add("MaxResults", "1000"), ""},
		{"snapshots: no arguments (all usable)", newForm("DescribeSnapshots"), "<snapshotId>"},
		{"snapshots: --owner-ids self", newForm("DescribeSnapshots").add("Owner.1", "self"), "<snapshotId>"},
		{"snapshots: first page (MaxResults 1000)", newForm("DescribeSnapshots").add("MaxResults", "1000"), "<snapshotId>"},
	}
	fmt.Fprintf(stdout, "asking as %s; %d requests per shape, one at a time\n\n", p.Account, *n)
	fmt.Fprintf(stdout, "%-44s %8s %9s %9s %9s %15s %15s\n", "query", "items", "p50 ms", "p99 ms", "max ms", "1st byte p50", "1st byte max")
	for _, s := range shapes {
		if !strings.Contains(s.label, *only) {
			continue
		}
		var ds, firsts []time.Duration
		images := 0
		for range *n {
			// The first byte of the answer, as curl's time_starttransfer:
			// from the request's start to the first byte of the response.
			var first time.Duration
			t0 := time.Now()
			tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Since(t0) }})
			r, err := c.do(tctx, p, s.f.b, &buf)
			d := time.Since(t0)
			if err != nil {
				return err
			}
			if r.code != "" {
				return fmt.Errorf("bench queries: %s: %s", s.label, r.code)
			}
			ds = append(ds, d)
			firsts = append(firsts, first)
			item := cmp.Or(s.item, "<imageId>")
			images = bytes.Count(buf.Bytes(), []byte(item))
		}
		slices.Sort(ds)
		slices.Sort(firsts)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		fmt.Fprintf(stdout, "%-44s %8d %9.2f %9.2f %9.2f %15.2f %15.2f\n", s.label, images, ms(ds[len(ds)/2]), ms(ds[(len(ds)*99)/100]), ms(ds[len(ds)-1]),
			ms(firsts[len(firsts)/2]), ms(firsts[len(firsts)-1]))
	}
	return nil
}

func firstMatch(b []byte, re string) []byte {
	m := regexp.MustCompile(re).FindSubmatch(b)
	if m == nil {
		return nil
	}
	return m[1]
}
