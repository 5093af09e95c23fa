package image

import (
	"strings"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// maxTags is EC2's per-resource tag limit (aws: tags aside).
const maxTags = 50

// ValidateTag applies EC2's tag rules to one user tag.
func ValidateTag(t Tag) error {
	if t.Key == "" {
		return awserr.New("InvalidParameterValue", "Tag keys must not be empty.")
	}
	if utf8.RuneCountInString(t.Key) > 128 {
		return awserr.Newf("InvalidParameterValue", "Tag key exceeds the maximum length of 128 characters.")
	}
	if utf8.RuneCountInString(t.Value) > 256 {
		return awserr.Newf("InvalidParameterValue", "Tag value exceeds the maximum length of 256 characters.")
	}
	if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
		return awserr.New("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
	}
	return nil
}

// mergeTags sets tags over existing ones (an existing key gets the new
// value) and enforces the per-resource limit.
func mergeTags(existing, add []Tag) ([]Tag, error) {
	out := append([]Tag(nil), existing...)
	for _, t := range add {
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value = t.Value
				found = true
				break
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, awserr.Newf("TagLimitExceeded", "The maximum number of tags per resource (%d) has been exceeded.", maxTags)
	}
	return out, nil
}
