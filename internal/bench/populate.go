package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/awserr"
)

// PopulateConfig says how many images to create and where.
type PopulateConfig struct {
	Endpoint    string
	Region      string
	Directory   *account.Directory
	Images      int
	Concurrency int
	// Progress, when set, receives a "\r…" progress line.
	Progress io.Writer
}

// PopulateResult is what populate made.
type PopulateResult struct {
	Images []OwnedImage // registered, in creation order
	// Failed counts RegisterImage calls that failed, by error code.
	Failed map[string]int
	Shared int // images given a launch permission
	Public int // of them, made public
	// PublicRefused counts Group=all grants refused with
	// ResourceLimitExceeded (EC2's quota of public images per account).
	PublicRefused int
	// ShareFailed counts other failed grants, by error code.
	ShareFailed map[string]int
	Elapsed     time.Duration
}

// maxPopulate bounds one populate run.
const maxPopulate = 1_000_000

// Err reports a populate run where more than 1 % of the registrations or
// of the grants failed.
func (r *PopulateResult) Err(want int) error {
	failed := 0
	for _, n := range r.Failed {
		failed += n
	}
	shareFailed := 0
	for _, n := range r.ShareFailed {
		shareFailed += n
	}
	if float64(failed) > float64(want)*maxFailedPercent/100 || (want > 0 && len(r.Images) == 0) {
		return fmt.Errorf("%d of %d registrations failed: %v", failed, want, r.Failed)
	}
	if float64(shareFailed) > float64(want)*maxFailedPercent/100 {
		return fmt.Errorf("%d grants failed: %v", shareFailed, r.ShareFailed)
	}
	return nil
}

// grantFor is the launch permission populate gives image i, as one form
// field; "" for none. About 30 % of images get one: an account id, the
// organization, or an OU (the owner's organization when it has one), and
// 1 % are made public: image k·100 + k%10, so that the public ones fall to
// different owners rather than all to the first.
func grantFor(i int, owner string, others []string, org *account.Organization) (field, value string) {
	switch {
	case i%100 == (i/100)%10:
		return "LaunchPermission.Add.1.Group", "all"
	case i%10 != 3 && i%10 != 6 && i%10 != 9:
		return "", ""
	}
	other := strangerAccount
	for j := range others {
		if o := others[(i/10+j)%len(others)]; o != owner {
			other = o
			break
		}
	}
	switch {
	case org == nil || i%10 == 3:
		return "LaunchPermission.Add.1.UserId", other
	case i%10 == 6 || len(org.OUs) == 0:
		return "LaunchPermission.Add.1.OrganizationArn", org.ARN
	default:
		return "LaunchPermission.Add.1.OrganizationalUnitArn", org.OUs[(i/10)%len(org.OUs)].ARN
	}
}

// Populate registers cfg.Images images over the accounts with keys, round
// robin, each with an EBS root, architecture x86_64, hvm and two tags, then
// grants launch permissions to about 30 % of them (see grantFor).
func Populate(ctx context.Context, cfg PopulateConfig) (*PopulateResult, error) {
	if cfg.Images < 1 || cfg.Images > maxPopulate {
		return nil, fmt.Errorf("--images must be from 1 to %d", maxPopulate)
	}
	if cfg.Concurrency < 1 || cfg.Concurrency > maxConcurrency {
		return nil, fmt.Errorf("--concurrency must be from 1 to %d", maxConcurrency)
	}
	ps := principals(cfg.Directory)
	if len(ps) == 0 {
		return nil, errors.New("no account of the bootstrap file has an access key")
	}
	c, err := newClient(cfg.Endpoint, cfg.Region, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	defer c.close()

	orgs := cfg.Directory.Organizations()
	orgOf := make(map[string]*account.Organization)
	for i := range orgs {
		o := &orgs[i]
		for _, a := range o.Accounts {
			orgOf[a] = o
		}
		for _, u := range o.OUs {
			for _, a := range u.Accounts {
				orgOf[a] = o
			}
		}
	}
	var anyOrg *account.Organization
	if len(orgs) > 0 {
		anyOrg = &orgs[0]
	}
	others := cfg.Directory.Accounts()

	// A run tag keeps names unique across populate runs.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	ids := make([]string, cfg.Images)
	snaps := make([]string, cfg.Images)
	var (
		mu  sync.Mutex
		res = &PopulateResult{Failed: map[string]int{}, ShareFailed: map[string]int{}}
	)
	fail := func(m map[string]int, code string) {
		mu.Lock()
		m[code]++
		mu.Unlock()
	}
	var done atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for i := range jobs {
				p := ps[i%len(ps)]
				id, snap, code := register(ctx, c, p, &buf, run, i)
				if code != "" {
					fail(res.Failed, code)
					done.Add(1)
					continue
				}
				ids[i], snaps[i] = id, snap
				org := orgOf[p.Account]
				if org == nil {
					org = anyOrg
				}
				if field, value := grantFor(i, p.Account, others, org); field != "" {
					f := newForm("ModifyImageAttribute").add("ImageId", id).add(field, value)
					r, err := c.do(ctx, p, f.b, &buf)
					switch {
					case err == nil && r.code == "":
						mu.Lock()
						res.Shared++
						if value == "all" {
							res.Public++
						}
						mu.Unlock()
					case value == "all" && r.code == awserr.CodeResourceLimitExceeded:
						mu.Lock()
						res.PublicRefused++
						mu.Unlock()
					default:
						fail(res.ShareFailed, r.code)
					}
				}
				done.Add(1)
			}
		}()
	}
	stop := showCountProgress(cfg.Progress, "populate", &done, cfg.Images, start)
feed:
	for i := range cfg.Images {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	stop()
	for i, id := range ids {
		if id != "" {
			res.Images = append(res.Images, OwnedImage{Owner: ps[i%len(ps)].Account, ID: id, Snapshot: snaps[i]})
		}
	}
	res.Elapsed = time.Since(start)
	return res, ctx.Err()
}

// snapshotFor makes p a snapshot to register an image on, as a client
// does (CreateVolume, then CreateSnapshot: amigo refuses snapshot ids it
// has no record of), and returns its id, or the error code.
func snapshotFor(ctx context.Context, c *client, p *Principal, buf *bytes.Buffer) (id, code string) {
	f := newForm("CreateVolume").add("AvailabilityZone", c.region+"a").addInt("Size", 8).add("VolumeType", "gp3")
	r, err := c.do(ctx, p, f.b, buf)
	if err != nil || r.code != "" {
		return "", r.code
	}
	vol, ok := between(buf.Bytes(), "<volumeId>", "</volumeId>")
	if !ok {
		return "", "NoVolumeId"
	}
	f = newForm("CreateSnapshot").add("VolumeId", string(vol))
	if r, err = c.do(ctx, p, f.b, buf); err != nil || r.code != "" {
		return "", r.code
	}
	snap, ok := between(buf.Bytes(), "<snapshotId>", "</snapshotId>")
	if !ok {
		return "", "NoSnapshotId"
	}
	return string(snap), ""
}

// register creates image i for p on a new snapshot and returns its id and
// the snapshot's, or the error code.
func register(ctx context.Context, c *client, p *Principal, buf *bytes.Buffer, run string, i int) (id, snap, code string) {
	snap, code = snapshotFor(ctx, c, p, buf)
	if code != "" {
		return "", "", code
	}
	team := teams[i%len(teams)]
	env := envs[(i/len(teams))%len(envs)]
	name := "bench-" + run + "-" + strconv.Itoa(i)
	f := newForm("RegisterImage").
		add("Name", name).
		add("Description", "amigo bench image "+strconv.Itoa(i)).
		add("Architecture", "x86_64").
		add("VirtualizationType", "hvm").
		add("RootDeviceName", "/dev/xvda").
		add("EnaSupport", "true").
		add("BlockDeviceMapping.1.DeviceName", "/dev/xvda").
		add("BlockDeviceMapping.1.Ebs.SnapshotId", snap).
		addInt("BlockDeviceMapping.1.Ebs.VolumeSize", 8).
		add("BlockDeviceMapping.1.Ebs.VolumeType", "gp3").
		add("BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true").
		add("TagSpecification.1.ResourceType", "image").
		add("TagSpecification.1.Tag.1.Key", "Team").
		add("TagSpecification.1.Tag.1.Value", team).
		add("TagSpecification.1.Tag.2.Key", "Env").
		add("TagSpecification.1.Tag.2.Value", env)
	r, err := c.do(ctx, p, f.b, buf)
	if err != nil || r.code != "" {
		return "", "", r.code
	}
	v, ok := between(buf.Bytes(), "<imageId>", "</imageId>")
	if !ok || !imageIDRE.Match(v) {
		return "", "", "NoImageId"
	}
	return string(v), snap, ""
}

var (
	teams = []string{"payments", "search", "platform", "data", "web", "ml"}
	envs  = []string{"prod", "staging", "dev"}
)

// showCountProgress prints "\rwhat  done/total  rate/s  ETA" four times a
// second until stopped, then a final line and a newline.
func showCountProgress(out io.Writer, what string, done *atomic.Int64, total int, start time.Time) (stop func()) {
	if out == nil {
		return func() {}
	}
	line := func(final bool) {
		n := done.Load()
		el := time.Since(start)
		rate := float64(n) / max(el.Seconds(), 1e-9)
		eta := "-"
		if rate > 0 && !final {
			eta = (time.Duration(float64(int64(total)-n)/rate*1e9) * time.Nanosecond).Round(time.Second).String()
		}
		width := 30
		filled := int(float64(width) * float64(n) / float64(max(total, 1)))
		bar := bytes.Repeat([]byte{'#'}, filled)
		bar = append(bar, bytes.Repeat([]byte{'.'}, width-filled)...)
		fmt.Fprintf(out, "\r\033[K%s [%s] %d/%d  %.0f/s  elapsed %s  ETA %s", what, bar, n, total, rate, el.Round(time.Second), eta)
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				line(true)
				fmt.Fprintln(out)
				return
			case <-tick.C:
				line(false)
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}
