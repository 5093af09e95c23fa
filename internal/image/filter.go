package image

import (
	"strconv"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Filter is one Filter.N of a Describe call: any value may match (OR).
type Filter struct {
	Name   *string
	Values []string
}

// Limits on filters (spec §2.4.4: EC2 defines FilterLimitExceeded).
const (
	maxFilters         = 50
	maxValuesPerFilter = 200
)

// field extracts the values a filter compares against from a resource
// (an image or an instance) and the caller's tags on it.
type field[R any] func(r R, tags []Tag) []string

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func boolStr(b bool) string { return strconv.FormatBool(b) }

func optBool(p *bool) []string {
	if p == nil {
		return []string{"false"}
	}
	return []string{boolStr(*p)}
}

func eachEbs(img *Image, f func(e *EbsBlockDevice) string) []string {
	var out []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil {
			if v := f(m.Ebs); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// TimeFormat is how EC2 writes creationDate and deprecationTime.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// imageFields is every DescribeImages filter the model lists (spec §2.4.4).
var imageFields = map[string]field[*Image]{
	"architecture": func(i *Image, _ []Tag) []string { return one(i.Architecture) },
	"block-device-mapping.delete-on-termination": func(i *Image, _ []Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string {
			if e.DeleteOnTermination == nil {
				return "false"
			}
			return boolStr(*e.DeleteOnTermination)
		})
	},
	"block-device-mapping.device-name": func(i *Image, _ []Tag) []string {
		var out []string
		for _, m := range i.BlockDeviceMappings {
			out = append(out, m.DeviceName)
		}
		return out
	},
	"block-device-mapping.snapshot-id": func(i *Image, _ []Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string { return e.SnapshotID })
	},
	"block-device-mapping.volume-size": func(i *Image, _ []Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string {
			if e.VolumeSize == nil {
				return ""
			}
			return strconv.Itoa(int(*e.VolumeSize))
		})
	},
	"block-device-mapping.volume-type": func(i *Image, _ []Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string { return e.VolumeType })
	},
	"block-device-mapping.encrypted": func(i *Image, _ []Tag) []string {
		return eachEbs(i, func(e *EbsBlockDevice) string {
			if e.Encrypted == nil {
				return "false"
			}
			return boolStr(*e.Encrypted)
		})
	},
	"creation-date":      func(i *Image, _ []Tag) []string { return []string{i.CreationDate.UTC().Format(TimeFormat)} },
	"description":        func(i *Image, _ []Tag) []string { return one(i.Description) },
	"ena-support":        func(i *Image, _ []Tag) []string { return optBool(i.EnaSupport) },
	"free-tier-eligible": func(i *Image, _ []Tag) []string { return optBool(i.FreeTierEligible) },
	"hypervisor":         func(i *Image, _ []Tag) []string { return one(i.Hypervisor) },
	"image-allowed":      func(i *Image, _ []Tag) []string { return []string{"true"} },
	"image-id":           func(i *Image, _ []Tag) []string { return one(i.ID) },
	"image-type":         func(i *Image, _ []Tag) []string { return one(i.ImageType) },
	"is-public":          func(i *Image, _ []Tag) []string { return []string{boolStr(i.IsPublic())} },
	"kernel-id":          func(i *Image, _ []Tag) []string { return one(i.KernelID) },
	"manifest-location":  func(i *Image, _ []Tag) []string { return one(i.Location) },
	"name":               func(i *Image, _ []Tag) []string { return one(i.Name) },
	"owner-alias":        func(i *Image, _ []Tag) []string { return one(i.OwnerAlias) },
	"owner-id":           func(i *Image, _ []Tag) []string { return one(i.OwnerID) },
	"platform":           func(i *Image, _ []Tag) []string { return one(i.Platform) },
	"product-code": func(i *Image, _ []Tag) []string {
		var out []string
		for _, p := range i.ProductCodes {
			out = append(out, p.Code)
		}
		return out
	},
	"product-code.type": func(i *Image, _ []Tag) []string {
		var out []string
		for _, p := range i.ProductCodes {
			out = append(out, p.Type)
		}
		return out
	},
	"public-ssm-parameter-name": func(i *Image, _ []Tag) []string { return nil },
	"ramdisk-id":                func(i *Image, _ []Tag) []string { return one(i.RamdiskID) },
	"root-device-name":          func(i *Image, _ []Tag) []string { return one(i.RootDeviceName) },
	"root-device-type":          func(i *Image, _ []Tag) []string { return one(i.RootDeviceType) },
	"source-image-id":           func(i *Image, _ []Tag) []string { return one(i.SourceImageID) },
	"source-image-region":       func(i *Image, _ []Tag) []string { return one(i.SourceImageRegion) },
	"source-instance-id":        func(i *Image, _ []Tag) []string { return one(i.SourceInstanceID) },
	"state":                     func(i *Image, _ []Tag) []string { return one(i.State) },
	"state-reason-code": func(i *Image, _ []Tag) []string {
		if i.StateReason == nil {
			return nil
		}
		return one(i.StateReason.Code)
	},
	"state-reason-message": func(i *Image, _ []Tag) []string {
		if i.StateReason == nil {
			return nil
		}
		return one(i.StateReason.Message)
	},
	"sriov-net-support":   func(i *Image, _ []Tag) []string { return one(i.SriovNetSupport) },
	"virtualization-type": func(i *Image, _ []Tag) []string { return one(i.VirtualizationType) },
	"tag-key": func(_ *Image, tags []Tag) []string {
		var out []string
		for _, t := range tags {
			out = append(out, t.Key)
		}
		return out
	},
}

// compiledFilter is a validated filter ready to test resources.
type compiledFilter[R any] struct {
	name     string
	field    field[R]
	patterns []pattern
}

func compileFilters[R any](fs []Filter, fields map[string]field[R]) ([]compiledFilter[R], error) {
	if len(fs) > maxFilters {
		return nil, awserr.Newf("FilterLimitExceeded", "The maximum number of filters (%d) has been exceeded.", maxFilters)
	}
	out := make([]compiledFilter[R], 0, len(fs))
	for _, f := range fs {
		if f.Name == nil || *f.Name == "" {
			return nil, awserr.InvalidParameterValue("The filter 'null' is invalid")
		}
		name := *f.Name
		if len(f.Values) > maxValuesPerFilter {
			return nil, awserr.Newf("FilterLimitExceeded", "The maximum number of filter values specified on a single call is %d", maxValuesPerFilter)
		}
		cf := compiledFilter[R]{name: name}
		if key, ok := strings.CutPrefix(name, "tag:"); ok && key != "" {
			cf.field = func(_ R, tags []Tag) []string {
				for _, t := range tags {
					if t.Key == key {
						return []string{t.Value}
					}
				}
				return nil
			}
		} else if fd, ok := fields[name]; ok {
			cf.field = fd
		} else {
			return nil, awserr.InvalidParameterValue("The filter '%s' is invalid", name)
		}
		for _, v := range f.Values {
			cf.patterns = append(cf.patterns, compilePattern(v))
		}
		out = append(out, cf)
	}
	return out, nil
}

// matchAll reports whether every filter matches (AND of ORs).
func matchAll[R any](fs []compiledFilter[R], r R, tags []Tag) bool {
	for i := range fs {
		if !fs[i].match(r, tags) {
			return false
		}
	}
	return true
}

// matchValue reports whether one of the filter's patterns matches v.
func (f *compiledFilter[R]) matchValue(v string) bool {
	for _, p := range f.patterns {
		if p.match(v) {
			return true
		}
	}
	return false
}

func (f *compiledFilter[R]) match(r R, tags []Tag) bool {
	vals := f.field(r, tags)
	for _, p := range f.patterns {
		for _, v := range vals {
			if p.match(v) {
				return true
			}
		}
	}
	return false
}

// pattern is a filter value: literal text with * (any run), ? (zero or one
// character) and backslash escapes.
type pattern struct {
	literal string // set when the value has no wildcard
	tokens  []ptoken
	wild    bool
}

type ptoken struct {
	kind byte // 'l' literal rune, '*', '?'
	r    rune
}

func compilePattern(v string) pattern {
	if !strings.ContainsAny(v, `*?\`) {
		return pattern{literal: v} // byte for byte, even for invalid UTF-8
	}
	var toks []ptoken
	wild := false
	var lit strings.Builder
	rs := []rune(v)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\\':
			if i+1 < len(rs) {
				i++
			}
			toks = append(toks, ptoken{kind: 'l', r: rs[i]})
			lit.WriteRune(rs[i])
		case '*', '?':
			wild = true
			toks = append(toks, ptoken{kind: byte(rs[i])})
		default:
			toks = append(toks, ptoken{kind: 'l', r: rs[i]})
			lit.WriteRune(rs[i])
		}
	}
	if !wild {
		return pattern{literal: lit.String()}
	}
	return pattern{tokens: toks, wild: true}
}

// prefix returns the literal prefix of a pattern of the form "abc*" (used to
// pick an index), and whether the pattern has exactly that form.
func (p pattern) prefix() (string, bool) {
	if !p.wild {
		return "", false
	}
	n := len(p.tokens)
	if n == 0 || p.tokens[n-1].kind != '*' {
		return "", false
	}
	var b strings.Builder
	for _, t := range p.tokens[:n-1] {
		if t.kind != 'l' {
			return "", false
		}
		b.WriteRune(t.r)
	}
	return b.String(), true
}

func (p pattern) match(s string) bool {
	if !p.wild {
		return s == p.literal
	}
	return matchTokens(p.tokens, []rune(s))
}

// matchTokens is a small backtracking-free glob matcher: dynamic
// programming over positions, linear in len(tokens)*len(s).
func matchTokens(toks []ptoken, s []rune) bool {
	cur := make([]bool, len(s)+1)
	next := make([]bool, len(s)+1)
	cur[0] = true
	for _, t := range toks {
		for i := range next {
			next[i] = false
		}
		switch t.kind {
		case '*':
			any := false
			for i := 0; i <= len(s); i++ {
				any = any || cur[i]
				next[i] = any
			}
		case '?':
			for i := 0; i <= len(s); i++ {
				if cur[i] {
					next[i] = true
					if i < len(s) {
						next[i+1] = true
					}
				}
			}
		default:
			for i := 0; i < len(s); i++ {
				if cur[i] && s[i] == t.r {
					next[i+1] = true
				}
			}
		}
		cur, next = next, cur
	}
	return cur[len(s)]
}

// deprecated reports whether the image's deprecation time has passed.
func deprecated(img *Image, now time.Time) bool {
	return img.DeprecationTime != nil && !now.Before(*img.DeprecationTime)
}
