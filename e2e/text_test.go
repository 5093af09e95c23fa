package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestBadTextRefusedAlike: a NUL byte or invalid UTF-8 in a tag value or an
// image name is 400 InvalidParameterValue naming the parameter, and nothing
// is stored. The suite runs again on PostgreSQL, whose text columns cannot
// hold either; SQLite could, so both must refuse before the store.
func TestBadTextRefusedAlike(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "text-contract")
	bad := map[string]string{"NUL": "a\x00b", "invalid UTF-8": "bad\xff\xfe"}

	for what, v := range bad {
		t.Run("SDK tag value with "+what, func(t *testing.T) {
			_, err := e.client(owner).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id},
				Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String(v)}}})
			msg := apiErr(t, err, "InvalidParameterValue", 400)
			if !strings.Contains(msg, "parameter Tag.1.Value ") {
				t.Errorf("message %q does not name Tag.1.Value", msg)
			}
		})
		t.Run("SDK image name with "+what, func(t *testing.T) {
			_, err := e.client(owner).RegisterImage(ctx, &ec2.RegisterImageInput{
				Name: aws.String("img" + v), RootDeviceName: aws.String("/dev/xvda"),
				BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
					Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture())}}},
			})
			msg := apiErr(t, err, "InvalidParameterValue", 400)
			if !strings.Contains(msg, "parameter Name ") {
				t.Errorf("message %q does not name Name", msg)
			}
		})
	}

	// The same bytes on the wire without the SDK: a form with raw
	// percent-escapes, and the JSON envelope.
	raw := []struct {
		name, body, contentType, param string
	}{
		{"form tag value %FF", "Action=CreateTags&Version=2016-11-15&ResourceId.1=" + id + "&Tag.1.Key=k&Tag.1.Value=x%FF",
			"application/x-www-form-urlencoded; charset=utf-8", "Tag.1.Value"},
		{"form image name %00", "Action=RegisterImage&Version=2016-11-15&Name=img%00&RootDeviceName=/dev/xvda" +
			"&BlockDeviceMapping.1.DeviceName=/dev/xvda&BlockDeviceMapping.1.Ebs.SnapshotId=" + snapshot,
			"application/x-www-form-urlencoded; charset=utf-8", "Name"},
		{`JSON tag value \u0000`, `{"Action":"CreateTags","Resources":["` + id + `"],"Tags":[{"Key":"k","Value":"a\u0000"}]}`,
			"application/json", "Tags.1.Value"},
		{"JSON image name raw 0xFF", `{"Action":"RegisterImage","Name":"img` + "\xff" + `","RootDeviceName":"/dev/xvda","BlockDeviceMappings":[{"DeviceName":"/dev/xvda","Ebs":{"SnapshotId":"` + snapshot + `"}}]}`,
			"application/json", "Name"},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.endpoint+"/", bytes.NewReader([]byte(tc.body)))
			req.Header.Set("Content-Type", tc.contentType)
			req.Header.Set("Accept", "application/json")
			sign(t, req, owner, []byte(tc.body), time.Now())
			r := do(t, req)
			var env struct {
				Success bool
				Error   struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(r.body), &env); err != nil || r.status != 400 || env.Success ||
				env.Error.Code != "InvalidParameterValue" || !strings.Contains(env.Error.Message, "parameter "+tc.param+" ") {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}

	// Nothing got through.
	out := must[*ec2.DescribeImagesOutput](t)(e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}))
	if len(out.Images) != 1 || len(out.Images[0].Tags) != 0 {
		t.Fatalf("after refused requests: %d images, tags %v", len(out.Images), out.Images[0].Tags)
	}
}
