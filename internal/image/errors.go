package image

import (
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Errors the image actions share, worded as EC2 words them (spec §4.3).

func errMalformedID(id string) error {
	return awserr.Newf(awserr.CodeInvalidAMIIDMalformed, "Invalid id: %q (expecting \"ami-...\")", id)
}

func errNotFound(ids ...string) error {
	if len(ids) == 1 {
		return awserr.Newf(awserr.CodeInvalidAMIIDNotFound, "The image id '[%s]' does not exist", ids[0])
	}
	return awserr.Newf(awserr.CodeInvalidAMIIDNotFound, "The image ids '[%s]' do not exist", strings.Join(ids, ", "))
}

func errNotAuthorized(id string) error {
	return awserr.AuthFailureResource("Not authorized for image:" + id)
}

func errNoLongerAvailable(id string) error {
	return awserr.Newf(awserr.CodeInvalidAMIIDUnavailable, "The image ID '%s' is no longer available", id)
}

func errStateUnavailable(id, state string) error {
	return awserr.Newf(awserr.CodeInvalidAMIIDUnavailable, "The AMI ID '%s' is currently %s and may not be used for this operation", id, state)
}

func errItemValue(value, itemType string) error {
	return awserr.Newf(awserr.CodeInvalidAMIAttributeItemValue, "Invalid attribute item value %q for %s item type.", value, itemType)
}

func errInvalidRequest() error {
	return awserr.New(awserr.CodeInvalidRequest, "The request received was invalid.")
}

func errCombination(format string, args ...any) error {
	return awserr.Newf(awserr.CodeInvalidParameterCombination, format, args...)
}
