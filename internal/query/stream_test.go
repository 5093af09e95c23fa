package query

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/ec2api"
)

// streamOf returns a Stream over out's Images cut into batches of the
// given sizes (the rest in one last batch), out's own Images left nil.
func streamOf(out ec2api.DescribeImagesResult, sizes ...int) (*Stream, func() (any, error)) {
	imgs := out.Images
	out.Images = nil
	batches := [][]ec2api.Image{}
	for _, n := range sizes {
		n = min(n, len(imgs))
		batches = append(batches, imgs[:n])
		imgs = imgs[n:]
	}
	batches = append(batches, imgs)
	st := &Stream{Out: &out, List: "Images"}
	return st, func() (any, error) {
		if len(batches) == 0 {
			return nil, nil
		}
		b := batches[0]
		batches = batches[1:]
		return b, nil
	}
}

func manyImages(n, descLen int) []ec2api.Image {
	desc := strings.Repeat("d<&>", descLen/4)
	out := make([]ec2api.Image, n)
	for i := range out {
		id := "ami-" + strings.Repeat("0", 13) + string(rune('a'+i%26))
		out[i] = ec2api.Image{ImageId: &id, Description: &desc, Tags: []ec2api.Tag{{Key: ptrTo("k"), Value: ptrTo("v")}},
			BlockDeviceMappings: []ec2api.BlockDeviceMapping{{DeviceName: ptrTo("/dev/xvda")}}}
	}
	return out
}

// TestEncodeStreamEqualsWhole: the streamed answer, XML or JSON, is byte
// for byte what the one-piece encoders write for the same answer, however
// the list is cut into batches (empty lists, one item, batches that cross
// chunk boundaries, a member after the list).
func TestEncodeStreamEqualsWhole(t *testing.T) {
	tests := []struct {
		name  string
		out   ec2api.DescribeImagesResult
		sizes []int
	}{
		{"empty", ec2api.DescribeImagesResult{Images: []ec2api.Image{}}, nil},
		{"empty, empty batches first", ec2api.DescribeImagesResult{Images: []ec2api.Image{}}, []int{0}},
		{"the golden sample", *twoImages(), []int{1}},
		{"the golden sample in one batch", *twoImages(), nil},
		{"one item", ec2api.DescribeImagesResult{Images: manyImages(1, 10)}, nil},
		{"many small batches", ec2api.DescribeImagesResult{Images: manyImages(500, 100)}, []int{1, 2, 3, 200, 7}},
		{"batches across chunks", ec2api.DescribeImagesResult{Images: manyImages(3000, 900)}, []int{200, 1000, 1000}},
		{"a member after the list", ec2api.DescribeImagesResult{Images: manyImages(40, 10), NextToken: ptrTo("tok")}, []int{10}},
	}
	for _, tc := range tests {
		for _, asJSON := range []bool{false, true} {
			name := tc.name + map[bool]string{false: " xml", true: " json"}[asJSON]
			t.Run(name, func(t *testing.T) {
				var whole bytes.Buffer
				full := tc.out
				if asJSON {
					EncodeJSON(&whole, &full)
				} else {
					EncodeXML(&whole, "DescribeImages", testRequestID, &full)
				}
				st, next := streamOf(tc.out, tc.sizes...)
				var streamed, buf bytes.Buffer
				flushes := 0
				err := EncodeStream(&buf, asJSON, "DescribeImages", testRequestID, st, next, func(b *bytes.Buffer) error {
					flushes++
					if b.Len() > StreamChunk+16<<10 {
						t.Errorf("flush %d holds %d bytes, past the chunk of %d", flushes, b.Len(), StreamChunk)
					}
					streamed.Write(b.Bytes())
					b.Reset()
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				streamed.Write(buf.Bytes())
				if streamed.String() != whole.String() {
					t.Fatalf("streamed answer differs from the whole one:\n got %.300s\nwant %.300s", streamed.String(), whole.String())
				}
				if whole.Len() > 2*StreamChunk && flushes < whole.Len()/StreamChunk-1 {
					t.Errorf("%d flushes for %d bytes", flushes, whole.Len())
				}
				if asJSON {
					if !json.Valid(streamed.Bytes()) {
						t.Error("not valid JSON")
					}
				} else if err := xml.Unmarshal(streamed.Bytes(), new(struct{})); err != nil {
					t.Errorf("not well-formed: %v", err)
				}
			})
		}
	}
}

// TestEncodeStreamGolden: the streamed golden sample matches the golden
// file of the one-piece encoder.
func TestEncodeStreamGolden(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "describe_images.golden"))
	if err != nil {
		t.Fatal(err)
	}
	st, next := streamOf(*twoImages(), 1)
	var buf, got bytes.Buffer
	flush := func(b *bytes.Buffer) error { got.Write(b.Bytes()); b.Reset(); return nil }
	if err := EncodeStream(&buf, false, "DescribeImages", testRequestID, st, next, flush); err != nil {
		t.Fatal(err)
	}
	got.Write(buf.Bytes())
	if got.String() != string(want) {
		t.Errorf("streamed golden differs:\n got %s\nwant %s", got.String(), want)
	}
}

// TestEncodeStreamErrors: the first batch's error leaves nothing flushed
// (the server can still answer with an error envelope); a later batch's
// error and a failed flush stop the encoding at once.
func TestEncodeStreamErrors(t *testing.T) {
	boom := errors.New("boom")
	st := &Stream{Out: &ec2api.DescribeImagesResult{}, List: "Images"}
	var buf bytes.Buffer
	flushes := 0
	flush := func(b *bytes.Buffer) error { flushes++; b.Reset(); return nil }
	err := EncodeStream(&buf, false, "DescribeImages", "r", st, func() (any, error) { return nil, boom }, flush)
	if !errors.Is(err, boom) || flushes != 0 {
		t.Errorf("first batch fails: err %v, %d flushes; want boom and none", err, flushes)
	}

	calls := 0
	next := func() (any, error) {
		calls++
		if calls == 1 {
			return manyImages(10, 10), nil
		}
		return nil, boom
	}
	buf.Reset()
	err = EncodeStream(&buf, true, "DescribeImages", "r", st, next, flush)
	if !errors.Is(err, boom) || flushes != 1 {
		t.Errorf("second batch fails: err %v, %d flushes; want boom after the first batch's flush", err, flushes)
	}

	gone := errors.New("client gone")
	calls = 0
	more := func() (any, error) {
		calls++
		if calls > 3 {
			return nil, nil
		}
		return manyImages(10, 10), nil
	}
	err = EncodeStream(&buf, false, "DescribeImages", "r", st, more, func(b *bytes.Buffer) error { b.Reset(); return gone })
	if !errors.Is(err, gone) || calls != 1 {
		t.Errorf("flush fails: err %v after %d batches; want the flush's error before a second batch", err, calls)
	}
}
