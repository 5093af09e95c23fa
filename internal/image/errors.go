package image

import (
	"net/http"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Errors the image actions share, worded as EC2 words them (spec §4.3).

func errMalformedID(id string) error {
	return awserr.Newf("InvalidAMIID.Malformed", "Invalid id: %q (expecting \"ami-...\")", id)
}

func errNotFound(ids ...string) error {
	if len(ids) == 1 {
		return awserr.Newf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", ids[0])
	}
	return awserr.Newf("InvalidAMIID.NotFound", "The image ids '[%s]' do not exist", strings.Join(ids, ", "))
}

func errNotAuthorized(id string) error {
	return awserr.WithStatus(http.StatusBadRequest, "AuthFailure", "Not authorized for image:"+id)
}

func errNoLongerAvailable(id string) error {
	return awserr.Newf("InvalidAMIID.Unavailable", "The image ID '%s' is no longer available", id)
}

func errStateUnavailable(id, state string) error {
	return awserr.Newf("InvalidAMIID.Unavailable", "The AMI ID '%s' is currently %s and may not be used for this operation", id, state)
}

func errItemValue(value, itemType string) error {
	return awserr.Newf("InvalidAMIAttributeItemValue", "Invalid attribute item value %q for %s item type.", value, itemType)
}

func errInvalidRequest() error {
	return awserr.New("InvalidRequest", "The request received was invalid.")
}

func errCombination(format string, args ...any) error {
	return awserr.Newf("InvalidParameterCombination", format, args...)
}
