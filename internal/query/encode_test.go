package query

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/ec2api"
)

const envelopeStart = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<TestResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>`

func encodeXMLBody(out any) string {
	var buf bytes.Buffer
	EncodeXML(&buf, "Test", "r", out)
	s := buf.String()
	s = strings.TrimPrefix(s, envelopeStart)
	return strings.TrimSuffix(s, "</TestResponse>")
}

func encodeJSONData(out any) string {
	var buf bytes.Buffer
	EncodeJSON(&buf, out)
	s := strings.TrimPrefix(buf.String(), `{"success":true,"data":`)
	return strings.TrimSuffix(s, "}")
}

type encodeInner struct {
	A *string `xml:"a" json:"A"`
	B []int32 `xml:"b" json:"B"`
}

type encodeSample struct {
	Str    *string       `xml:"str" json:"Str"`
	Skip   *string       `xml:"-" json:"-"`
	Bool   *bool         `xml:"bool" json:"Bool"`
	I32    *int32        `xml:"i32" json:"I32"`
	I64    *int64        `xml:"i64" json:"I64"`
	F      *float64      `xml:"f" json:"F"`
	When   *time.Time    `xml:"when" json:"When"`
	Blob   []byte        `xml:"blob" json:"Blob"`
	Inner  *encodeInner  `xml:"inner" json:"Inner"`
	Items  []encodeInner `xml:"items" xmlitem:"member" json:"Items"`
	Names  []string      `xml:"names" json:"Names"`
	Stamps []time.Time   `xml:"stamps" json:"Stamps"`
}

func TestEncodeOmissionRules(t *testing.T) {
	when := time.Date(2024, 2, 15, 12, 21, 7, 123456789, time.FixedZone("x", 2*3600))
	tests := []struct {
		name      string
		out       any
		xml, json string
	}{
		{"nil output", nil, ``, `{}`},
		{"typed nil output", (*ec2api.ImageAttribute)(nil), ``, `{}`},
		{"nothing set", &encodeSample{}, ``, `{}`},
		{"struct value", encodeSample{Str: new("v")}, `<str>v</str>`, `{"Str":"v"}`},
		{"empty string", &encodeSample{Str: new("")}, `<str></str>`, `{"Str":""}`},
		{"scalars", &encodeSample{Bool: new(false), I32: new(int32(-5)), I64: new(int64(1) << 40), F: new(0.25), When: &when},
			`<bool>false</bool><i32>-5</i32><i64>1099511627776</i64><f>0.25</f><when>2024-02-15T10:21:07.123Z</when>`,
			`{"Bool":false,"I32":-5,"I64":1099511627776,"F":0.25,"When":"2024-02-15T10:21:07.123Z"}`},
		{"json has no NaN", &encodeSample{F: new(math.NaN())}, `<f>NaN</f>`, `{"F":null}`},
		{"blob", &encodeSample{Blob: []byte("hi")}, `<blob>aGk=</blob>`, `{"Blob":"aGk="}`},
		{"empty blob", &encodeSample{Blob: []byte{}}, `<blob></blob>`, `{"Blob":""}`},
		{"skipped field", &encodeSample{Skip: new("x")}, ``, `{}`},
		{"empty struct", &encodeSample{Inner: &encodeInner{}}, `<inner/>`, `{"Inner":{}}`},
		{"struct holding an empty list", &encodeSample{Inner: &encodeInner{B: []int32{}}}, `<inner><b/></inner>`, `{"Inner":{"B":[]}}`},
		{"empty list", &encodeSample{Names: []string{}}, `<names/>`, `{"Names":[]}`},
		{"scalar list", &encodeSample{Names: []string{"a", "b"}}, `<names><item>a</item><item>b</item></names>`, `{"Names":["a","b"]}`},
		{"time list", &encodeSample{Stamps: []time.Time{when}}, `<stamps><item>2024-02-15T10:21:07.123Z</item></stamps>`, `{"Stamps":["2024-02-15T10:21:07.123Z"]}`},
		{"struct list with custom item and empty item", &encodeSample{Items: []encodeInner{{A: new("x"), B: []int32{1, 2}}, {}}},
			`<items><member><a>x</a><b><item>1</item><item>2</item></b></member><member/></items>`,
			`{"Items":[{"A":"x","B":[1,2]},{}]}`},
		{"empty description (DescribeImageAttribute)", &ec2api.ImageAttribute{Description: &ec2api.AttributeValue{}},
			`<description/>`, `{"Description":{}}`},
		{"empty product codes (DescribeImageAttribute)", &ec2api.ImageAttribute{ImageId: new("ami-1"), ProductCodes: []ec2api.ProductCode{}},
			`<imageId>ami-1</imageId><productCodes/>`, `{"ImageId":"ami-1","ProductCodes":[]}`},
		{"return false", &ec2api.ReturnResult{Return: new(false)}, `<return>false</return>`, `{"Return":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := encodeXMLBody(tt.out); got != tt.xml {
				t.Errorf("XML members\ngot:  %s\nwant: %s", got, tt.xml)
			}
			if got := encodeJSONData(tt.out); got != tt.json {
				t.Errorf("JSON data\ngot:  %s\nwant: %s", got, tt.json)
			}
		})
	}
}

func TestEncodeXMLActionName(t *testing.T) {
	var buf bytes.Buffer
	EncodeXML(&buf, `Bad<Name>&"1`, "r", nil)
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<BadName1Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId></BadName1Response>`
	if buf.String() != want {
		t.Errorf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestEncodeAppendsToBuffer(t *testing.T) {
	buf := bytes.NewBufferString("prefix|")
	EncodeErrorJSON(buf, "C", "M")
	if got, want := buf.String(), `prefix|{"success":false,"error":{"code":"C","message":"M"}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestEncodePanicsOnProgrammingErrors(t *testing.T) {
	for _, out := range []any{42, &struct{ N int }{}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("EncodeXML(%T) did not panic", out)
				}
			}()
			EncodeXML(new(bytes.Buffer), "X", "r", out)
		}()
	}
}

// TestTextEscaping checks that any string, valid UTF-8 or not, yields
// well-formed XML and valid JSON that read back to the same text, with
// characters XML cannot carry replaced by U+FFFD.
func TestTextEscaping(t *testing.T) {
	for _, s := range textSamples {
		checkText(t, s)
	}
}

var textSamples = []string{
	"", "plain", `<&>"'`, "it’s café 日本 😀", "tab\tnl\ncr\rcrlf\r\n",
	"nul\x00bell\x07esc\x1b", "bad\xffutf8\xc3", "\uFFFE\uFFFF", "\u2028\u2029", "]]>", "&amp;",
	"\U0010FFFF", "\ufffd",
}

func checkText(t *testing.T, s string) {
	t.Helper()
	want := xmlSafe(s)

	var buf bytes.Buffer
	EncodeErrorXML(&buf, "Code", s, "r")
	var env struct {
		Errors struct {
			Error struct{ Code, Message string }
		}
		RequestID string
	}
	if err := xml.Unmarshal(buf.Bytes(), &env); err != nil {
		t.Fatalf("%q: not well-formed: %v\n%s", s, err, buf.Bytes())
	}
	if env.Errors.Error.Message != want {
		t.Errorf("%q: XML read back %q, want %q", s, env.Errors.Error.Message, want)
	}

	buf.Reset()
	EncodeErrorJSON(&buf, "Code", s)
	var je struct {
		Error struct{ Message string }
	}
	if err := json.Unmarshal(buf.Bytes(), &je); err != nil {
		t.Fatalf("%q: invalid JSON: %v\n%s", s, err, buf.Bytes())
	}
	if jw := validUTF8(s); je.Error.Message != jw {
		t.Errorf("%q: JSON read back %q, want %q", s, je.Error.Message, jw)
	}
}

// validUTF8 replaces each byte of invalid UTF-8 with U+FFFD.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // ranging yields RuneError per bad byte
	}
	return b.String()
}

// xmlSafe is what an XML reader should see: each byte of invalid UTF-8 and
// each character outside the XML 1.0 Char production as U+FFFD.
func xmlSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1, r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0xFFFE, r == 0xFFFF:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// TestEncodeXMLStream: a long answer is handed out in chunks between the
// items of its top-level list, never inside one, and the chunks put
// together are exactly EncodeXML's output.
func TestEncodeXMLStream(t *testing.T) {
	desc := strings.Repeat("d", 900)
	out := &ec2api.DescribeImagesResult{NextToken: ptrTo("tok")}
	for i := range 2000 {
		id := "ami-" + strings.Repeat("0", 13) + string(rune('a'+i%26))
		out.Images = append(out.Images, ec2api.Image{ImageId: &id, Description: &desc,
			BlockDeviceMappings: []ec2api.BlockDeviceMapping{{DeviceName: ptrTo("/dev/xvda")}, {DeviceName: ptrTo("/dev/xvdb")}}})
	}
	var whole bytes.Buffer
	EncodeXML(&whole, "DescribeImages", "r", out)

	var streamed, buf bytes.Buffer
	flushes := 0
	EncodeXMLStream(&buf, func(b *bytes.Buffer) {
		flushes++
		if b.Len() < StreamChunk || b.Len() > StreamChunk+2048 {
			t.Errorf("flush %d of %d bytes, want about %d", flushes, b.Len(), StreamChunk)
		}
		if !strings.HasSuffix(b.String(), "</item>") {
			t.Errorf("flush %d ends inside an item: …%s", flushes, b.String()[b.Len()-20:])
		}
		streamed.Write(b.Bytes())
		b.Reset()
	}, "DescribeImages", "r", out)
	streamed.Write(buf.Bytes())
	if flushes < whole.Len()/StreamChunk-1 {
		t.Errorf("%d flushes for %d bytes", flushes, whole.Len())
	}
	if streamed.String() != whole.String() {
		t.Fatal("streamed answer differs from the whole one")
	}
	if err := xml.Unmarshal(streamed.Bytes(), new(struct{})); err != nil {
		t.Fatalf("streamed answer is not well-formed: %v", err)
	}
}

func ptrTo[T any](v T) *T { return &v }
