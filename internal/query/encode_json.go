package query

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// EncodeJSON writes amigo's JSON envelope {"success":true,"data":{…}}, the
// members keyed by json tag (the model member names). Omission rules are
// those of EncodeXML: nil is left out, empty lists are [], structs with
// nothing set are {}; timestamps use TimeFormat, blobs base64. Like
// EncodeXML it panics on a type the codec cannot handle.
func EncodeJSON(buf *bytes.Buffer, out any) {
	p, base := source(out)
	buf.WriteString(`{"success":true,"data":`)
	if p == nil {
		buf.WriteString("{}")
	} else {
		writeJSONStruct(buf, p, base)
	}
	buf.WriteByte('}')
}

// EncodeErrorJSON writes {"success":false,"error":{"code":"…","message":"…"}}.
func EncodeErrorJSON(buf *bytes.Buffer, code, message string) {
	buf.WriteString(`{"success":false,"error":{"code":`)
	writeJSONString(buf, code)
	buf.WriteString(`,"message":`)
	writeJSONString(buf, message)
	buf.WriteString("}}")
}

func writeJSONStruct(buf *bytes.Buffer, p *structPlan, base unsafe.Pointer) {
	buf.WriteByte('{')
	first := true
	for i := range p.fields {
		f := &p.fields[i]
		if f.jsonKey == "" || !f.present(base) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.WriteString(f.jsonKey)
		writeJSONValue(buf, f, unsafe.Add(base, f.offset))
	}
	buf.WriteByte('}')
}

// writeJSONValue writes the value of field f, which is at fp and present.
func writeJSONValue(buf *bytes.Buffer, f *field, fp unsafe.Pointer) {
	switch f.kind {
	case kStruct:
		writeJSONStruct(buf, f.sub, *(*unsafe.Pointer)(fp))
	case kList:
		buf.WriteByte('[')
		writeJSONItems(buf, f, (*sliceHeader)(fp), 0, nil)
		buf.WriteByte(']')
	case kBlob:
		buf.WriteByte('"')
		writeBase64(buf, *(*[]byte)(fp))
		buf.WriteByte('"')
	default:
		writeJSONScalar(buf, f.kind, *(*unsafe.Pointer)(fp))
	}
}

// writeJSONItems writes the items of list field f's slice h, comma
// separated; written counts the items already written before them (for
// the comma), and flush, when not nil, is called between items once buf
// holds StreamChunk bytes.
func writeJSONItems(buf *bytes.Buffer, f *field, h *sliceHeader, written int, flush func(*bytes.Buffer)) {
	for k := 0; k < h.len; k++ {
		if written+k > 0 {
			buf.WriteByte(',')
		}
		ep := unsafe.Add(h.data, uintptr(k)*f.elemSize)
		if f.elem == kStruct {
			writeJSONStruct(buf, f.sub, ep)
		} else {
			writeJSONScalar(buf, f.elem, ep)
		}
		if flush != nil && buf.Len() >= StreamChunk {
			flush(buf)
		}
	}
}

// writeJSONScalar writes the value at p (not a pointer to it).
func writeJSONScalar(buf *bytes.Buffer, k kind, p unsafe.Pointer) {
	switch k {
	case kString:
		writeJSONString(buf, *(*string)(p))
	case kBool:
		buf.WriteString(strconv.FormatBool(*(*bool)(p)))
	case kInt32:
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(*(*int32)(p)), 10))
	case kInt64:
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), *(*int64)(p), 10))
	case kFloat64:
		f := *(*float64)(p)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			buf.WriteString("null") // JSON has no NaN or infinity
			return
		}
		buf.Write(strconv.AppendFloat(buf.AvailableBuffer(), f, 'g', -1, 64))
	case kTime:
		buf.WriteByte('"')
		buf.Write((*time.Time)(p).UTC().AppendFormat(buf.AvailableBuffer(), TimeFormat))
		buf.WriteByte('"')
	}
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// U+2028 and U+2029 are escaped so the output is also valid JavaScript.
func writeJSONString(w *bytes.Buffer, s string) {
	w.WriteByte('"')
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			w.WriteString(s[last:i])
			switch c {
			case '"':
				w.WriteString(`\"`)
			case '\\':
				w.WriteString(`\\`)
			case '\n':
				w.WriteString(`\n`)
			case '\r':
				w.WriteString(`\r`)
			case '\t':
				w.WriteString(`\t`)
			default:
				w.WriteString(`\u00`)
				w.WriteByte(hexDigits[c>>4])
				w.WriteByte(hexDigits[c&0xF])
			}
			i++
			last = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			w.WriteString(s[last:i])
			switch r {
			case '\u2028':
				w.WriteString(`\u2028`)
			case '\u2029':
				w.WriteString(`\u2029`)
			default:
				w.WriteString(`\ufffd`)
			}
			i += size
			last = i
			continue
		}
		i += size
	}
	w.WriteString(s[last:])
	w.WriteByte('"')
}
