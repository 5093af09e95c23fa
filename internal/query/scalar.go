package query

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// TimeFormat is how timestamps are written: UTC with milliseconds, as EC2
// writes creationDate (spec §1.1).
const TimeFormat = "2006-01-02T15:04:05.000Z"

// setText parses text as kind k and stores it at fp: through a new pointer
// when ptr is set (a struct field), in place otherwise (a list element). A bad
// value stores the zero value, so that the required check does not also
// report it missing, and returns what was expected, for invalidValue; the
// caller names the parameter only then.
func setText(k kind, fp unsafe.Pointer, ptr bool, text string) (expected string) {
	var bad string
	switch k {
	case kString:
		store(fp, ptr, text)
	case kBool:
		var v bool
		switch {
		case strings.EqualFold(text, "true"):
			v = true
		case strings.EqualFold(text, "false"):
		default:
			bad = "Expecting a boolean (true or false)."
		}
		store(fp, ptr, v)
	case kInt32:
		v, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			bad = "Expecting an integer between -2147483648 and 2147483647."
			v = 0
		}
		store(fp, ptr, int32(v))
	case kInt64:
		v, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			bad = "Expecting an integer between -9223372036854775808 and 9223372036854775807."
			v = 0
		}
		store(fp, ptr, v)
	case kFloat64:
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			bad = "Expecting a number."
			v = 0
		}
		store(fp, ptr, v)
	case kTime:
		v, err := parseTime(text)
		if err != nil {
			bad = "Expecting a timestamp such as 2006-01-02T15:04:05Z."
		}
		store(fp, ptr, v)
	case kBlob:
		v, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			bad = "Expecting base64-encoded data."
			v = nil
		}
		if v == nil {
			v = []byte{}
		}
		*(*[]byte)(fp) = v
	}
	return bad
}

func store[T any](fp unsafe.Pointer, ptr bool, v T) {
	if ptr {
		p := new(T) // allocate only here: &v would move v to the heap on every path
		*p = v
		*(**T)(fp) = p
	} else {
		*(*T)(fp) = v
	}
}

// parseTime accepts RFC 3339 with or without fractional seconds, with Z or
// an offset (botocore sends 2006-01-02T15:04:05Z or .ffffffZ), and returns UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// invalidValue words a bad scalar as EC2 does ("Value ( 3 ) for parameter
// maxResults is invalid. Expecting …", spec §4.3).
func invalidValue(name, value, expect string) *awserr.Error {
	return awserr.InvalidParameterValue("Value ( %s ) for parameter %s is invalid. %s", value, name, expect)
}

// checkText is the one input contract for strings, on both engines: every
// string parameter of every action passes here before anything stores it.
// PostgreSQL's text cannot hold NUL or invalid UTF-8 while SQLite can, so
// the same request once gave 500 on one engine and was stored by the other;
// XML 1.0 cannot carry NUL either. A bad string is InvalidParameterValue
// naming the parameter, recorded like any bad value (the first one wins,
// after unknown and missing names).
func (d *decoder) checkText(name, s string) {
	if d.invalid == nil && !ValidText(s) {
		d.invalid = invalidText(name)
	}
}

// ValidText reports whether s is valid UTF-8 without NUL bytes: what
// amigo accepts in any string it stores. dump's import uses it too.
func ValidText(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0:
			return false
		case c >= utf8.RuneSelf:
			// Rare: check the rest in one go.
			return utf8.ValidString(s[i:]) && strings.IndexByte(s[i:], 0) < 0
		}
	}
	return true
}

// invalidText words a string refused by checkText. It does not echo the
// value: it is exactly what the client cannot have meant to send.
func invalidText(name string) *awserr.Error {
	return awserr.InvalidParameterValue("Value for parameter %s is invalid. The value must be valid UTF-8 text without NUL (U+0000) characters.", name)
}

func unknownParameter(name string) *awserr.Error {
	return awserr.Newf(awserr.CodeUnknownParameter, "The parameter %s is not recognized", name)
}
