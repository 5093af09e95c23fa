package image_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
)

// quotaService is a Service over a real SQLite store in a temp dir.
func quotaService(t *testing.T, opts image.Options) *image.Service {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "amigo.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts.AllowUnknownSnapshots = true // about the quota, not the snapshots
	s, err := image.NewService(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// makePublic registers n images and makes each public in turn; it returns
// how many became public and the error that stopped it, if any.
func makePublicN(t *testing.T, s *image.Service, n int) (int, error) {
	t.Helper()
	ctx := context.Background()
	c := resource.Caller{Viewer: resource.Viewer{Account: "111122223333"}, Region: "us-east-1"}
	all := "all"
	for i := range n {
		id, err := s.RegisterImage(ctx, c, &image.RegisterRequest{
			Name:           fmt.Sprintf("quota-%d", i),
			RootDeviceName: "/dev/xvda",
			BlockDeviceMappings: []image.BlockDeviceMapping{{DeviceName: "/dev/xvda",
				Ebs: &image.EbsBlockDevice{SnapshotID: "snap-0123456789abcdef0"}}},
		})
		if err != nil {
			t.Fatalf("RegisterImage: %v", err)
		}
		err = s.ModifyImageAttribute(ctx, c, &image.ModifyRequest{ImageID: id,
			Add: []image.PermissionItem{{Group: &all}}})
		if err != nil {
			return i, err
		}
	}
	return n, nil
}

func TestPublicImageQuotaOption(t *testing.T) {
	tests := []struct {
		name       string
		quota      int
		try        int
		wantPublic int
		wantMsg    string // "" when every attempt succeeds
	}{
		// The zero value is a quota of zero, not EC2's default in disguise.
		{"zero allows no public image", 0, 1, 0,
			"You have reached your quota of 0 for the number of public images allowed in this Region. Deregister unused public images or make them private, or request an increase in your public AMIs quota."},
		{"EC2's default", image.DefaultPublicImageQuota, 6, 5,
			"You have reached your quota of 5 for the number of public images allowed in this Region. Deregister unused public images or make them private, or request an increase in your public AMIs quota."},
		{"one", 1, 2, 1, "You have reached your quota of 1 "},
		{"negative is unlimited", -1, 8, 8, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := quotaService(t, image.Options{PublicImageQuota: tt.quota})
			got, err := makePublicN(t, s, tt.try)
			if got != tt.wantPublic {
				t.Errorf("%d images made public, want %d (err %v)", got, tt.wantPublic, err)
			}
			if tt.wantMsg == "" {
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
				return
			}
			var ae *awserr.Error
			if !errors.As(err, &ae) || ae.Code != "ResourceLimitExceeded" || ae.Status != 400 || !strings.HasPrefix(ae.Message, tt.wantMsg) {
				t.Errorf("err = %#v, want ResourceLimitExceeded (400) %q", err, tt.wantMsg)
			}
		})
	}
}
