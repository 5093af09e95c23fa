package resource

import (
	"slices"
	"strings"
	"testing"
)

// The repeated-key rule: a key given twice keeps one entry with its last
// value, whether it repeats within a request or overwrites an existing tag.
func TestMergeTagsRepeatedKeys(t *testing.T) {
	for _, tc := range []struct {
		name           string
		existing, add  []Tag
		want           []Tag
		wantLimitError bool
	}{
		{"new keys append", []Tag{{"a", "1"}}, []Tag{{"b", "2"}}, []Tag{{"a", "1"}, {"b", "2"}}, false},
		{"existing key overwritten in place", []Tag{{"a", "1"}, {"b", "2"}}, []Tag{{"a", "9"}}, []Tag{{"a", "9"}, {"b", "2"}}, false},
		{"repeated in one request: last wins", nil, []Tag{{"a", "1"}, {"a", "2"}, {"a", "3"}}, []Tag{{"a", "3"}}, false},
		{"empty value is a value", []Tag{{"a", "1"}}, []Tag{{"a", ""}}, []Tag{{"a", ""}}, false},
		{"limit", tagsN(MaxTags), []Tag{{"new", "x"}}, nil, true},
		{"limit counts distinct keys", tagsN(MaxTags), []Tag{{"k0", "x"}, {"k0", "y"}}, nil, false},
	} {
		got, err := MergeTags(tc.existing, tc.add)
		if tc.wantLimitError {
			if codeOf(err) != "TagLimitExceeded" {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		seen := map[string]bool{}
		for _, tg := range got {
			if seen[tg.Key] {
				t.Errorf("%s: key %q twice in %v", tc.name, tg.Key, got)
			}
			seen[tg.Key] = true
		}
	}
}

func tagsN(n int) []Tag {
	out := make([]Tag, n)
	for i := range out {
		out[i] = Tag{Key: "k" + string(rune('0'+i%10)) + strings.Repeat("x", i/10), Value: "v"}
	}
	return out
}

func TestTagsFor(t *testing.T) {
	specs := []TagSpecification{
		{ResourceType: "instance", Tags: []Tag{{"Name", "web"}, {"Name", "web-2"}}},
		{ResourceType: "volume", Tags: []Tag{{"Disk", "root"}}},
		{ResourceType: "instance", Tags: []Tag{{"Team", "blue"}}},
	}
	got, err := TagsFor(specs, "instance", "instance", "volume")
	if err != nil || !slices.Equal(got, []Tag{{"Name", "web-2"}, {"Team", "blue"}}) {
		t.Fatalf("instance tags %v %v", got, err)
	}
	for _, tc := range []struct {
		name  string
		specs []TagSpecification
		code  string
	}{
		{"type not allowed", []TagSpecification{{ResourceType: "snapshot"}}, "InvalidParameterValue"},
		{"no type", []TagSpecification{{Tags: []Tag{{"a", "b"}}}}, "MissingParameter"},
		{"aws: key", []TagSpecification{{ResourceType: "volume", Tags: []Tag{{"AWS:x", "b"}}}}, "InvalidParameterValue"},
		{"empty key", []TagSpecification{{ResourceType: "instance", Tags: []Tag{{"", "b"}}}}, "InvalidParameterValue"},
	} {
		if _, err := TagsFor(tc.specs, "instance", "instance", "volume"); codeOf(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}

func TestTypeOf(t *testing.T) {
	for id, want := range map[string]string{"ami-12345678": "image", "i-0123456789abcdef0": "instance",
		"snap-1": "snapshot", "vol-1": "volume", "sg-1": "", "": ""} {
		if got := TypeOf(id); got != want {
			t.Errorf("TypeOf(%q) = %q, want %q", id, got, want)
		}
	}
}
