package query

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/google/go-cmp/cmp"
)

// botocoreQuery serialises v the way botocore's EC2Serializer does (spec
// §3.2): tag names, structures joined by dots, lists flattened from 1,
// empty lists not sent, timestamps in ISO 8601 with Z (microseconds only
// when present). It is written from the tags alone, independently of the
// codec under test.
func botocoreQuery(v any) url.Values {
	out := url.Values{}
	serializeStruct(out, reflect.ValueOf(v).Elem(), "")
	return out
}

func serializeStruct(out url.Values, v reflect.Value, prefix string) {
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("query"), ",")
		serializeValue(out, v.Field(i), prefix+name)
	}
}

func serializeValue(out url.Values, v reflect.Value, name string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			serializeValue(out, v.Elem(), name)
		}
	case reflect.Struct:
		if tm, ok := v.Interface().(time.Time); ok {
			layout := "2006-01-02T15:04:05Z"
			if tm.Nanosecond() != 0 {
				layout = "2006-01-02T15:04:05.000000Z"
			}
			out.Set(name, tm.UTC().Format(layout))
			return
		}
		serializeStruct(out, v, name+".")
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if !v.IsNil() {
				out.Set(name, base64.StdEncoding.EncodeToString(v.Bytes()))
			}
			return
		}
		for i := range v.Len() {
			serializeValue(out, v.Index(i), name+"."+strconv.Itoa(i+1))
		}
	case reflect.String:
		out.Set(name, v.String())
	case reflect.Bool:
		out.Set(name, strconv.FormatBool(v.Bool()))
	case reflect.Int32, reflect.Int64:
		out.Set(name, strconv.FormatInt(v.Int(), 10))
	case reflect.Float64:
		out.Set(name, strconv.FormatFloat(v.Float(), 'g', -1, 64))
	default:
		panic("serializeValue: unexpected " + v.Type().String())
	}
}

// filler sets every field of a value to something random but valid, so
// the round trips below cover every member of every generated type.
type filler struct {
	r        *rand.Rand
	timeUnit time.Duration // precision of generated times
}

var fillerText = []string{"ami-0abcdef1234567890", "a b", "x&y=z+1", "100%", "café", "it’s", "日本", "<tag>", `"q"`, "", "tab\there", "line\nbreak", "cr\r\nlf", ".", "1.2"}

func (f *filler) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem(), depth)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			sec := f.r.Int64N(4e9)
			ns := f.r.Int64N(int64(time.Second)) / int64(f.timeUnit) * int64(f.timeUnit)
			v.Set(reflect.ValueOf(time.Unix(sec, ns).UTC()))
			return
		}
		for i := range v.NumField() {
			f.fill(v.Field(i), depth+1)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			// At least one byte: a blob field is a plain []byte tagged
			// omitempty, so json.Marshal, the JSON client here, would drop
			// an empty one and the trip would come back nil.
			b := make([]byte, 1+f.r.IntN(8))
			for i := range b {
				b[i] = byte(f.r.IntN(256))
			}
			v.SetBytes(b)
			return
		}
		n := 1 + f.r.IntN(3)
		if depth > 8 {
			n = 0
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.String:
		v.SetString(fillerText[f.r.IntN(len(fillerText))])
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 1)
	case reflect.Int32:
		v.SetInt(int64(int32(f.r.Uint32())))
	case reflect.Int64:
		v.SetInt(int64(f.r.Uint64()))
	case reflect.Float64:
		v.SetFloat(f.r.NormFloat64() * 1e6)
	}
}

func filled(t *testing.T, v any, seed uint64, unit time.Duration) any {
	t.Helper()
	f := filler{r: rand.New(rand.NewPCG(seed, 42)), timeUnit: unit}
	f.fill(reflect.ValueOf(v).Elem(), 0)
	return v
}

var blobsAsBytes = cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })

// TestRoundTripEveryInput decodes what botocore would send for every input
// type of the model, fully populated, and expects the same value back; the
// JSON body of the same value goes through DecodeJSON too.
func TestRoundTripEveryInput(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(ec2api.Operations)) {
		op := ec2api.Operations[name]
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(3) {
				want := filled(t, op.New(), seed, time.Microsecond)

				// Through the wire encoding, so escaping is part of the trip.
				values, err := url.ParseQuery(botocoreQuery(want).Encode())
				if err != nil {
					t.Fatal(err)
				}
				got := op.New()
				if err := Decode(values, got); err != nil {
					t.Fatalf("Decode: %v\nform: %v", err, values)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("query round trip (-sent +decoded):\n%s", diff)
				}

				body, err := json.Marshal(want)
				if err != nil {
					t.Fatal(err)
				}
				got = op.New()
				if err := DecodeJSON(body, got); err != nil {
					t.Fatalf("DecodeJSON: %v\nbody: %s", err, body)
				}
				// encoding/json drops an empty blob under omitempty, so
				// an empty blob comes back absent: equal as bytes.
				if diff := cmp.Diff(want, got, blobsAsBytes); diff != "" {
					t.Fatalf("JSON round trip (-sent +decoded):\n%s", diff)
				}
			}
		})
	}
}

func TestRoundTripHandWritten(t *testing.T) {
	tests := []any{
		&ec2api.ModifyImageAttributeRequest{
			ImageId: new("ami-0abcdef1234567890"),
			LaunchPermission: &ec2api.LaunchPermissionModifications{
				Add:    []ec2api.LaunchPermission{{Group: new("all")}, {UserId: new("111122223333")}},
				Remove: []ec2api.LaunchPermission{{OrganizationArn: new("arn:aws:organizations::123456789012:organization/o-123example")}},
			},
			DryRun: new(false),
		},
		&ec2api.DescribeImagesRequest{
			Owners:  []string{"self"},
			Filters: []ec2api.Filter{{Name: new("name"), Values: []string{"web-*", "db-?"}}, {Name: new("is-public"), Values: []string{"false"}}},
		},
		&ec2api.EnableImageDeprecationRequest{ImageId: new("ami-1"), DeprecateAt: new(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))},
		&ec2api.CreateTagsRequest{Resources: []string{"ami-1", "snap-1"}, Tags: []ec2api.Tag{{Key: new("k"), Value: new("")}}},
	}
	for _, want := range tests {
		t.Run(fmt.Sprintf("%T", want), func(t *testing.T) {
			got := reflect.New(reflect.TypeOf(want).Elem()).Interface()
			if err := Decode(botocoreQuery(want), got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-sent +decoded):\n%s", diff)
			}
		})
	}
}

// TestRoundTripEveryOutput encodes every output type fully populated and
// reads it back as a client would: the XML with a tag-driven reader written
// for this test (the EC2QueryParser rules), the JSON with DecodeJSON.
func TestRoundTripEveryOutput(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(ec2api.Operations)) {
		op := ec2api.Operations[name]
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(3) {
				want := filled(t, op.NewOutput(), seed, time.Millisecond)

				var buf bytes.Buffer
				EncodeXML(&buf, name, "req-1", want)
				root, err := parseXMLTree(buf.Bytes())
				if err != nil {
					t.Fatalf("output is not well-formed XML: %v\n%s", err, buf.Bytes())
				}
				if root.name != name+"Response" || len(root.kids) == 0 || root.kids[0].name != "requestId" || root.kids[0].text != "req-1" {
					t.Fatalf("bad envelope: %s", buf.Bytes())
				}
				got := op.NewOutput()
				readXMLStruct(t, root, reflect.ValueOf(got).Elem())
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("XML round trip (-encoded +read):\n%s\n%s", diff, buf.Bytes())
				}

				buf.Reset()
				EncodeJSON(&buf, want)
				var env struct {
					Success bool
					Data    json.RawMessage
				}
				if err := json.Unmarshal(buf.Bytes(), &env); err != nil || !env.Success {
					t.Fatalf("bad JSON envelope (%v): %s", err, buf.Bytes())
				}
				got = op.NewOutput()
				if err := DecodeJSON(env.Data, got); err != nil {
					t.Fatalf("DecodeJSON: %v\n%s", err, env.Data)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("JSON round trip (-encoded +read):\n%s", diff)
				}
			}
		})
	}
}

type xmlNode struct {
	name string
	text string
	kids []*xmlNode
}

func parseXMLTree(data []byte) (*xmlNode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{name: tok.Name.Local}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.kids = append(top.kids, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	return root, nil
}

func readXMLStruct(t *testing.T, n *xmlNode, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		elem := sf.Tag.Get("xml")
		var kid *xmlNode
		for _, k := range n.kids {
			if k.name == elem {
				kid = k
			}
		}
		if kid != nil {
			readXMLValue(t, kid, v.Field(i), sf.Tag.Get("xmlitem"))
		}
	}
}

func readXMLValue(t *testing.T, n *xmlNode, v reflect.Value, item string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		readXMLValue(t, n, v.Elem(), item)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b, err := base64.StdEncoding.DecodeString(n.text)
			if err != nil {
				t.Fatalf("%s: %v", n.name, err)
			}
			v.SetBytes(b)
			return
		}
		s := reflect.MakeSlice(v.Type(), 0, len(n.kids))
		for _, k := range n.kids {
			if k.name != item {
				t.Fatalf("<%s> holds <%s>, want <%s>", n.name, k.name, item)
			}
			e := reflect.New(v.Type().Elem()).Elem()
			readXMLValue(t, k, e, "")
			s = reflect.Append(s, e)
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			tm, err := time.Parse(TimeFormat, n.text)
			if err != nil {
				t.Fatalf("%s: %v", n.name, err)
			}
			v.Set(reflect.ValueOf(tm))
			return
		}
		readXMLStruct(t, n, v)
	case reflect.String:
		v.SetString(n.text)
	case reflect.Bool:
		v.SetBool(n.text == "true")
	case reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n.text, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.text, 64)
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		v.SetFloat(f)
	}
}

// TestConcurrentUse runs the codec from many goroutines over fresh types,
// so that -race sees plan compilation and use overlap.
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for _, name := range slices.Sorted(maps.Keys(ec2api.Operations)) {
				op := ec2api.Operations[name]
				in := filled(t, op.New(), uint64(g), time.Microsecond)
				if err := Decode(botocoreQuery(in), op.New()); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				var buf bytes.Buffer
				EncodeXML(&buf, name, "r", filled(t, op.NewOutput(), uint64(g), time.Millisecond))
			}
		})
	}
	wg.Wait()
}
