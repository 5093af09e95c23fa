package query

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/google/go-cmp/cmp"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		dst  any
		want any
	}{
		{
			name: "ModifyImageAttribute from the brief",
			in:   `{"Action":"ModifyImageAttribute","Version":"2016-11-15","ImageId":"ami-1","LaunchPermission":{"Add":[{"UserId":"111122223333"},{"Group":"all"}],"Remove":[]},"DryRun":true}`,
			dst:  &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{
				ImageId: new("ami-1"),
				LaunchPermission: &ec2api.LaunchPermissionModifications{
					Add:    []ec2api.LaunchPermission{{UserId: new("111122223333")}, {Group: new("all")}},
					Remove: []ec2api.LaunchPermission{},
				},
				DryRun: new(true),
			},
		},
		{
			name: "null is absent, Action of any shape is skipped",
			in:   ` {"Action":{"x":[1,{"y":null}]},"ImageId":"ami-1","Description":null,"UserIds":null} `,
			dst:  &ec2api.ModifyImageAttributeRequest{},
			want: &ec2api.ModifyImageAttributeRequest{ImageId: new("ami-1")},
		},
		{
			name: "DescribeImages with filters and numbers",
			in:   `{"Filters":[{"Name":"tag:Team","Values":["blue","green"]}],"Owners":["self"],"MaxResults":1000,"ImageIds":[]}`,
			dst:  &ec2api.DescribeImagesRequest{},
			want: &ec2api.DescribeImagesRequest{
				Filters:    []ec2api.Filter{{Name: new("tag:Team"), Values: []string{"blue", "green"}}},
				Owners:     []string{"self"},
				MaxResults: new(int32(1000)),
				ImageIds:   []string{},
			},
		},
		{
			name: "timestamp and escapes",
			in:   `{"ImageId":"ami-\u0031\ud83d\ude00","DeprecateAt":"2030-01-02T03:04:05.25+01:00"}`,
			dst:  &ec2api.EnableImageDeprecationRequest{},
			want: &ec2api.EnableImageDeprecationRequest{
				ImageId:     new("ami-1😀"),
				DeprecateAt: new(time.Date(2030, 1, 2, 2, 4, 5, 250000000, time.UTC)),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := DecodeJSON([]byte(tt.in), tt.dst); err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if diff := cmp.Diff(tt.want, tt.dst); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	tests := []struct {
		name, in      string
		dst           any
		code, message string
	}{
		{"unknown member", `{"ImageId":"ami-1","ImageType":"machine"}`, &ec2api.DeregisterImageRequest{},
			"UnknownParameter", "The parameter ImageType is not recognized"},
		{"wire name is not the member name", `{"ImageId":"ami-1","UserId":["1"]}`, &ec2api.ModifyImageAttributeRequest{},
			"UnknownParameter", "The parameter UserId is not recognized"},
		{"Action is only skipped at the top", `{"ImageId":"ami-1","LaunchPermission":{"Action":"x"}}`, &ec2api.ModifyImageAttributeRequest{},
			"UnknownParameter", "The parameter LaunchPermission.Action is not recognized"},
		{"unknown nested member names the path", `{"ImageId":"ami-1","LaunchPermission":{"Add":[{"UserId":"1"},{"Account":"2"}]}}`, &ec2api.ModifyImageAttributeRequest{},
			"UnknownParameter", "The parameter LaunchPermission.Add.2.Account is not recognized"},
		{"missing required", `{"DryRun":true}`, &ec2api.DeregisterImageRequest{},
			"MissingParameter", "The request must contain the parameter ImageId"},
		{"null required is missing", `{"ImageId":null}`, &ec2api.DeregisterImageRequest{},
			"MissingParameter", "The request must contain the parameter ImageId"},
		{"missing required in an item", `{"ImageId":"ami-1","MinCount":1,"MaxCount":1,"ElasticInferenceAccelerators":[{"Type":"eia1.medium"},{"Count":1}]}`, &ec2api.RunInstancesRequest{},
			"MissingParameter", "The request must contain the parameter ElasticInferenceAccelerators.2.Type"},
		{"string for a boolean", `{"ImageId":"ami-1","DryRun":"true"}`, &ec2api.DeregisterImageRequest{},
			"InvalidParameterValue", "Value ( true ) for parameter DryRun is invalid. Expecting a boolean (true or false)."},
		{"number for a string", `{"ImageId":5}`, &ec2api.DeregisterImageRequest{},
			"InvalidParameterValue", "Value ( 5 ) for parameter ImageId is invalid. Expecting a string."},
		{"object for a string", `{"ImageId":{"a":[1]}}`, &ec2api.DeregisterImageRequest{},
			"InvalidParameterValue", "Value ( {… ) for parameter ImageId is invalid. Expecting a string."},
		{"string for a list", `{"ImageIds":"ami-1"}`, &ec2api.DescribeImagesRequest{},
			"InvalidParameterValue", "Value ( ami-1 ) for parameter ImageIds is invalid. Expecting an array."},
		{"array for a structure", `{"ImageId":"ami-1","Description":["x"]}`, &ec2api.ModifyImageAttributeRequest{},
			"InvalidParameterValue", "Value ( [… ) for parameter Description is invalid. Expecting an object."},
		{"bad list item", `{"ImageIds":["ami-1",2]}`, &ec2api.DescribeImagesRequest{},
			"InvalidParameterValue", "Value ( 2 ) for parameter ImageIds.2 is invalid. Expecting a string."},
		{"null list item of structures", `{"Filters":[null]}`, &ec2api.DescribeImagesRequest{},
			"InvalidParameterValue", "Value ( null ) for parameter Filters.1 is invalid. Expecting an object."},
		{"fractional integer", `{"MaxResults":5.5}`, &ec2api.DescribeImagesRequest{},
			"InvalidParameterValue", "Value ( 5.5 ) for parameter MaxResults is invalid. Expecting an integer between -2147483648 and 2147483647."},
		{"integer out of range", `{"MaxResults":1e10}`, &ec2api.DescribeImagesRequest{},
			"InvalidParameterValue", "Value ( 1e10 ) for parameter MaxResults is invalid. Expecting an integer between -2147483648 and 2147483647."},
		{"bad timestamp", `{"ImageId":"ami-1","DeprecateAt":"tomorrow"}`, &ec2api.EnableImageDeprecationRequest{},
			"InvalidParameterValue", "Value ( tomorrow ) for parameter DeprecateAt is invalid. Expecting a timestamp such as 2006-01-02T15:04:05Z."},
		{"required list of the wrong type is not missing", `{"ImageIds":"ami-1"}`, &ec2api.DescribeImageReferencesRequest{},
			"InvalidParameterValue", "Value ( ami-1 ) for parameter ImageIds is invalid. Expecting an array."},
		{"required member of the wrong type is not missing", `{"ImageId":true}`, &ec2api.DeregisterImageRequest{},
			"InvalidParameterValue", "Value ( true ) for parameter ImageId is invalid. Expecting a string."},
		{"escaped key", `{"Image\u0049d":"ami-1","\u0044ryRun":"x"}`, &ec2api.DeregisterImageRequest{},
			"InvalidParameterValue", "Value ( x ) for parameter DryRun is invalid. Expecting a boolean (true or false)."},
		{"lone surrogate key is replaced", `{"\ud800":1}`, &ec2api.DeregisterImageRequest{},
			"UnknownParameter", "The parameter \ufffd is not recognized"},
		{"raw control character in a string", "{\"ImageId\":\"a\x01\"}", &ec2api.DeregisterImageRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"bad escape", `{"ImageId":"a\x"}`, &ec2api.DeregisterImageRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"leading zero", `{"MaxResults":05}`, &ec2api.DescribeImagesRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"trailing comma", `{"ImageIds":["a",]}`, &ec2api.DescribeImagesRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"too deep inside Action", `{"Action":` + strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2) + `}`, &ec2api.DescribeImagesRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"repeated key", `{"ImageId":"ami-1","ImageId":"ami-2"}`, &ec2api.DeregisterImageRequest{},
			"InvalidParameterValue", "The parameter ImageId is given more than once."},
		{"unknown wins over missing and bad values", `{"DryRun":1,"Bogus":1}`, &ec2api.DeregisterImageRequest{},
			"UnknownParameter", "The parameter Bogus is not recognized"},
		{"missing wins over bad values", `{"DryRun":1}`, &ec2api.DeregisterImageRequest{},
			"MissingParameter", "The request must contain the parameter ImageId"},
		{"not an object", `["ImageId"]`, &ec2api.DeregisterImageRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"empty body", ``, &ec2api.DeregisterImageRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"trailing data", `{"ImageId":"ami-1"} {}`, &ec2api.DeregisterImageRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"truncated", `{"ImageId":"ami-1","LaunchPermission":{"Add":[{"UserId":"1"}`, &ec2api.ModifyImageAttributeRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"syntax error", `{"ImageId":'ami-1'}`, &ec2api.DeregisterImageRequest{},
			"MalformedQueryString", "The request body is not a valid JSON object."},
		{"too many items", `{"ImageIds":[` + strings.Repeat(`"a",`, maxListItems) + `"a"]}`, &ec2api.DescribeImagesRequest{},
			"InvalidParameterValue", "The parameter ImageIds has more than 10000 items."},
		{"too many values", `{"Filters":[` + strings.Repeat(`{"Values":["a","b","c"]},`, maxParameters/4) + `{}]}`, &ec2api.DescribeImagesRequest{},
			"InvalidParameterValue", "The request has more than 20000 values."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, DecodeJSON([]byte(tt.in), tt.dst), tt.code, tt.message)
		})
	}
}

// TestJSONStringsMatchEncodingJSON holds the scanner to encoding/json on
// string literals: escapes, surrogates, invalid UTF-8.
func TestJSONStringsMatchEncodingJSON(t *testing.T) {
	for _, lit := range jsonStringSamples {
		checkJSONString(t, []byte(lit))
	}
}

var jsonStringSamples = []string{
	`""`, `"plain"`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9\u2019"`, `"\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`,
	`"\udc00\ud800"`, `"\ud800\ud800\udc00"`, `"\ud800\ud83d\ude00"`, `"ok\u0000ok"`, "\"a\xc3\"", "\"caf\xc3\xa9\"", "\"bad\xff\xfe\"", "\"\xed\xa0\x80\"", `"\u0000"`,
}

// checkJSONString: where encoding/json decodes a string losslessly,
// DecodeJSON gives the same string; raw invalid UTF-8 and NUL are refused
// as InvalidParameterValue naming the member (ValidText), and so may be a
// U+FFFD that encoding/json put in for a lone surrogate.
func checkJSONString(t *testing.T, lit []byte) {
	t.Helper()
	var want string
	if err := json.Unmarshal(lit, &want); err != nil {
		return // not a string literal: syntax agreement is FuzzDecodeJSON's job
	}
	var got ec2api.DeregisterImageRequest
	body := append(append([]byte(`{"ImageId":`), lit...), '}')
	err := DecodeJSON(body, &got)
	mustRefuse := !utf8.Valid(lit) || strings.ContainsRune(want, 0)
	mayRefuse := mustRefuse || strings.ContainsRune(want, utf8.RuneError)
	switch {
	case err != nil && mayRefuse:
		checkErr(t, err, "InvalidParameterValue", invalidText("ImageId").Message)
	case err != nil:
		t.Fatalf("DecodeJSON(%q): %v", body, err)
	case mustRefuse:
		t.Errorf("DecodeJSON(%q) accepted %q: invalid UTF-8 or NUL", body, *got.ImageId)
	case *got.ImageId != want:
		t.Errorf("string %q decoded as %q, encoding/json says %q", lit, *got.ImageId, want)
	}
}

func FuzzJSONString(f *testing.F) {
	for _, lit := range jsonStringSamples {
		f.Add([]byte(lit))
	}
	f.Fuzz(checkJSONString)
}
