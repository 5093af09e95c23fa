// Package imagetest runs the image service as amigo runs it — over a real
// SQLite store, here in a test's temporary directory — with a clock and ids
// the test controls, so the domain's rules can be tested where they live.
//
//	env := imagetest.New(t, image.Options{PublicImageQuota: 2})
//	id := env.Register(t, imagetest.Caller(imagetest.Owner), "web")
//	env.Clock.Advance(24 * time.Hour)
package imagetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
)

// Epoch is where test clocks start: a fixed instant, after the embedded
// catalogue's newest creation date so its deprecation rules read as today.
var Epoch = time.Date(2026, time.November, 20, 10, 0, 0, 0, time.UTC)

// Clock is a clock that moves only when told to. It is safe for concurrent
// use, so a server may read it while the test advances it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock showing start.
func NewClock(start time.Time) *Clock { return &Clock{now: start.UTC()} }

// Now is the clock's time; pass it as image.Options.Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
}

// IDs hands out ids in sequence: ami-00000000000000001, then …02, whatever
// the prefix, so answers are the same on every run.
type IDs struct{ n atomic.Int64 }

// Next is the id source; pass it as image.Options.NewID.
func (f *IDs) Next(prefix string) string {
	return fmt.Sprintf("%s-%017x", prefix, f.n.Add(1))
}

// Accounts the helpers below use; any 12-digit id works as a caller.
const (
	Owner    = "111122223333"
	Member   = "222233334444"
	Stranger = "444455556666"
	Region   = "us-east-1"
	// Snapshot is the snapshot Register's images are backed by: a public,
	// completed 8 GiB snapshot of SnapshotOwner, in every region (New
	// plants it), so any caller may register on it.
	Snapshot      = "snap-0123456789abcdef0"
	SnapshotOwner = "999988887777"
	// EncryptedSnapshot is Owner's encrypted 8 GiB snapshot, in Region.
	EncryptedSnapshot = "snap-0123456789abcdefe"
)

// Caller is account calling in Region with no organization and no policy.
func Caller(account string) resource.Caller { return CallerIn(Region, account) }

// CallerIn is account calling in region.
func CallerIn(region, account string) resource.Caller {
	return resource.Caller{Viewer: resource.Viewer{Account: account}, Region: region}
}

// OrgCaller is account calling in Region as a member of the organization
// orgARN, under the OUs ouARNs (outermost first).
func OrgCaller(account, orgARN string, ouARNs ...string) resource.Caller {
	c := Caller(account)
	c.OrgARN, c.OUARNs = orgARN, ouARNs
	return c
}

// Env is one service over its own store.
type Env struct {
	Svc *image.Service
	// Tags are the tag actions (CreateTags, DeleteTags, DescribeTags) over
	// the same store, as the server wires them.
	Tags  *resource.Tagging[instance.Tx]
	Store image.Store
	Clock *Clock
	IDs   *IDs
}

// New opens a SQLite store in t.TempDir() and a service over it. opts.Now
// and opts.NewID, when nil, become the Env's Clock (at Epoch) and IDs; the
// store closes when t ends.
func New(t testing.TB, opts image.Options) *Env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "amigo.db"), sqlite.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	e := &Env{Store: st, Clock: NewClock(Epoch), IDs: &IDs{}}
	if opts.Now == nil {
		opts.Now = e.Clock.Now
	}
	if opts.NewID == nil {
		opts.NewID = e.IDs.Next
	}
	e.Svc, err = image.NewService(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.Tags = instance.NewService(st, e.Svc, instance.Options{Now: opts.Now, NewID: opts.NewID}).Tagging()
	e.plantSnapshots(t)
	return e
}

// RegisterRequest is the request Register sends: an 8 GiB EBS-backed
// x86_64 HVM image on Snapshot. Change it through Register's edits.
func RegisterRequest(name string) *image.RegisterRequest {
	size := int32(8)
	return &image.RegisterRequest{
		Name: name, RootDeviceName: "/dev/xvda", Architecture: "x86_64", VirtualizationType: "hvm",
		BlockDeviceMappings: []image.BlockDeviceMapping{{
			DeviceName: "/dev/xvda",
			Ebs:        &image.EbsBlockDevice{SnapshotID: Snapshot, VolumeSize: &size},
		}},
	}
}

// Register registers an image as c and returns its id; edits adjust the
// request first. A refusal fails the test.
func (e *Env) Register(t testing.TB, c resource.Caller, name string, edits ...func(*image.RegisterRequest)) string {
	t.Helper()
	r := RegisterRequest(name)
	for _, edit := range edits {
		edit(r)
	}
	id, err := e.Svc.RegisterImage(context.Background(), c, r)
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	return id
}

// plantSnapshots stores Snapshot in every region and EncryptedSnapshot in
// Region.
func (e *Env) plantSnapshots(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	err := e.Store.Update(ctx, func(tx image.Tx) error {
		for _, region := range resource.RegionNames() {
			err := tx.InsertSnapshot(ctx, &snapshot.Snapshot{Region: region, ID: Snapshot, OwnerID: SnapshotOwner, VolumeSize: 8,
				State: snapshot.StateCompleted, StartTime: Epoch, CompletedAt: Epoch, Public: true})
			if err != nil {
				return err
			}
			if err := tx.SetSnapshotPermissions(ctx, region, Snapshot, []snapshot.Permission{{Group: snapshot.GroupAll}}); err != nil {
				return err
			}
		}
		return tx.InsertSnapshot(ctx, &snapshot.Snapshot{Region: Region, ID: EncryptedSnapshot, OwnerID: Owner, VolumeSize: 8,
			State: snapshot.StateCompleted, StartTime: Epoch, CompletedAt: Epoch, Encrypted: true,
			KmsKeyID: "arn:aws:kms:us-east-1:" + Owner + ":key/fixture"})
	})
	if err != nil {
		t.Fatalf("plant snapshots: %v", err)
	}
}

// AddPermissions adds launch permissions to image id as c: the answer of
// ModifyImageAttribute with LaunchPermission.Add.
func (e *Env) AddPermissions(c resource.Caller, id string, items ...image.PermissionItem) error {
	return e.Svc.ModifyImageAttribute(context.Background(), c, &image.ModifyRequest{ImageID: id, Add: items})
}

// RemovePermissions removes launch permissions from image id as c.
func (e *Env) RemovePermissions(c resource.Caller, id string, items ...image.PermissionItem) error {
	return e.Svc.ModifyImageAttribute(context.Background(), c, &image.ModifyRequest{ImageID: id, Remove: items})
}

// Image reads image id straight from the store (no visibility rules).
func (e *Env) Image(t testing.TB, region, id string) *image.Image {
	t.Helper()
	var img *image.Image
	err := e.Store.View(context.Background(), func(tx image.Tx) error {
		var err error
		img, err = tx.Image(context.Background(), region, id)
		return err
	})
	if err != nil {
		t.Fatalf("image %s: %v", id, err)
	}
	return img
}

// Public is the launch-permission item that makes an image public.
func Public() image.PermissionItem { return image.PermissionItem{Group: ptr("all")} }

// User is the launch-permission item granting account.
func User(account string) image.PermissionItem { return image.PermissionItem{UserID: ptr(account)} }

// Org is the launch-permission item granting an organization.
func Org(arn string) image.PermissionItem { return image.PermissionItem{OrganizationArn: ptr(arn)} }

// OU is the launch-permission item granting an organizational unit.
func OU(arn string) image.PermissionItem {
	return image.PermissionItem{OrganizationalUnitArn: ptr(arn)}
}

func ptr[T any](v T) *T { return &v }

// WantError fails t unless err is the EC2 error code with this HTTP status
// and exactly this message.
func WantError(t testing.TB, err error, code string, status int, message string) {
	t.Helper()
	var ae *awserr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("want %s (%d) %q, got %v", code, status, message, err)
	}
	if ae.Code != code || ae.Status != status || ae.Message != message {
		t.Fatalf("want %s (%d) %q\n got %s (%d) %q", code, status, message, ae.Code, ae.Status, ae.Message)
	}
}

// Insert stores img as it is, the way the catalogue plants images no
// action can make (marketplace product codes, owner aliases).
func (e *Env) Insert(t testing.TB, img *image.Image) {
	t.Helper()
	err := e.Store.Update(context.Background(), func(tx image.Tx) error {
		return tx.InsertImage(context.Background(), img)
	})
	if err != nil {
		t.Fatalf("insert %s: %v", img.ID, err)
	}
}
