package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Comparison is the same mix run against the floor and against amigo.
type Comparison struct {
	Floor  *Report      `json:"floor"`
	Amigo  *Report      `json:"amigo"`
	Ratios []RatioEntry `json:"ratios"` // amigo / floor, per action, then "total"
}

// RatioEntry is amigo's figure divided by the floor's: below 1 for req/s
// means amigo is slower; above 1 for latencies means amigo takes longer.
type RatioEntry struct {
	Action string  `json:"action"`
	RPS    float64 `json:"rps"`
	P50    float64 `json:"p50"`
	P99    float64 `json:"p99"`
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*1000) / 1000
}

// Compare runs cfg against an in-process floor server on a free loopback
// port (which ignores the signatures), then against cfg.Endpoint.
func Compare(ctx context.Context, cfg RunConfig) (*Comparison, error) {
	fl, err := StartFloor("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fc := cfg
	fc.Endpoint = fl.URL()
	floor, err := Run(ctx, fc)
	if cerr := fl.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	if err := floor.Err(); err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	amigo, err := Run(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("amigo: %w", err)
	}
	c := &Comparison{Floor: floor, Amigo: amigo}
	for i, a := range amigo.Actions {
		f := floor.Actions[i] // same mix, same order
		c.Ratios = append(c.Ratios, RatioEntry{Action: a.Action,
			RPS: ratio(a.RPS, f.RPS), P50: ratio(a.P50MS, f.P50MS), P99: ratio(a.P99MS, f.P99MS)})
	}
	c.Ratios = append(c.Ratios, RatioEntry{Action: "total", RPS: ratio(amigo.Total.RPS, floor.Total.RPS)})
	return c, nil
}

// WriteText prints both runs side by side with the ratios.
func (c *Comparison) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "mix %s  concurrency %d  measured %s after %s warm-up each\nfloor %s (in-process, no auth, fixed answer) vs amigo %s\n\n",
		c.Amigo.Mix, c.Amigo.Concurrency, secs(c.Amigo.DurationSeconds), secs(c.Amigo.WarmupSeconds), c.Floor.Endpoint, c.Amigo.Endpoint)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "action            \tfloor req/s\tamigo req/s\tamigo/floor\tfloor p50 ms\tamigo p50 ms\tamigo/floor\tfloor p99 ms\tamigo p99 ms\tamigo/floor\tamigo failed\t")
	for i, a := range c.Amigo.Actions {
		f, r := c.Floor.Actions[i], c.Ratios[i]
		fmt.Fprintf(tw, "%-18s\t%.1f\t%.1f\t%.3f\t%.3f\t%.3f\t%.2f\t%.3f\t%.3f\t%.2f\t%d\t\n",
			a.Action, f.RPS, a.RPS, r.RPS, f.P50MS, a.P50MS, r.P50, f.P99MS, a.P99MS, r.P99, a.Failed)
	}
	fmt.Fprintf(tw, "total             \t%.1f\t%.1f\t%.3f\t\t\t\t\t\t\t%d\t\n", c.Floor.Total.RPS, c.Amigo.Total.RPS, c.Ratios[len(c.Ratios)-1].RPS, c.Amigo.Total.Failed)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nclient and servers share this machine's CPUs; the floor bounds what the client and HTTP stack alone can do.")
	if c.Amigo.Total.Failed > 0 {
		fmt.Fprintln(w, "\namigo failures:")
		for _, a := range c.Amigo.Actions {
			for _, code := range sortedCodes(a.Errors) {
				fmt.Fprintf(w, "  %-20s %-36s %d\n", a.Action, code, a.Errors[code])
			}
		}
	}
	return nil
}

// WriteJSON writes the comparison as one JSON document.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

func compareCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "--config FILE [--endpoint URL] [--images N | --ids ids.txt] [--mix "+DefaultMix+"] [--concurrency 64] [--duration 20s] [--warmup 3s] [--json]", stderr)
	f := addRunFlags(fs)
	images := fs.Int("images", 0, "populate --endpoint with N images first and use them (0: read --ids)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var owned []OwnedImage
	if *images > 0 {
		dir, err := loadDirectory(*f.config)
		if err != nil {
			return err
		}
		res, err := Populate(ctx, PopulateConfig{Endpoint: *f.endpoint, Region: *f.region, Directory: dir,
			Images: *images, Concurrency: 16, Progress: stderr})
		if err != nil {
			return err
		}
		if err := res.Err(*images); err != nil {
			return fmt.Errorf("populate: %w", err)
		}
		printPopulate(stderr, res, "memory (not written)")
		owned = res.Images
	}
	cfg, err := f.runConfig(owned)
	if err != nil {
		return err
	}
	if isTerminal(stderr) {
		cfg.Progress = stderr
	}
	c, err := Compare(ctx, cfg)
	if err != nil {
		return err
	}
	if *f.json {
		err = c.WriteJSON(stdout)
	} else {
		err = c.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	return c.Amigo.Err()
}
