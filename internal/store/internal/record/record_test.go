package record

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
)

// Decoding a cached document twice gives equal images that share nothing.
func TestDecodeImageCacheDoesNotAlias(t *testing.T) {
	ena, size, enc := true, int32(8), false
	src := &image.Image{ID: "ami-0123456789abcdef0", Description: "d", EnaSupport: &ena,
		BlockDeviceMappings: []image.BlockDeviceMapping{{DeviceName: "/dev/xvda",
			Ebs: &image.EbsBlockDevice{SnapshotID: "snap-0123456789abcdef0", VolumeSize: &size, Encrypted: &enc}}}}
	doc, err := EncodeImage(src)
	if err != nil {
		t.Fatal(err)
	}
	docs := NewDocs(0)
	var a, b image.Image
	if err := docs.DecodeImage([]byte(doc), &a); err != nil {
		t.Fatal(err)
	}
	if err := docs.DecodeImage([]byte(doc), &b); err != nil {
		t.Fatal(err)
	}
	if docs.Len() != 1 {
		t.Fatalf("cache holds %d documents, want 1", docs.Len())
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("second decode differs")
	}
	*a.EnaSupport = false
	*a.BlockDeviceMappings[0].Ebs.VolumeSize = 99
	a.BlockDeviceMappings[0].DeviceName = "/dev/sdz"
	var c image.Image
	if err := docs.DecodeImage([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if !*c.EnaSupport || *c.BlockDeviceMappings[0].Ebs.VolumeSize != 8 || c.BlockDeviceMappings[0].DeviceName != "/dev/xvda" {
		t.Fatal("changing a decoded image changed the cache")
	}
}

// Each Docs is its own: one store's documents are not another's, a full
// cache starts over, and a nil Docs decodes without keeping anything.
func TestDocsBelongToTheirOwner(t *testing.T) {
	docOf := func(desc string) []byte {
		t.Helper()
		doc, err := EncodeImage(&image.Image{Description: desc})
		if err != nil {
			t.Fatal(err)
		}
		return []byte(doc)
	}
	one, two := NewDocs(2), NewDocs(2)
	var img image.Image
	for _, d := range []string{"a", "b"} {
		if err := one.DecodeImage(docOf(d), &img); err != nil {
			t.Fatal(err)
		}
	}
	if one.Len() != 2 || two.Len() != 0 {
		t.Fatalf("Len: one %d, two %d; want 2, 0", one.Len(), two.Len())
	}
	if err := one.DecodeImage(docOf("c"), &img); err != nil {
		t.Fatal(err)
	}
	if one.Len() != 1 || img.Description != "c" {
		t.Fatalf("after overflow: Len %d, description %q; want 1, c", one.Len(), img.Description)
	}
	var none *Docs
	if err := none.DecodeImage(docOf("d"), &img); err != nil || img.Description != "d" || none.Len() != 0 {
		t.Fatalf("nil Docs: err %v, description %q, Len %d", err, img.Description, none.Len())
	}
	if err := none.DecodeImage([]byte("{"), &img); err == nil {
		t.Fatal("nil Docs accepted a malformed document")
	}
}

// The column lists agree with the code that fills and reads them.
func TestColumnsMatchValues(t *testing.T) {
	if n := len(strings.Split(ImageColumns, ",")); n != imageColumnCount {
		t.Errorf("ImageColumns names %d columns, imageColumnCount is %d", n, imageColumnCount)
	}
	vals, err := ImageValues(&image.Image{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != len(ImageValueColumns) {
		t.Errorf("ImageValues gives %d values for %d ImageValueColumns", len(vals), len(ImageValueColumns))
	}
	ivals, err := InstanceValues(&instance.Instance{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ivals) != len(InstanceColumns) {
		t.Errorf("InstanceValues gives %d values for %d InstanceColumns", len(ivals), len(InstanceColumns))
	}
	dst := &fakeRow{}
	if _, err := ScanImage(dst, nil); err == nil || dst.n != imageColumnCount {
		t.Errorf("ScanImage scanned %d destinations, want %d", dst.n, imageColumnCount)
	}
	dst = &fakeRow{}
	if _, err := ScanInstance(dst); err == nil || dst.n != len(InstanceColumns) {
		t.Errorf("ScanInstance scanned %d destinations, want %d", dst.n, len(InstanceColumns))
	}
	if got := Assign([]string{"a", "b"}, 3, func(n int) string { return "$" + string(rune('0'+n)) }); got != "a = $3, b = $4" {
		t.Errorf("Assign = %q", got)
	}
}

// fakeRow counts the destinations of a Scan and fails it.
type fakeRow struct{ n int }

func (r *fakeRow) Scan(dest ...any) error {
	r.n = len(dest)
	return errScan
}

var errScan = errors.New("scan refused")
