package query

import (
	"bytes"
	"testing"

	"github.com/amigo-ec2/amigo/internal/ec2api"
)

func BenchmarkDecodeModifyImageAttribute(b *testing.B) {
	values := form(b, `ImageId=ami-0abcdef1234567890
		LaunchPermission.Add.1.Group=all
		LaunchPermission.Add.2.UserId=111122223333
		LaunchPermission.Remove.1.OrganizationArn=arn:aws:organizations::123456789012:organization/o-123example
		DryRun=false`)
	b.ReportAllocs()
	for b.Loop() {
		var in ec2api.ModifyImageAttributeRequest
		if err := Decode(values, &in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeDescribeImages(b *testing.B) {
	values := form(b, `Owner.1=self
		ImageId.1=ami-0abcdef1234567890
		ImageId.2=ami-0fedcba9876543210
		Filter.1.Name=architecture
		Filter.1.Value.1=x86_64
		Filter.1.Value.2=arm64
		Filter.2.Name=tag:Team
		Filter.2.Value.1=blue
		Filter.3.Name=state
		Filter.3.Value.1=available
		IncludeDeprecated=true
		MaxResults=100`)
	b.ReportAllocs()
	for b.Loop() {
		var in ec2api.DescribeImagesRequest
		if err := Decode(values, &in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSONModifyImageAttribute(b *testing.B) {
	body := []byte(`{"ImageId":"ami-0abcdef1234567890","LaunchPermission":{"Add":[{"Group":"all"},{"UserId":"111122223333"}]},"DryRun":false}`)
	b.ReportAllocs()
	for b.Loop() {
		var in ec2api.ModifyImageAttributeRequest
		if err := DecodeJSON(body, &in); err != nil {
			b.Fatal(err)
		}
	}
}

func tenImages() *ec2api.DescribeImagesResult {
	two := twoImages()
	out := &ec2api.DescribeImagesResult{NextToken: two.NextToken}
	for range 5 {
		out.Images = append(out.Images, two.Images...)
	}
	return out
}

func BenchmarkEncodeXMLDescribeImages(b *testing.B) {
	out := tenImages()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		EncodeXML(&buf, "DescribeImages", testRequestID, out)
	}
	b.SetBytes(int64(buf.Len()))
}

func BenchmarkEncodeJSONDescribeImages(b *testing.B) {
	out := tenImages()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		EncodeJSON(&buf, out)
	}
	b.SetBytes(int64(buf.Len()))
}
