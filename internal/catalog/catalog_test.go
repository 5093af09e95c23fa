package catalog

import (
	"strings"
	"testing"
)

const goodJSON = `{"name":"al2023-ami-2023.6","owner_id":"137112412989","owner_alias":"amazon","creation_date":"2024-12-12T18:30:01Z","description":%s}`

// TestParseRefusesBadText: the catalogue is held to the API's contract for
// stored strings, in both of its formats.
func TestParseRefusesBadText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"json ok", strings.Replace(goodJSON, "%s", `"Amazon Linux 2023 — ünïcode"`, 1), ""},
		{"json NUL", strings.Replace(goodJSON, "%s", `"a\u0000b"`, 1), "NUL character or invalid UTF-8"},
		{"json raw invalid UTF-8", strings.Replace(goodJSON, "%s", "\"a\xffb\"", 1), "line 1: invalid UTF-8"},
		{"yaml ok", "images:\n- name: al2023-ami-2023.6\n  owner_id: \"137112412989\"\n  creation_date: \"2024-12-12T18:30:01Z\"\n  description: \"ok\"\n", ""},
		{"yaml NUL", "images:\n- name: al2023-ami-2023.6\n  owner_id: \"137112412989\"\n  creation_date: \"2024-12-12T18:30:01Z\"\n  description: \"a\\0b\"\n", "NUL character or invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Parse = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestDefaultCatalogueParses(t *testing.T) {
	if es, err := Default(); err != nil || len(es) == 0 {
		t.Fatalf("Default() = %d entries, %v", len(es), err)
	}
}
