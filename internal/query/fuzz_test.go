package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/google/go-cmp/cmp"
)

var fuzzTargets = []func() any{
	func() any { return &ec2api.ModifyImageAttributeRequest{} },
	func() any { return &ec2api.DescribeImagesRequest{} },
	func() any { return &ec2api.RegisterImageRequest{} },
}

func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	var ae *awserr.Error
	if !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("error %v (%T) is not a 400 *awserr.Error", err, err)
	}
}

// checkEncodes asserts that a decoded input holds only text amigo may
// store (ValidText) and encodes to well-formed XML and valid JSON.
func checkEncodes(t *testing.T, v any) {
	t.Helper()
	if s, ok := allTextValid(reflect.ValueOf(v)); !ok {
		t.Fatalf("decoded input holds %q: NUL or invalid UTF-8 got through", s)
	}
	var buf bytes.Buffer
	EncodeXML(&buf, "Fuzz", "r", v)
	if _, err := parseXMLTree(buf.Bytes()); err != nil {
		t.Fatalf("EncodeXML output is not well-formed: %v\n%q", err, buf.Bytes())
	}
	buf.Reset()
	EncodeJSON(&buf, v)
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("EncodeJSON output is not valid JSON: %q", buf.Bytes())
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"ImageId=ami-0abcdef1234567890&LaunchPermission.Add.1.Group=all&LaunchPermission.Add.2.UserId=111122223333&LaunchPermission.Remove.1.OrganizationalUnitArn=arn:aws:organizations::123456789012:ou/o-123example/ou-1234-5example",
		"ImageId=ami-1&Attribute=launchPermission&OperationType=add&UserId.1=111122223333&UserId.2=444455556666&UserGroup.1=all",
		"ImageId=ami-1&Description.Value=New%20description",
		"ImageId=ami-1&Attribute=imdsSupport&Value=v2.0",
		"Filter.1.Name=architecture&Filter.1.Value.1=x86_64&Filter.1.Value.2=arm64&Owner.1=self&MaxResults=5&DryRun=true",
		"Name=x&BlockDeviceMapping.1.DeviceName=/dev/xvda&BlockDeviceMapping.1.Ebs.VolumeSize=8&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v",
		"ImageId=ami-1&LaunchPermission.Add.99999999999999999999.UserId=1",
		"ImageId=ami-1&UserId.0=1&UserId.01=2&UserId.1=3",
		"Filter..Name=x&Filter.1=y&ImageId.1.x=z",
		"ImageId=a&ImageId=b",
		"MaxResults=-0&IncludeDeprecated=TrUe&DryRun=%00",
		"Description.Value=%FF%FE%C3&ImageId=%EF%BF%BE",
		"Name=a%00b&TagSpecification.1.ResourceType=image&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=%FF",
		"ImageId=ami-1&Description.Value=caf%C3&Attribute=description",
		";;&&==%",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, _ := url.ParseQuery(raw) // keeps what parsed; Decode must cope with anything
		for _, newDst := range fuzzTargets {
			dst := newDst()
			if err := Decode(values, dst); err != nil {
				checkFuzzErr(t, err)
				continue
			}
			checkEncodes(t, dst)
			// Whatever decoded must decode the same once a client sends it
			// back in canonical form (dense indexes, canonical booleans).
			again := newDst()
			if err := Decode(botocoreQuery(dst), again); err != nil {
				t.Fatalf("canonical form of %q does not decode: %v", raw, err)
			}
			if diff := cmp.Diff(dst, again); diff != "" {
				t.Fatalf("canonical round trip of %q (-first +second):\n%s", raw, diff)
			}
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"Action":"ModifyImageAttribute","ImageId":"ami-1","LaunchPermission":{"Add":[{"UserId":"111122223333"}]},"DryRun":true}`,
		`{"ImageId":"ami-1","UserIds":["1","2"],"Description":{"Value":"x"}}`,
		`{"Filters":[{"Name":"tag:Team","Values":["blue"]}],"MaxResults":5,"ImageIds":[]}`,
		`{"Name":"x","BlockDeviceMappings":[{"DeviceName":"/dev/xvda","Ebs":{"VolumeSize":8,"Encrypted":false}}]}`,
		`{"Version":[[[{}]]],"ImageId":null}`,
		`{"ImageId":"\ud800\u0000","DryRun":"true"}`,
		`{"Name":"x","TagSpecifications":[{"ResourceType":"image","Tags":[{"Key":"k","Value":"a\u0000"}]}]}`,
		"{\"Name\":\"x\xff\",\"Description\":\"\\udc00\"}",
		`{"MaxResults":1e400}`,
		`{"ImageId":"a","ImageId":"b"}`,
		`[`, `{"a":`, `{}{}`, "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		isObject := json.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{"))
		for _, newDst := range fuzzTargets {
			dst := newDst()
			if err := DecodeJSON(data, dst); err != nil {
				checkFuzzErr(t, err)
				// The scanner must agree with encoding/json on syntax.
				if err.(*awserr.Error).Code == awserr.CodeMalformedQueryString && isObject {
					t.Fatalf("valid JSON object %q rejected as malformed", data)
				}
				continue
			}
			if !isObject {
				t.Fatalf("DecodeJSON accepted %q, which is not a JSON object", data)
			}
			checkEncodes(t, dst)
			var buf bytes.Buffer
			EncodeJSON(&buf, dst)
			body := strings.TrimSuffix(strings.TrimPrefix(buf.String(), `{"success":true,"data":`), "}")
			again := newDst()
			if err := DecodeJSON([]byte(body), again); err != nil {
				t.Fatalf("EncodeJSON output %s does not decode: %v", body, err)
			}
			if diff := cmp.Diff(dst, again); diff != "" {
				t.Fatalf("JSON round trip of %q (-first +second):\n%s", data, diff)
			}
		}
	})
}

// FuzzText checks escaping on arbitrary bytes: output stays well-formed.
func FuzzText(f *testing.F) {
	for _, s := range textSamples {
		f.Add(s)
	}
	f.Fuzz(checkText)
}
