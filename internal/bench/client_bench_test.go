package bench

import (
	"bytes"
	"context"
	"testing"
)

func BenchmarkDescribeIDAgainstFloor(b *testing.B) {
	fl, err := StartFloor("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer fl.Close()
	c, err := newClient(fl.URL(), "us-east-1", 4)
	if err != nil {
		b.Fatal(err)
	}
	defer c.close()
	ps := principals(testDirectory(b))
	body := newForm("DescribeImages").add("ImageId.1", "ami-0123456789abcdef0").b
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		if r, err := c.do(context.Background(), ps[0], body, &buf); err != nil || r.code != "" {
			b.Fatal(r, err)
		}
	}
}
