package bench

import "testing"

func FuzzParseMix(f *testing.F) {
	for _, s := range []string{DefaultMix, "describe-all", "describe-id=0", "x=1,,", "describe-id=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMix(s)
		if err != nil {
			return
		}
		again, err := ParseMix(m.String())
		if err != nil || again != m {
			t.Fatalf("ParseMix(%q) = %v, but its String %q parses to %v, %v", s, m, m.String(), again, err)
		}
	})
}

func FuzzErrorCode(f *testing.F) {
	f.Add([]byte(`<Response><Errors><Error><Code>AuthFailure</Code></Error></Errors></Response>`))
	f.Add([]byte(`{"success":false,"error":{"code":"X"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ErrorCode(b) // must not panic
	})
}
