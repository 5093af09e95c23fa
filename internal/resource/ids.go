package resource

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// ValidResourceID reports whether id is prefix + "-" + 8 or 17 lowercase
// hex digits, the shape of every EC2 resource id (spec §1.1). Checked by
// hand: it runs on every request.
func ValidResourceID(id, prefix string) bool {
	if !strings.HasPrefix(id, prefix+"-") {
		return false
	}
	h := id[len(prefix)+1:]
	if len(h) != 8 && len(h) != 17 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidAccountID reports whether s is exactly 12 ASCII digits.
func ValidAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NewID returns prefix-<17 random lowercase hex digits>, as EC2 issues today.
func NewID(prefix string) string {
	var b [9]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "-" + hex.EncodeToString(b[:])[:17]
}

// IDSource issues new resource ids; tests inject a deterministic one.
// The zero IDSource is NewID.
type IDSource func(prefix string) string

// New returns a new id with the prefix.
func (s IDSource) New(prefix string) string {
	if s == nil {
		return NewID(prefix)
	}
	return s(prefix)
}

// ImageARN names an image in IAM policies; id "*" names every image of
// the region (the resource of actions that make one).
func ImageARN(region, id string) string { return "arn:aws:ec2:" + region + "::image/" + id }

// InstanceARN names an instance in IAM policies and DescribeImageReferences.
func InstanceARN(region, account, id string) string {
	return "arn:aws:ec2:" + region + ":" + account + ":instance/" + id
}

// SnapshotARN names a snapshot in IAM policies; snapshots, like images,
// carry no account in their ARN.
func SnapshotARN(region, id string) string { return "arn:aws:ec2:" + region + "::snapshot/" + id }

// VolumeARN names a volume in IAM policies.
func VolumeARN(region, account, id string) string {
	return "arn:aws:ec2:" + region + ":" + account + ":volume/" + id
}

// ARNOf names the resource with this id in IAM policies, by its kind; ""
// for an id of no known kind. Resources of the caller's own account carry
// the caller's account where their ARN has one.
func ARNOf(region, account, id string) string {
	switch TypeOf(id) {
	case "image":
		return ImageARN(region, id)
	case "instance":
		return InstanceARN(region, account, id)
	case "snapshot":
		return SnapshotARN(region, id)
	case "volume":
		return VolumeARN(region, account, id)
	}
	return ""
}

// types maps id prefixes to the resource types DescribeTags names.
var types = []struct{ prefix, typ string }{
	{"ami-", "image"},
	{"i-", "instance"},
	{"snap-", "snapshot"},
	{"vol-", "volume"},
}

// TypeOf names the kind of resource an id refers to ("image"), or "".
func TypeOf(id string) string {
	for _, t := range types {
		if strings.HasPrefix(id, t.prefix) {
			return t.typ
		}
	}
	return ""
}
