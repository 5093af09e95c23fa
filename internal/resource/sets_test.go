package resource

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The tags given to Tx.SetTags have distinct keys: a key repeated in one
// request, across TagSpecifications or over an existing tag keeps its last
// value.
func TestTagKeysStayDistinct(t *testing.T) {
	tag := func(k, v string) Tag { return Tag{Key: k, Value: v} }
	t.Run("MergeTags", func(t *testing.T) {
		got, err := MergeTags([]Tag{tag("Team", "red"), tag("Env", "prod")}, []Tag{tag("Team", "blue"), tag("Name", "a"), tag("Name", "b")})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]Tag{tag("Team", "blue"), tag("Env", "prod"), tag("Name", "b")}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("TagSpecifications", func(t *testing.T) {
		got, err := TagsFor([]TagSpecification{
			{ResourceType: "image", Tags: []Tag{tag("Team", "red"), tag("Team", "green")}},
			{ResourceType: "snapshot", Tags: []Tag{tag("Team", "snap")}},
			{ResourceType: "image", Tags: []Tag{tag("Team", "blue")}},
		}, "image", "image", "snapshot")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]Tag{tag("Team", "blue")}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
