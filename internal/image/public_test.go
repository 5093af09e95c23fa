package image_test

import (
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
)

const encryptedMessage = "Encrypted snapshots can\u2019t be shared publicly. Specify another snapshot."

// encryptedSnapshot returns the fixture snapshot that is encrypted or not:
// a mapping's encryption is its snapshot's.
func encryptedSnapshot(on bool) string {
	if on {
		return it.EncryptedSnapshot
	}
	return it.Snapshot
}

// encrypted puts the root device on an encrypted snapshot, or not.
func encrypted(on bool) func(*image.RegisterRequest) {
	return func(r *image.RegisterRequest) { r.BlockDeviceMappings[0].Ebs.SnapshotID = encryptedSnapshot(on) }
}

// secondVolume adds /dev/xvdb on a snapshot encrypted or not.
func secondVolume(on bool) func(*image.RegisterRequest) {
	return func(r *image.RegisterRequest) {
		r.BlockDeviceMappings = append(r.BlockDeviceMappings, image.BlockDeviceMapping{DeviceName: "/dev/xvdb",
			Ebs: &image.EbsBlockDevice{SnapshotID: encryptedSnapshot(on)}})
	}
}

// An image backed by an encrypted snapshot is never public (spec §2.1.4
// step 8), whichever form the request takes; it may still be shared with
// accounts.
func TestEncryptedSnapshotsNeverPublic(t *testing.T) {
	owner := it.Caller(it.Owner)
	add := "add"
	attr := image.AttrLaunchPermission
	structured := func(id string) *image.ModifyRequest {
		return &image.ModifyRequest{ImageID: id, Add: []image.PermissionItem{it.Public()}}
	}
	cases := []struct {
		name    string
		edits   []func(*image.RegisterRequest)
		request func(id string) *image.ModifyRequest
		refused bool
	}{
		{"encrypted root", []func(*image.RegisterRequest){encrypted(true)}, structured, true},
		{"encrypted second volume", []func(*image.RegisterRequest){secondVolume(true)}, structured, true},
		{"flat form", []func(*image.RegisterRequest){encrypted(true)}, func(id string) *image.ModifyRequest {
			return &image.ModifyRequest{ImageID: id, Attribute: &attr, OperationType: &add, UserGroups: []string{"all"}}
		}, true},
		{"public among other grants", []func(*image.RegisterRequest){encrypted(true)}, func(id string) *image.ModifyRequest {
			return &image.ModifyRequest{ImageID: id, Add: []image.PermissionItem{it.User(it.Member), it.Public()}}
		}, true},
		{"unencrypted", []func(*image.RegisterRequest){encrypted(false), secondVolume(false)}, structured, false},
		{"encryption not stated", nil, structured, false},
		{"shared with an account", []func(*image.RegisterRequest){encrypted(true)}, func(id string) *image.ModifyRequest {
			return &image.ModifyRequest{ImageID: id, Add: []image.PermissionItem{it.User(it.Member)}}
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := it.New(t, image.Options{PublicImageQuota: 5})
			id := e.Register(t, owner, "img", tc.edits...)
			err := e.Svc.ModifyImageAttribute(ctx, owner, tc.request(id))
			if !tc.refused {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			it.WantError(t, err, "UnsupportedOperation", 400, encryptedMessage)
			if ps := e.Image(t, it.Region, id).LaunchPermissions; len(ps) != 0 {
				t.Fatalf("refused request kept %v", ps)
			}
		})
	}
}

// Encryption wins over the quota: at the public-image quota, an encrypted
// image is refused for its snapshots, the rule the owner cannot change.
func TestEncryptedCheckedBeforeQuota(t *testing.T) {
	e := it.New(t, image.Options{PublicImageQuota: 1})
	owner := it.Caller(it.Owner)
	if err := e.AddPermissions(owner, e.Register(t, owner, "public"), it.Public()); err != nil {
		t.Fatal(err)
	}
	id := e.Register(t, owner, "secret", encrypted(true))
	it.WantError(t, e.AddPermissions(owner, id, it.Public()), "UnsupportedOperation", 400, encryptedMessage)
}

// A copy made encrypted inherits the rule.
func TestEncryptedCopyNeverPublic(t *testing.T) {
	e := it.New(t, image.Options{PublicImageQuota: 5})
	owner := it.Caller(it.Owner)
	src := e.Register(t, owner, "plain")
	on := true
	cp, err := e.Svc.CopyImage(ctx, owner, &image.CopyRequest{SourceImageID: src, SourceRegion: it.Region, Name: "plain-encrypted", Encrypted: &on})
	if err != nil {
		t.Fatal(err)
	}
	it.WantError(t, e.AddPermissions(owner, cp, it.Public()), "UnsupportedOperation", 400, encryptedMessage)
	if err := e.AddPermissions(owner, src, it.Public()); err != nil {
		t.Fatalf("the unencrypted source: %v", err)
	}
}

// The gates on making an image public (spec §2.1.4 step 8), in the order
// EC2 applies them: block public access, marketplace codes, encrypted
// snapshots, then the quota.
func TestPublicGates(t *testing.T) {
	const (
		blocked     = "You can\u2019t publicly share this image because block public access for AMIs is enabled for this account. To publicly share the image, you must call the DisableImageBlockPublicAccess API."
		marketplace = "Images with marketplace product codes may not be made public."
	)
	owner := it.Caller(it.Owner)
	cases := []struct {
		name        string
		block       bool
		marketplace bool
		encrypted   bool
		atQuota     bool
		already     bool // the image is public before the request
		add         image.PermissionItem
		code, msg   string
	}{
		{name: "nothing in the way", add: it.Public()},
		{name: "block public access", block: true, add: it.Public(), code: "OperationNotPermitted", msg: blocked},
		{name: "block public access leaves account shares alone", block: true, add: it.User(it.Member)},
		{name: "block public access leaves public images public", block: true, already: true, add: it.Public()},
		{name: "marketplace code", marketplace: true, add: it.Public(), code: "OperationNotPermitted", msg: marketplace},
		{name: "marketplace code, shared with an account", marketplace: true, add: it.User(it.Member)},
		{name: "block public access before marketplace", block: true, marketplace: true, add: it.Public(), code: "OperationNotPermitted", msg: blocked},
		{name: "marketplace before encryption", marketplace: true, encrypted: true, add: it.Public(), code: "OperationNotPermitted", msg: marketplace},
		{name: "encryption before the quota", encrypted: true, atQuota: true, add: it.Public(), code: "UnsupportedOperation", msg: encryptedMessage},
		{name: "the quota", atQuota: true, add: it.Public(), code: "ResourceLimitExceeded", msg: publicQuotaMessage(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := it.New(t, image.Options{PublicImageQuota: 1})
			if tc.atQuota {
				if err := e.AddPermissions(owner, e.Register(t, owner, "public"), it.Public()); err != nil {
					t.Fatal(err)
				}
			}
			id := e.Register(t, owner, "candidate", encrypted(tc.encrypted))
			if tc.already {
				if err := e.AddPermissions(owner, id, it.Public()); err != nil {
					t.Fatal(err)
				}
			}
			if tc.marketplace {
				img := e.Image(t, it.Region, id)
				img.ID = "ami-0aaaaaaaaaaaaaaaa"
				img.Name = "marketplace"
				img.ProductCodes = []image.ProductCode{{Code: "abcdefghijklmnopqrstuvwxy", Type: "marketplace"}}
				e.Insert(t, img)
				id = img.ID
			}
			if tc.block {
				if _, err := e.Svc.SetImageBlockPublicAccess(ctx, owner, image.BlockNewSharing, false); err != nil {
					t.Fatal(err)
				}
			}
			err := e.AddPermissions(owner, id, tc.add)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			it.WantError(t, err, tc.code, 400, tc.msg)
		})
	}
}
