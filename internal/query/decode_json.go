package query

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// maxJSONDepth bounds the nesting of values that are skipped ("Action"):
// everything else is bounded by the plan.
const maxJSONDepth = 1000

// DecodeJSON fills dst from a JSON object keyed by model member names (json
// tags), e.g. {"ImageId":"ami-…","LaunchPermission":{"Add":[{"UserId":"111122223333"}]},"DryRun":true}.
// Keys "Action" and "Version" at the top level are ignored; null is the same
// as an absent member. Errors are those of Decode, with names written as
// member paths (LaunchPermission.Add.1.UserId): UnknownParameter for an
// unknown member, InvalidParameterValue for a wrong JSON type, a bad value or
// a repeated key, MissingParameter for a required member; a body that is not
// one JSON object (RFC 8259) is MalformedQueryString.
//
// dst keeps no reference to data.
func DecodeJSON(data []byte, dst any) error {
	p, base, err := target(dst, "DecodeJSON")
	if err != nil {
		return awserr.Internal(err)
	}
	// Every string fits in one arena: quotes bound their number.
	d := jsonDecoder{s: scanner{data: data}}
	d.nstr = min(bytes.Count(data, []byte{'"'})/2, maxParameters)
	if !d.s.consume('{') {
		return malformedJSON()
	}
	d.path = d.pathBuf[:0]
	if err := d.object(p, base, true); err != nil {
		return err
	}
	if d.s.skipSpace(); d.s.pos != len(data) {
		return malformedJSON()
	}
	if d.missing != nil {
		return d.missing
	}
	if d.invalid != nil {
		return d.invalid
	}
	return nil
}

type jsonDecoder struct {
	decoder
	s      scanner
	values int // values seen, capped like the parameters of a form

	// path is where the value being read sits (LaunchPermission.Add.2),
	// pushed and popped as the decoder descends; it becomes a string only
	// in an error message.
	path    []byte
	pathBuf [128]byte
}

// pushKey appends a member name to the path and returns the length to pop
// back to.
func (d *jsonDecoder) pushKey(key []byte) int {
	mark := d.dot()
	d.path = append(d.path, key...)
	return mark
}

// pushIndex appends a 1-based item position.
func (d *jsonDecoder) pushIndex(pos int) int {
	mark := d.dot()
	d.path = strconv.AppendInt(d.path, int64(pos), 10)
	return mark
}

func (d *jsonDecoder) dot() int {
	mark := len(d.path)
	if mark > 0 {
		d.path = append(d.path, '.')
	}
	return mark
}

func (d *jsonDecoder) pop(mark int) { d.path = d.path[:mark] }

// name is the current path, for an error message.
func (d *jsonDecoder) name() string { return string(d.path) }

func malformedJSON() *awserr.Error {
	return awserr.New(awserr.CodeMalformedQueryString, "The request body is not a valid JSON object.")
}

// count caps the values of one body, as maxParameters caps a form.
func (d *jsonDecoder) count() *awserr.Error {
	if d.values++; d.values > maxParameters {
		return awserr.InvalidParameterValue("The request has more than %d values.", maxParameters)
	}
	return nil
}

// object decodes the members of an object whose '{' has been read.
func (d *jsonDecoder) object(p *structPlan, base unsafe.Pointer, top bool) *awserr.Error {
	var seenSmall uint64
	var seen []uint64
	if len(p.fields) > 64 {
		seen = make([]uint64, (len(p.fields)+63)/64)
	}
	if d.s.consume('}') {
		d.checkRequired(p, base)
		return nil
	}
	for {
		key, ok := d.s.key()
		if !ok || !d.s.consume(':') {
			return malformedJSON()
		}
		f := p.byJSON[string(key)] // no allocation for a map index
		mark := d.pushKey(key)
		switch {
		case f != nil:
			word, bit := &seenSmall, uint64(1)<<(f.index%64)
			if seen != nil {
				word = &seen[f.index/64]
			}
			if *word&bit != 0 {
				return duplicated(d.name())
			}
			*word |= bit
			if err := d.value(f, unsafe.Add(base, f.offset)); err != nil {
				return err
			}
		case top && (string(key) == "Action" || string(key) == "Version"):
			if _, ok := d.s.skipValue(0); !ok {
				return malformedJSON()
			}
		default:
			return unknownParameter(d.name())
		}
		d.pop(mark)
		if d.s.consume(',') {
			continue
		}
		if d.s.consume('}') {
			d.checkRequired(p, base)
			return nil
		}
		return malformedJSON()
	}
}

func (d *jsonDecoder) checkRequired(p *structPlan, base unsafe.Pointer) {
	if d.missing != nil {
		return
	}
	for _, f := range p.required {
		if f.jsonName != "" && !f.present(base) {
			mark := d.pushKey([]byte(f.jsonName))
			d.missing = awserr.MissingParameter(d.name())
			d.pop(mark)
			return
		}
	}
}

// value decodes the value of member f; d.path names it.
func (d *jsonDecoder) value(f *field, fp unsafe.Pointer) *awserr.Error {
	if d.s.literal("null") {
		return nil
	}
	if err := d.count(); err != nil {
		return err
	}
	switch f.kind {
	case kStruct:
		sp := *(*unsafe.Pointer)(fp)
		if sp == nil { // also on a wrong type: a required member is not missing
			sp = f.sub.newStruct()
			*(*unsafe.Pointer)(fp) = sp
		}
		if !d.s.consume('{') {
			return d.wrongType("Expecting an object.")
		}
		return d.object(f.sub, sp, false)
	case kList:
		if !d.s.consume('[') {
			makeList(f, fp, 0)
			return d.wrongType("Expecting an array.")
		}
		return d.array(f, fp)
	}
	return d.scalar(f.kind, fp, true)
}

// array decodes the items of an array whose '[' has been read. A first
// pass counts them, so the slice is made once at its length and each item
// decodes in place.
func (d *jsonDecoder) array(f *field, fp unsafe.Pointer) *awserr.Error {
	n, ok := d.s.countItems(maxListItems + 1)
	if !ok {
		return malformedJSON()
	}
	if n > maxListItems {
		return awserr.InvalidParameterValue("The parameter %s has more than %d items.", d.name(), maxListItems)
	}
	data := makeList(f, fp, n) // non-nil even when empty: [] is present
	for k := range n {
		if k > 0 && !d.s.consume(',') {
			return malformedJSON()
		}
		if err := d.count(); err != nil {
			return err
		}
		ep := unsafe.Add(data, uintptr(k)*f.elemSize)
		mark := d.pushIndex(k + 1)
		var err *awserr.Error
		switch {
		case f.elem != kStruct:
			err = d.scalar(f.elem, ep, false)
		case d.s.consume('{'):
			err = d.object(f.sub, ep, false)
		default:
			err = d.wrongType("Expecting an object.")
		}
		if err != nil {
			return err
		}
		d.pop(mark)
	}
	if !d.s.consume(']') {
		return malformedJSON()
	}
	return nil
}

// scalar reads and stores a scalar. JSON types must match: a string for
// strings, timestamps and blobs, true/false for booleans, a number for
// numbers.
func (d *jsonDecoder) scalar(k kind, fp unsafe.Pointer, ptr bool) *awserr.Error {
	var text string
	switch c := d.s.peek(); {
	case c == '"' && (k == kString || k == kTime || k == kBlob):
		b, ok := d.s.str()
		if !ok {
			return malformedJSON()
		}
		if k == kString && d.s.lossy && d.invalid == nil {
			d.invalid = invalidText(d.name())
		}
		if k == kString && ptr {
			*(**string)(fp) = d.newString(string(b))
			return nil
		}
		text = string(b)
	case (c == '-' || c >= '0' && c <= '9') && (k == kInt32 || k == kInt64 || k == kFloat64):
		b, ok := d.s.number()
		if !ok {
			return malformedJSON()
		}
		text = string(b)
	case k == kBool && d.s.literal("true"):
		store(fp, ptr, true)
		return nil
	case k == kBool && d.s.literal("false"):
		store(fp, ptr, false)
		return nil
	default:
		storeZero(k, fp, ptr)
		return d.wrongType(expecting(k))
	}
	if exp := setText(k, fp, ptr, text); exp != "" && d.invalid == nil {
		d.invalid = invalidValue(d.name(), text, exp)
	}
	return nil
}

// wrongType records a value of the wrong JSON type and skips it.
func (d *jsonDecoder) wrongType(expect string) *awserr.Error {
	shown, ok := d.s.skipValue(0)
	if !ok {
		return malformedJSON()
	}
	if d.invalid == nil {
		d.invalid = invalidValue(d.name(), shown, expect)
	}
	return nil
}

func expecting(k kind) string {
	switch k {
	case kBool:
		return "Expecting a boolean (true or false)."
	case kInt32, kInt64:
		return "Expecting an integer."
	case kFloat64:
		return "Expecting a number."
	}
	return "Expecting a string."
}

func storeZero(k kind, fp unsafe.Pointer, ptr bool) {
	switch k {
	case kString:
		store(fp, ptr, "")
	case kBool:
		store(fp, ptr, false)
	case kInt32:
		store(fp, ptr, int32(0))
	case kInt64:
		store(fp, ptr, int64(0))
	case kFloat64:
		store(fp, ptr, float64(0))
	case kTime:
		store(fp, ptr, time.Time{})
	case kBlob:
		*(*[]byte)(fp) = []byte{}
	}
}

// scanner reads RFC 8259 JSON from a byte slice. Each method skips the
// white space before what it reads and reports false on a syntax error.
type scanner struct {
	data []byte
	pos  int
	buf  []byte // unescaped strings; reused

	// lossy is set by str when the string it read held raw invalid UTF-8,
	// a lone surrogate escape or an escaped NUL: text amigo does not store
	// (ValidText). str still returns it, with U+FFFD for what it could not
	// decode, so a syntax error elsewhere keeps its precedence.
	lossy bool
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next significant byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

func (s *scanner) consume(c byte) bool {
	if s.peek() == c && c != 0 {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	s.skipSpace()
	if len(s.data)-s.pos >= len(lit) && string(s.data[s.pos:s.pos+len(lit)]) == lit {
		s.pos += len(lit)
		return true
	}
	return false
}

// key reads an object key; like str's result it is valid until the next
// string is read.
func (s *scanner) key() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	return s.str()
}

// str reads a string and returns its unescaped bytes, valid until the next
// call. Like encoding/json, invalid UTF-8 and lone surrogates become U+FFFD;
// unlike it, str reports them (and \u0000) in s.lossy.
func (s *scanner) str() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	s.pos++
	s.lossy = false
	start := s.pos
	for s.pos < len(s.data) { // fast path: no escapes, valid ASCII
		c := s.data[s.pos]
		if c == '"' {
			s.pos++
			return s.data[start : s.pos-1], true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		s.pos++
	}
	b := append(s.buf[:0], s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			s.buf = b
			return b, true
		case c < 0x20:
			return nil, false
		case c == '\\':
			if s.pos+1 >= len(s.data) {
				return nil, false
			}
			e := s.data[s.pos+1]
			s.pos += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return nil, false
				}
				if r == 0 {
					s.lossy = true
				}
				if utf16.IsSurrogate(r) {
					hi := r
					r = utf8.RuneError
					// A high surrogate and an escaped low one make one character.
					if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
						save := s.pos
						s.pos += 2
						lo, ok := s.hex4()
						if !ok {
							return nil, false
						}
						if dec := utf16.DecodeRune(hi, lo); dec != utf8.RuneError {
							r = dec
						} else {
							s.pos = save // the second escape stands alone
						}
					}
					s.lossy = s.lossy || r == utf8.RuneError // a lone surrogate
				}
				b = utf8.AppendRune(b, r)
			default:
				return nil, false
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				s.lossy = true
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s.data[s.pos:s.pos+size]...)
			}
			s.pos += size
		}
	}
	return nil, false
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.data)-s.pos < 4 {
		return 0, false
	}
	r, ok := parseHex4(s.data[s.pos : s.pos+4])
	s.pos += 4
	return r, ok
}

func parseHex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? and returns
// its text.
func (s *scanner) number() ([]byte, bool) {
	s.skipSpace()
	start := s.pos
	s.take('-')
	if s.take('0') {
		// no more integer digits
	} else if !s.digits() {
		return nil, false
	}
	if s.take('.') && !s.digits() {
		return nil, false
	}
	if s.take('e') || s.take('E') {
		if !s.take('+') {
			s.take('-')
		}
		if !s.digits() {
			return nil, false
		}
	}
	return s.data[start:s.pos], true
}

func (s *scanner) take(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) digits() bool {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos > start
}

// countItems counts the items of an array whose '[' has been read, up to
// limit, checking their syntax, and leaves the position unchanged.
func (s *scanner) countItems(limit int) (int, bool) {
	save := s.pos
	defer func() { s.pos = save }()
	if s.consume(']') {
		return 0, true
	}
	for n := 1; ; n++ {
		if _, ok := s.skipValue(0); !ok {
			return 0, false
		}
		if n == limit {
			return n, true
		}
		if s.consume(',') {
			continue
		}
		return n, s.consume(']')
	}
}

// skipValue checks and skips one value. It returns how an error message
// shows it: a string's text, a number or literal as written, "{…" or "[…".
func (s *scanner) skipValue(depth int) (string, bool) {
	if depth > maxJSONDepth {
		return "", false
	}
	switch c := s.peek(); c {
	case '"':
		b, ok := s.str()
		return string(b), ok
	case '{':
		s.pos++
		if s.consume('}') {
			return "{…", true
		}
		for {
			if _, ok := s.key(); !ok || !s.consume(':') {
				return "", false
			}
			if _, ok := s.skipValue(depth + 1); !ok {
				return "", false
			}
			if s.consume(',') {
				continue
			}
			return "{…", s.consume('}')
		}
	case '[':
		s.pos++
		if s.consume(']') {
			return "[…", true
		}
		for {
			if _, ok := s.skipValue(depth + 1); !ok {
				return "", false
			}
			if s.consume(',') {
				continue
			}
			return "[…", s.consume(']')
		}
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if s.literal(lit) {
				return lit, true
			}
		}
		return "", false
	default:
		b, ok := s.number()
		return string(b), ok
	}
}
