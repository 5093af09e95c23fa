package image

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
)

// Identifier shapes (spec §1.1). Checked by hand where hot: a regexp per
// request is cheap enough elsewhere.
var (
	orgARNPattern = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:organizations::\d{12}:organization/o-[a-z0-9]{10,32}$`)
	ouARNPattern  = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:organizations::\d{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	namePattern   = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./\-'@_]{3,128}$`)
)

// ValidResourceID reports whether id is prefix + "-" + 8 or 17 lowercase hex digits.
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

// ValidImageID reports whether id is a well-formed AMI id.
func ValidImageID(id string) bool { return ValidResourceID(id, "ami") }

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

// ValidOrgARN and ValidOUARN check the full ARN shapes EC2 accepts.
func ValidOrgARN(s string) bool { return orgARNPattern.MatchString(s) }

// ValidOUARN reports whether s is an organizational unit ARN.
func ValidOUARN(s string) bool { return ouARNPattern.MatchString(s) }

// ValidName reports whether s is an acceptable AMI name.
func ValidName(s string) bool { return namePattern.MatchString(s) }

// NewID returns prefix-<17 random lowercase hex digits>, as EC2 issues today.
func NewID(prefix string) string {
	var b [9]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "-" + hex.EncodeToString(b[:])[:17]
}

// ARN returns the image's ARN as IAM policies name it.
func ARN(region, id string) string { return "arn:aws:ec2:" + region + "::image/" + id }
