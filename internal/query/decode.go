package query

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// MaxParameters is how many parameters one request may carry, in a form, a
// query string or a JSON body; the server counts a request's parameters
// against it before it parses them, so both say the same.
const MaxParameters = 20000

// TooManyParameters is the answer to a request with n > MaxParameters
// parameters.
func TooManyParameters(n int) *awserr.Error {
	return awserr.InvalidParameterValue("The request has %d parameters, more than the limit of %d.", n, MaxParameters)
}

// Limits checked before any work that grows with them.
const (
	maxParameters = MaxParameters // distinct parameter names in one request
	maxListItems  = 10000         // items in one list
	maxIndexLen   = 9             // digits of a list index: fits uint32, never allocated by value
)

// pair is one parameter; a request is a slice of them sorted by name, so
// every structure and every list item owns one contiguous run (all names
// sharing a prefix are adjacent in sorted order).
type pair struct {
	name, value string
}

// span is one list item: its index and its run of pairs.
type span struct {
	index      uint32
	start, end int
	off        int // length of "Name.N." in the item's names
}

// decoder keeps the first error of the kinds that wait for the end: EC2
// reports unknown names before missing ones, and missing before bad values
// (spec §4.4 step 3).
type decoder struct {
	missing *awserr.Error
	invalid *awserr.Error

	// strs backs the *string fields of one request: one allocation instead
	// of one per string. nstr bounds how many a request can hold (its
	// parameters; a JSON body's quotes / 2), so strs is made once.
	strs []string
	nstr int
}

func (d *decoder) newString(s string) *string {
	if len(d.strs) == cap(d.strs) {
		d.strs = make([]string, 0, max(d.nstr, 1))
	}
	d.strs = append(d.strs, s)
	return &d.strs[len(d.strs)-1]
}

// Decode fills dst (pointer to a struct with query tags) from form values.
// The caller has already removed Action, Version and the SigV4 X-Amz-* auth
// parameters.
//
// Names are case-sensitive and follow the EC2 protocol (spec §3.2):
// Description.Value, BlockDeviceMapping.1.Ebs.SnapshotId, Filter.2.Value.3.
// Items are ordered by index; gaps are allowed. Errors, all *awserr.Error
// with status 400:
//   - UnknownParameter "The parameter <name> is not recognized" for a name
//     that maps to no field (a list without index, an index on a non-list,
//     extra segments);
//   - MissingParameter "The request must contain the parameter <name>" for a
//     required member of dst or of a structure or item that is present
//     (<name> is the full wire name, e.g. Filter.1.Name);
//   - InvalidParameterValue for a bad scalar, a string that is not valid
//     UTF-8 or holds a NUL byte (see checkText), a bad list index (0, not
//     decimal, signed, over 9 digits), a duplicated name, or too many
//     parameters or items.
//
// On error dst may be partly filled.
func Decode(values url.Values, dst any) error {
	p, base, err := target(dst, "Decode")
	if err != nil {
		return awserr.Internal(err)
	}
	if len(values) > maxParameters {
		return TooManyParameters(len(values))
	}
	var stack [32]pair
	pairs := stack[:0]
	if len(values) > len(stack) {
		pairs = make([]pair, 0, len(values))
	}
	repeated := false
	for name, vs := range values {
		if len(vs) == 0 {
			continue
		}
		repeated = repeated || len(vs) > 1
		pairs = append(pairs, pair{name, vs[0]})
	}
	slices.SortFunc(pairs, func(a, b pair) int { return strings.Compare(a.name, b.name) })
	if repeated { // report the first in name order, not map order
		for _, pr := range pairs {
			if len(values[pr.name]) > 1 {
				return duplicated(pr.name)
			}
		}
	}
	d := decoder{nstr: len(pairs)}
	if err := d.structure(p, base, pairs, 0); err != nil {
		return err
	}
	if d.missing != nil {
		return d.missing
	}
	if d.invalid != nil {
		return d.invalid
	}
	return nil
}

// structure decodes pairs into the struct at base. Every name in pairs
// starts with the same prefix of length off ("" at the top,
// "BlockDeviceMapping.1.Ebs." further down).
func (d *decoder) structure(p *structPlan, base unsafe.Pointer, pairs []pair, off int) *awserr.Error {
	for i := 0; i < len(pairs); {
		name := pairs[i].name
		seg, _, nested := strings.Cut(name[off:], ".")
		f := p.byQuery[seg]
		if f == nil {
			return unknownParameter(name)
		}
		fp := unsafe.Add(base, f.offset)
		if f.kind != kStruct && f.kind != kList {
			if nested {
				return unknownParameter(name)
			}
			if f.kind == kString {
				d.checkText(name, pairs[i].value)
				*(**string)(fp) = d.newString(pairs[i].value)
				i++
				continue
			}
			if exp := setText(f.kind, fp, true, pairs[i].value); exp != "" && d.invalid == nil {
				d.invalid = invalidValue(name, pairs[i].value, exp)
			}
			i++
			continue
		}
		if !nested {
			return unknownParameter(name) // a structure or list needs more segments
		}
		subOff := off + len(seg) + 1
		j := runEnd(pairs, i, subOff)
		if f.kind == kStruct {
			sp := *(*unsafe.Pointer)(fp)
			if sp == nil {
				sp = f.sub.newStruct()
				*(*unsafe.Pointer)(fp) = sp
			}
			if err := d.structure(f.sub, sp, pairs[i:j], subOff); err != nil {
				return err
			}
		} else if err := d.list(f, fp, pairs[i:j], subOff); err != nil {
			return err
		}
		i = j
	}
	if d.missing == nil && len(p.required) > 0 {
		prefix := ""
		if len(pairs) > 0 {
			prefix = pairs[0].name[:off]
		}
		for _, f := range p.required {
			if !f.present(base) {
				d.missing = awserr.MissingParameter(prefix + f.query)
				break
			}
		}
	}
	return nil
}

// list decodes the run of a list field; names start with "Name." (length
// off). Items are gathered as spans, ordered by index, and decoded straight
// into a slice of the right length: nothing is sized by an index value.
func (d *decoder) list(f *field, fp unsafe.Pointer, pairs []pair, off int) *awserr.Error {
	var stack [16]span
	spans := stack[:0]
	for i := 0; i < len(pairs); {
		name := pairs[i].name
		idx, _, nested := strings.Cut(name[off:], ".")
		n, ok := parseIndex(idx)
		if !ok {
			return awserr.InvalidParameterValue("The parameter %s has an invalid list index (%s). An index is a positive decimal number of at most %d digits.", name, idx, maxIndexLen)
		}
		j := i + 1
		if f.elem == kStruct {
			if !nested {
				return unknownParameter(name)
			}
			j = runEnd(pairs, i, off+len(idx)+1)
		} else if nested {
			return unknownParameter(name)
		}
		if len(spans) == maxListItems {
			return awserr.InvalidParameterValue("The parameter %s has more than %d items.", name[:off-1], maxListItems)
		}
		spans = append(spans, span{index: n, start: i, end: j, off: off + len(idx) + 1})
		i = j
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.index, b.index) })
	for k := 1; k < len(spans); k++ {
		if spans[k].index == spans[k-1].index { // "1" and "01"
			return duplicated(pairs[spans[k].start].name)
		}
	}
	data := makeList(f, fp, len(spans))
	for k, s := range spans {
		ep := unsafe.Add(data, uintptr(k)*f.elemSize)
		if f.elem == kStruct {
			if err := d.structure(f.sub, ep, pairs[s.start:s.end], s.off); err != nil {
				return err
			}
			continue
		}
		pr := pairs[s.start]
		if f.elem == kString {
			d.checkText(pr.name, pr.value)
		}
		if exp := setText(f.elem, ep, false, pr.value); exp != "" && d.invalid == nil {
			d.invalid = invalidValue(pr.name, pr.value, exp)
		}
	}
	return nil
}

// makeList stores a new slice of n zero elements in the list field at fp and
// returns its first element.
func makeList(f *field, fp unsafe.Pointer, n int) unsafe.Pointer {
	switch f.elem {
	case kString:
		return makeInto[string](fp, n)
	case kBool:
		return makeInto[bool](fp, n)
	case kInt32:
		return makeInto[int32](fp, n)
	case kInt64:
		return makeInto[int64](fp, n)
	case kFloat64:
		return makeInto[float64](fp, n)
	case kTime:
		return makeInto[time.Time](fp, n)
	}
	data := reflectMakeSlice(f.sliceType, n)
	*(*sliceHeader)(fp) = sliceHeader{data: data, len: n, cap: n}
	return data
}

func makeInto[T any](fp unsafe.Pointer, n int) unsafe.Pointer {
	s := make([]T, n)
	*(*[]T)(fp) = s
	return unsafe.Pointer(unsafe.SliceData(s))
}

// runEnd returns the end of the run that starts at i and shares the first
// off bytes of pairs[i].name.
func runEnd(pairs []pair, i, off int) int {
	prefix := pairs[i].name[:off]
	j := i + 1
	for j < len(pairs) && strings.HasPrefix(pairs[j].name, prefix) {
		j++
	}
	return j
}

// parseIndex accepts 1 to 9 decimal digits with a value above zero.
func parseIndex(s string) (uint32, bool) {
	if len(s) == 0 || len(s) > maxIndexLen {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint32(c-'0')
	}
	return n, n > 0
}

func duplicated(name string) *awserr.Error {
	return awserr.InvalidParameterValue("The parameter %s is given more than once.", name)
}
