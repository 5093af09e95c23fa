package resource

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Tag is a key/value pair; tags belong to the account that set them, so
// an owner's tags are invisible to the accounts it shares with (spec §1.6).
type Tag struct {
	Key   string
	Value string
}

// ResourceTag is one tag with the resource and account it belongs to.
type ResourceTag struct {
	Region     string
	Account    string
	ResourceID string
	Tag
}

// TagQuery selects tags; zero fields do not narrow. Region "" and Account
// "" mean all (export). Results are ordered by resource id, then key.
type TagQuery struct {
	Region      string
	Account     string
	ResourceIDs []string
	Keys        []string
	// After pages: only (resource id, key) pairs after this one.
	AfterResourceID string
	AfterKey        string
	Limit           int
}

// MaxTags is EC2's per-resource tag limit (aws: tags aside).
const MaxTags = 50

// ValidateTag applies EC2's tag rules to one user tag.
func ValidateTag(t Tag) error {
	if t.Key == "" {
		return awserr.New(awserr.CodeInvalidParameterValue, "Tag keys must not be empty.")
	}
	if utf8.RuneCountInString(t.Key) > 128 {
		return awserr.Newf(awserr.CodeInvalidParameterValue, "Tag key exceeds the maximum length of 128 characters.")
	}
	if utf8.RuneCountInString(t.Value) > 256 {
		return awserr.Newf(awserr.CodeInvalidParameterValue, "Tag value exceeds the maximum length of 256 characters.")
	}
	return CheckUserKey(t.Key)
}

// CheckUserKey refuses the keys AWS keeps for itself.
func CheckUserKey(key string) error {
	if IsAWSKey(key) {
		return awserr.New(awserr.CodeInvalidParameterValue, "Tag keys starting with 'aws:' are reserved for internal use")
	}
	return nil
}

// IsAWSKey reports whether a key is one AWS sets (aws:…), which users
// can neither set nor delete and copies do not carry.
func IsAWSKey(key string) bool { return strings.HasPrefix(strings.ToLower(key), "aws:") }

// MergeTags sets tags over existing ones and enforces the per-resource
// limit. It is the repeated-key rule: a key given again (in add, or
// already in existing) keeps one entry with its last value, so a list it
// returns never repeats a key and the stores need not check.
func MergeTags(existing, add []Tag) ([]Tag, error) {
	out := append([]Tag(nil), existing...)
	for _, t := range add {
		if i := slices.IndexFunc(out, func(o Tag) bool { return o.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, awserr.Newf(awserr.CodeTagLimitExceeded, "The maximum number of tags per resource (%d) has been exceeded.", MaxTags)
	}
	return out, nil
}

// TagSpecification asks for tags on a resource created by the request.
type TagSpecification struct {
	ResourceType string
	Tags         []Tag
}

// TagsFor validates a request's TagSpecifications and returns the tags
// meant for one resource type (merged, MergeTags' rule); only the allowed
// types may appear.
func TagsFor(specs []TagSpecification, want string, allowed ...string) ([]Tag, error) {
	var tags []Tag
	for _, ts := range specs {
		if ts.ResourceType == "" {
			return nil, awserr.MissingParameter("TagSpecification.ResourceType")
		}
		if !slices.Contains(allowed, ts.ResourceType) {
			return nil, awserr.InvalidParameterValue("'%s' is not a valid taggable resource type for this operation.", ts.ResourceType)
		}
		for _, t := range ts.Tags {
			if err := ValidateTag(t); err != nil {
				return nil, err
			}
		}
		if ts.ResourceType == want {
			var err error
			if tags, err = MergeTags(tags, ts.Tags); err != nil {
				return nil, err
			}
		}
	}
	return tags, nil
}
