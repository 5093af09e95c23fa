package image

import (
	"regexp"

	"github.com/amigo-ec2/amigo/internal/resource"
)

// Identifier shapes (spec §1.1). Checked by hand where hot: a regexp per
// request is cheap enough elsewhere.
var (
	orgARNPattern = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:organizations::\d{12}:organization/o-[a-z0-9]{10,32}$`)
	ouARNPattern  = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:organizations::\d{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	namePattern   = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./\-'@_]{3,128}$`)
)

// ValidImageID reports whether id is a well-formed AMI id.
func ValidImageID(id string) bool { return resource.ValidResourceID(id, "ami") }

// ValidOrgARN and ValidOUARN check the full ARN shapes EC2 accepts.
func ValidOrgARN(s string) bool { return orgARNPattern.MatchString(s) }

// ValidOUARN reports whether s is an organizational unit ARN.
func ValidOUARN(s string) bool { return ouARNPattern.MatchString(s) }

// ValidName reports whether s is an acceptable AMI name.
func ValidName(s string) bool { return namePattern.MatchString(s) }
