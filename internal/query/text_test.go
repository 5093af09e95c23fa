package query

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"

	"github.com/amigo-ec2/amigo/internal/ec2api"
)

func badText(name string) string { return invalidText(name).Message }

// TestDecodeRefusesBadText: NUL and invalid UTF-8 in any string parameter
// are InvalidParameterValue naming it, whichever decoder reads the request.
func TestDecodeRefusesBadText(t *testing.T) {
	tests := []struct {
		name    string
		form    url.Values
		json    string
		dst     func() any
		code    string
		message string
	}{
		{
			name: "NUL in a tag value",
			form: url.Values{"Name": {"img"}, "TagSpecification.1.ResourceType": {"image"}, "TagSpecification.1.Tag.1.Key": {"k"}, "TagSpecification.1.Tag.1.Value": {"a\x00b"}},
			json: `{"Name":"img","TagSpecifications":[{"ResourceType":"image","Tags":[{"Key":"k","Value":"a\u0000b"}]}]}`,
			dst:  func() any { return &ec2api.RegisterImageRequest{} },
			code: "InvalidParameterValue",
		},
		{
			name: "invalid UTF-8 in an image name",
			form: url.Values{"Name": {"img\xff"}},
			json: "{\"Name\":\"img\xff\"}",
			dst:  func() any { return &ec2api.RegisterImageRequest{} },
			code: "InvalidParameterValue",
		},
		{
			name: "truncated sequence at the end",
			form: url.Values{"Name": {"caf\xc3"}},
			json: "{\"Name\":\"caf\xc3\"}",
			dst:  func() any { return &ec2api.RegisterImageRequest{} },
			code: "InvalidParameterValue",
		},
		{
			name: "encoded surrogate",
			form: url.Values{"Description": {"\xed\xa0\x80"}, "Name": {"img"}},
			json: "{\"Name\":\"img\",\"Description\":\"\xed\xa0\x80\"}",
			dst:  func() any { return &ec2api.RegisterImageRequest{} },
			code: "InvalidParameterValue",
		},
		{
			name: "NUL in a list item",
			form: url.Values{"ImageId.1": {"ami-1"}, "ImageId.2": {"\x00"}},
			json: `{"ImageIds":["ami-1","\u0000"]}`,
			dst:  func() any { return &ec2api.DescribeImagesRequest{} },
			code: "InvalidParameterValue",
		},
		{
			name: "NUL in a filter value",
			form: url.Values{"Filter.1.Name": {"name"}, "Filter.1.Value.1": {"x\x00"}},
			json: `{"Filters":[{"Name":"name","Values":["x\u0000"]}]}`,
			dst:  func() any { return &ec2api.DescribeImagesRequest{} },
			code: "InvalidParameterValue",
		},
		{
			name: "unknown parameter wins",
			form: url.Values{"Name": {"\x00"}, "Bogus": {"1"}},
			json: `{"Name":"\u0000","Bogus":1}`,
			dst:  func() any { return &ec2api.RegisterImageRequest{} },
			code: "UnknownParameter", message: "The parameter Bogus is not recognized",
		},
		{
			name: "missing parameter wins",
			form: url.Values{"Description": {"\x00"}},
			json: `{"Description":"\u0000"}`,
			dst:  func() any { return &ec2api.RegisterImageRequest{} },
			code: "MissingParameter", message: "The request must contain the parameter Name",
		},
	}
	jsonNames := map[string]string{
		"TagSpecification.1.Tag.1.Value": "TagSpecifications.1.Tags.1.Value",
		"ImageId.2":                      "ImageIds.2",
		"Filter.1.Value.1":               "Filters.1.Values.1",
	}
	formNames := map[string]string{
		"NUL in a tag value":             "TagSpecification.1.Tag.1.Value",
		"invalid UTF-8 in an image name": "Name",
		"truncated sequence at the end":  "Name",
		"encoded surrogate":              "Description",
		"NUL in a list item":             "ImageId.2",
		"NUL in a filter value":          "Filter.1.Value.1",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			formMsg, jsonMsg := tt.message, tt.message
			if tt.message == "" {
				n := formNames[tt.name]
				formMsg = badText(n)
				jsonMsg = badText(n)
				if jn, ok := jsonNames[n]; ok {
					jsonMsg = badText(jn)
				}
			}
			checkErr(t, Decode(tt.form, tt.dst()), tt.code, formMsg)
			checkErr(t, DecodeJSON([]byte(tt.json), tt.dst()), tt.code, jsonMsg)
		})
	}
}

func TestDecodeBadTextFirstInNameOrder(t *testing.T) {
	err := Decode(url.Values{"Name": {"\xff"}, "Description": {"\x00"}}, &ec2api.RegisterImageRequest{})
	checkErr(t, err, "InvalidParameterValue", badText("Description"))
}

func TestJSONLoneSurrogateRefused(t *testing.T) {
	for _, body := range []string{`{"Name":"\ud800"}`, `{"Name":"\udc00x"}`, `{"Name":"\ud800\ud800\udc00"}`} {
		checkErr(t, DecodeJSON([]byte(body), &ec2api.RegisterImageRequest{}), "InvalidParameterValue", badText("Name"))
	}
}

// TestDecodeKeepsGoodText: any valid Unicode other than NUL goes through,
// U+FFFD and other control characters included.
func TestDecodeKeepsGoodText(t *testing.T) {
	for _, s := range []string{"", "café 日本 😀", "\uFFFD", "tab\tline\nbreak", "\x01\x7f", "\U0010FFFF"} {
		var got ec2api.RegisterImageRequest
		if err := Decode(url.Values{"Name": {s}}, &got); err != nil || *got.Name != s {
			t.Errorf("Decode(Name=%q) = %v, %q", s, err, *got.Name)
		}
		got = ec2api.RegisterImageRequest{}
		body, _ := jsonMarshalString(s)
		if err := DecodeJSON([]byte(`{"Name":`+body+`}`), &got); err != nil || *got.Name != s {
			t.Errorf("DecodeJSON(Name=%q) = %v", s, err)
		}
	}
	if err := DecodeJSON([]byte(`{"Name":"\ud83d\ude00"}`), &ec2api.RegisterImageRequest{}); err != nil {
		t.Errorf("a surrogate pair is one valid character: %v", err)
	}
}

func TestValidText(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true}, {"plain", true}, {"café", true}, {"\uFFFD", true}, {"a\x01", true},
		{"\x00", false}, {"abc\x00", false}, {"é\x00", false}, {"\xff", false}, {"a\xc3", false},
		{"\xed\xa0\x80", false}, {"\xf4\x90\x80\x80", false}, {"\xc0\x80", false},
	}
	for _, tt := range tests {
		if got := ValidText(tt.in); got != tt.want {
			t.Errorf("ValidText(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// allTextValid reports the first string in v (a decoded input) that
// ValidText refuses: nothing a decoder accepts may be one.
func allTextValid(v reflect.Value) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return allTextValid(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if s, ok := allTextValid(v.Field(i)); !ok {
				return s, false
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", true // blobs are bytes, not text
		}
		for i := range v.Len() {
			if s, ok := allTextValid(v.Index(i)); !ok {
				return s, false
			}
		}
	case reflect.String:
		if !ValidText(v.String()) {
			return v.String(), false
		}
	}
	return "", true
}

func jsonMarshalString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}
