package sigv4

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func TestCheckSignedHeaders(t *testing.T) {
	many := make([]string, maxSignedHeaders+1)
	for i := range many {
		many[i] = "x-h" + string(rune('a'+i/26)) + string(rune('a'+i%26))
	}
	tests := []struct {
		name, sh string
		ok       bool
	}{
		{"botocore", "content-type;host;x-amz-date", true},
		{"one", "host", true},
		{"all token bytes", "a!#$%&'*+-.^_`|~z;host", true},
		{"the most names", strings.Join(many[:maxSignedHeaders], ";"), true},
		{"too many names", strings.Join(many, ";"), false},
		{"too long", "host;x-" + strings.Repeat("a", maxSignedHeadersSize), false},
		{"repeated", "host;x-big;x-big", false},
		{"unsorted", "x-amz-date;host", false},
		{"upper case", "Host;x-amz-date", false},
		{"case twins", "X-Big;host;x-big", false},
		{"empty name", "host;;x-amz-date", false},
		{"trailing separator", "host;", false},
		{"space", "host; x-amz-date", false},
		{"comma", "host,x-amz-date", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSignedHeaders(tc.sh)
			if (err == nil) != tc.ok {
				t.Fatalf("checkSignedHeaders(%q) = %v, want ok=%v", tc.sh, err, tc.ok)
			}
			if err != nil && (err.Code != "IncompleteSignature" || err.Status != http.StatusBadRequest) {
				t.Fatalf("error %+v, want IncompleteSignature 400", err)
			}
		})
	}
}

// TestVerifyCostIsLinear signs a request with one large header. Listing
// that header many times used to build a canonical request per listing
// (gigabytes for a half-megabyte request); now the list is refused before
// any canonical request exists, and an honest request with the same header
// costs a small multiple of its size.
func TestVerifyCostIsLinear(t *testing.T) {
	const size = 256 << 10
	big := strings.Repeat("v", size)
	honest, body := signHeader(t, req{header: map[string]string{"X-Big": big}})
	if !strings.Contains(honest.Header.Get("Authorization"), "x-big") {
		t.Fatal("the SDK did not sign X-Big; the test needs it signed")
	}
	v := testVerifier()
	if alloc := allocated(func() {
		if _, err := v.Verify(honest, body); err != nil {
			t.Fatalf("honest request: %v", err)
		}
	}); alloc > 4*size {
		t.Errorf("verifying a request with a %d-byte header allocated %d bytes, want at most %d", size, alloc, 4*size)
	}

	hostile, body := signHeader(t, req{header: map[string]string{"X-Big": big}})
	repeated := "host;" + strings.Repeat("x-big;", 300) + "x-date"
	h := hostile.Header.Get("Authorization")
	i := strings.Index(h, "SignedHeaders=")
	j := strings.Index(h[i:], ",")
	hostile.Header.Set("Authorization", h[:i]+"SignedHeaders="+repeated+h[i+j:])
	var err error
	if alloc := allocated(func() { _, err = v.Verify(hostile, body) }); alloc > 64<<10 {
		t.Errorf("refusing a repeated SignedHeaders list allocated %d bytes, want at most 64 KiB", alloc)
	}
	if errCode(err) != "IncompleteSignature" {
		t.Errorf("repeated SignedHeaders: %v, want IncompleteSignature", err)
	}
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzSignedHeaders checks the shape rule against a plain restatement of
// it, and that an accepted list copies each header into the canonical
// request at most once.
func FuzzSignedHeaders(f *testing.F) {
	for _, s := range []string{"host", "content-type;host;x-amz-date", "host;host", "Host", "", ";", "a;b;c", "b;a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sh string) {
		err := checkSignedHeaders(sh)
		names := strings.Split(sh, ";")
		want := len(sh) <= maxSignedHeadersSize && len(names) <= maxSignedHeaders
		for i, n := range names {
			if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, " \t,;:=\"()/<>?@[]\\{}\x7f") || (i > 0 && n <= names[i-1]) {
				want = false
			}
			for _, c := range []byte(n) {
				if c < 0x21 || c > 0x7e {
					want = false
				}
			}
		}
		if (err == nil) != want {
			t.Fatalf("checkSignedHeaders(%q) = %v, want ok=%v", sh, err, want)
		}
		if err != nil {
			return
		}
		r, _ := http.NewRequest(http.MethodPost, "http://"+testHost+"/", nil)
		for _, n := range names {
			r.Header.Set(n, "0123456789")
		}
		if got, limit := len(canonicalHeaders(r, sh)), len(names)*(len("0123456789")+2)+len(sh)+len(testHost); got > limit {
			t.Fatalf("canonical headers of %q are %d bytes, more than %d", sh, got, limit)
		}
	})
}
