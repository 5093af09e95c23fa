package query

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

const (
	xmlDecl   = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

// EncodeXML writes the EC2 success response:
//
//	<?xml version="1.0" encoding="UTF-8"?>
//	<ActionResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ID</requestId>…members…</ActionResponse>
//
// out is a pointer to a struct with xml tags (nil for no members). Members
// follow field order; nil pointers and nil slices are omitted, a non-nil
// empty slice or a struct with nothing set is written as <name/>, list
// items as <item>…</item>. Text is escaped and characters that XML 1.0
// forbids become U+FFFD, so the output is always well-formed. A type the
// codec cannot handle is a programming error and panics.
func EncodeXML(buf *bytes.Buffer, action, requestID string, out any) {
	EncodeXMLStream(buf, nil, action, requestID, out)
}

// StreamChunk is how much EncodeXMLStream lets its buffer hold before it
// hands the buffer to flush.
const StreamChunk = 256 << 10

// EncodeXMLStream is EncodeXML for answers of any size: between the items
// of the answer's top-level lists, once buf holds StreamChunk bytes, it
// calls flush, which must write buf out and reset it. An answer of ten
// thousand images then never sits whole in memory. flush may be nil.
func EncodeXMLStream(buf *bytes.Buffer, flush func(*bytes.Buffer), action, requestID string, out any) {
	p, base := source(out)
	writeXMLHead(buf, action, requestID)
	if p != nil {
		writeXMLStruct(buf, p, base, flush)
	}
	writeXMLTail(buf, action)
}

// writeXMLHead writes what precedes an answer's members: the declaration,
// the root element and the request id.
func writeXMLHead(buf *bytes.Buffer, action, requestID string) {
	buf.WriteString(xmlDecl)
	buf.WriteByte('<')
	writeActionName(buf, action)
	buf.WriteString(`Response xmlns="` + namespace + `"><requestId>`)
	writeXMLText(buf, requestID)
	buf.WriteString("</requestId>")
}

func writeXMLTail(buf *bytes.Buffer, action string) {
	buf.WriteString("</")
	writeActionName(buf, action)
	buf.WriteString("Response>")
}

// EncodeErrorXML writes the EC2 error envelope (spec §3.4):
//
//	<?xml version="1.0" encoding="UTF-8"?>
//	<Response><Errors><Error><Code>…</Code><Message>…</Message></Error></Errors><RequestID>…</RequestID></Response>
func EncodeErrorXML(buf *bytes.Buffer, code, message, requestID string) {
	buf.WriteString(xmlDecl + "<Response><Errors><Error><Code>")
	writeXMLText(buf, code)
	buf.WriteString("</Code><Message>")
	writeXMLText(buf, message)
	buf.WriteString("</Message></Error></Errors><RequestID>")
	writeXMLText(buf, requestID)
	buf.WriteString("</RequestID></Response>")
}

// xmlPlain marks the bytes writeXMLText copies as they are: printable
// ASCII but for the markup characters, and tab and newline.
var xmlPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['&'], t['<'], t['>'] = false, false, false
	t['\t'], t['\n'] = true, true
	return t
}()

// writeActionName keeps the root element well-formed whatever the caller
// passes: only ASCII letters and digits are written.
func writeActionName(buf *bytes.Buffer, action string) {
	for i := 0; i < len(action); i++ {
		if c := action[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			buf.WriteByte(c)
		}
	}
}

// writeXMLStruct writes the members of the struct at base and reports
// nothing itself: callers detect an empty struct from the buffer length,
// which is why only the top level, where nobody does, may flush.
func writeXMLStruct(buf *bytes.Buffer, p *structPlan, base unsafe.Pointer, flush func(*bytes.Buffer)) {
	for i := range p.fields {
		writeXMLField(buf, &p.fields[i], base, flush)
	}
}

// writeXMLField writes one member of the struct at base (nothing when it
// is unset); flush as in writeXMLStruct.
func writeXMLField(buf *bytes.Buffer, f *field, base unsafe.Pointer, flush func(*bytes.Buffer)) {
	if f.xmlOpen == "" {
		return
	}
	fp := unsafe.Add(base, f.offset)
	switch f.kind {
	case kStruct:
		sp := *(*unsafe.Pointer)(fp)
		if sp == nil {
			return
		}
		writeXMLElem(buf, f.sub, sp, f.xmlOpen, f.xmlClose, f.xmlEmpty)
	case kList:
		h := (*sliceHeader)(fp)
		if h.data == nil {
			return
		}
		if h.len == 0 {
			buf.WriteString(f.xmlEmpty)
			return
		}
		buf.WriteString(f.xmlOpen)
		writeXMLItems(buf, f, h, flush)
		buf.WriteString(f.xmlClose)
	case kBlob:
		b := *(*[]byte)(fp)
		if b == nil {
			return
		}
		buf.WriteString(f.xmlOpen)
		writeBase64(buf, b)
		buf.WriteString(f.xmlClose)
	default:
		sp := *(*unsafe.Pointer)(fp)
		if sp == nil {
			return
		}
		buf.WriteString(f.xmlOpen)
		writeXMLScalar(buf, f.kind, sp)
		buf.WriteString(f.xmlClose)
	}
}

// writeXMLItems writes the items of list field f's slice h, calling flush
// (when not nil) between items once buf holds StreamChunk bytes.
func writeXMLItems(buf *bytes.Buffer, f *field, h *sliceHeader, flush func(*bytes.Buffer)) {
	for k := 0; k < h.len; k++ {
		ep := unsafe.Add(h.data, uintptr(k)*f.elemSize)
		if f.elem == kStruct {
			writeXMLElem(buf, f.sub, ep, f.itemOpen, f.itemClose, f.itemEmpty)
		} else {
			buf.WriteString(f.itemOpen)
			writeXMLScalar(buf, f.elem, ep)
			buf.WriteString(f.itemClose)
		}
		if flush != nil && buf.Len() >= StreamChunk {
			flush(buf)
		}
	}
}

// writeXMLElem writes a struct as open+members+close, or as the empty form
// when no member is set (DescribeImageAttribute's <description/>).
func writeXMLElem(buf *bytes.Buffer, p *structPlan, base unsafe.Pointer, open, close, empty string) {
	buf.WriteString(open)
	mark := buf.Len()
	writeXMLStruct(buf, p, base, nil)
	if buf.Len() == mark {
		buf.Truncate(mark - len(open))
		buf.WriteString(empty)
		return
	}
	buf.WriteString(close)
}

// writeXMLScalar writes the value at p (not a pointer to it).
func writeXMLScalar(buf *bytes.Buffer, k kind, p unsafe.Pointer) {
	switch k {
	case kString:
		writeXMLText(buf, *(*string)(p))
	case kBool:
		if *(*bool)(p) {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case kInt32:
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(*(*int32)(p)), 10))
	case kInt64:
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), *(*int64)(p), 10))
	case kFloat64:
		buf.Write(strconv.AppendFloat(buf.AvailableBuffer(), *(*float64)(p), 'g', -1, 64))
	case kTime:
		buf.Write((*time.Time)(p).UTC().AppendFormat(buf.AvailableBuffer(), TimeFormat))
	}
}

func writeBase64(buf *bytes.Buffer, b []byte) {
	buf.Write(base64.StdEncoding.AppendEncode(buf.AvailableBuffer(), b))
}

// writeXMLText escapes s as element text (quotes stay as they are, as in
// EC2's own messages: they need escaping only in attributes). Characters outside the XML 1.0
// Char production and invalid UTF-8 become U+FFFD; a CR is written as a
// reference because parsers would turn a literal one into LF.
func writeXMLText(buf *bytes.Buffer, s string) {
	// Most text (ids, names, dates) needs no escaping: one table lookup a
	// byte finds that out, and the string goes in one copy.
	i := 0
	for i < len(s) && xmlPlain[s[i]] {
		i++
	}
	if i == len(s) {
		buf.WriteString(s)
		return
	}
	last := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch c {
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '\r':
				esc = "&#xD;"
			case '\t', '\n':
				i++
				continue
			default:
				if c >= 0x20 {
					i++
					continue
				}
				esc = "\uFFFD"
			}
			buf.WriteString(s[last:i])
			buf.WriteString(esc)
			i++
			last = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			buf.WriteString(s[last:i])
			buf.WriteString("\uFFFD")
			i += size
			last = i
			continue
		}
		i += size
	}
	buf.WriteString(s[last:])
}
