package instance

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// The table holds exactly the model's InstanceType enum.
func TestTypeTableMatchesModel(t *testing.T) {
	b, err := os.ReadFile("../ec2api/model.json")
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Shapes map[string]struct {
			Enum []string `json:"enum"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(b, &model); err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(model.Shapes["InstanceType"].Enum))
	got := TypeNames()
	if !slices.Equal(got, want) {
		for _, n := range want {
			if _, ok := LookupType(n); !ok {
				t.Errorf("model type %s missing", n)
			}
		}
		for _, n := range got {
			if !slices.Contains(want, n) {
				t.Errorf("type %s not in the model", n)
			}
		}
	}
}

func TestLookupType(t *testing.T) {
	tests := []struct {
		name       string
		archs      []string
		vcpus      int32
		memMiB     int64
		burstable  bool
		hypervisor string
	}{
		{"t3.micro", []string{"x86_64"}, 2, 1024, true, "nitro"},
		{"t2.micro", []string{"i386", "x86_64"}, 1, 1024, true, "xen"},
		{"t4g.nano", []string{"arm64"}, 2, 512, true, "nitro"},
		{"m5.large", []string{"x86_64"}, 2, 8192, false, "nitro"},
		{"m6g.medium", []string{"arm64"}, 1, 4096, false, "nitro"},
		{"c7gn.16xlarge", []string{"arm64"}, 64, 131072, false, "nitro"},
		{"r6g.metal", []string{"arm64"}, 64, 524288, false, ""},
		{"m7i.metal-24xl", []string{"x86_64"}, 96, 393216, false, ""},
		{"a1.medium", []string{"arm64"}, 1, 2048, false, "nitro"},
		{"im4gn.large", []string{"arm64"}, 0, 0, false, "nitro"},
		{"g4dn.xlarge", []string{"x86_64"}, 0, 0, false, "nitro"},
		{"mac1.metal", []string{"x86_64_mac"}, 0, 0, false, ""},
		{"mac2-m2pro.metal", []string{"arm64_mac"}, 0, 0, false, ""},
		{"p6e-gb200.36xlarge", []string{"arm64"}, 0, 0, false, "nitro"},
		{"u-6tb1.metal", []string{"x86_64"}, 0, 0, false, ""},
		{"m4.large", []string{"x86_64"}, 0, 0, false, "xen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LookupType(tt.name)
			if !ok {
				t.Fatalf("%s unknown", tt.name)
			}
			if !slices.Equal(got.Architectures, tt.archs) || got.VCPUs != tt.vcpus || got.MemoryMiB != tt.memMiB ||
				got.Burstable != tt.burstable || got.Hypervisor != tt.hypervisor {
				t.Fatalf("got %+v", got)
			}
			if got.VCPUs > 0 && got.Cores*got.ThreadsPerCore != got.VCPUs {
				t.Fatalf("cores %d × threads %d ≠ vCPUs %d", got.Cores, got.ThreadsPerCore, got.VCPUs)
			}
		})
	}
}

func TestCheckInstanceType(t *testing.T) {
	for _, name := range []string{"t3.mcro", "t3", "", ".micro", "t3.micro.x", "T3.micro", "zz9.large"} {
		_, err := CheckInstanceType(name)
		var ae *awserr.Error
		if !asErr(err, &ae) || ae.Code != "InvalidParameterValue" || ae.Message != "Invalid value '"+name+"' for InstanceType." {
			t.Errorf("%q: %v", name, err)
		}
	}
	if _, err := CheckInstanceType("t3.micro"); err != nil {
		t.Fatal(err)
	}
}

func TestCheckArchitecture(t *testing.T) {
	arm, _ := LookupType("t4g.micro")
	x86, _ := LookupType("t3.micro")
	old, _ := LookupType("t2.micro")
	mac, _ := LookupType("mac2.metal")
	tests := []struct {
		t    TypeInfo
		arch string
		ok   bool
	}{
		{arm, "arm64", true}, {arm, "x86_64", false}, {x86, "x86_64", true}, {x86, "arm64", false},
		{x86, "i386", false}, {old, "i386", true}, {old, "x86_64", true}, {mac, "arm64_mac", true},
		{mac, "arm64", false}, {x86, "", true},
	}
	for _, tt := range tests {
		err := CheckArchitecture(tt.t, tt.arch)
		if (err == nil) != tt.ok {
			t.Errorf("%s on %s: %v", tt.arch, tt.t.Name, err)
		}
	}
	err := CheckArchitecture(arm, "x86_64")
	want := "The architecture 'arm64' of the specified instance type does not match the architecture 'x86_64' of the specified AMI. " +
		"Specify an instance type and an AMI that have matching architectures, and try again. " +
		"You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI."
	var ae *awserr.Error
	if !asErr(err, &ae) || ae.Code != "InvalidParameterValue" || ae.Status != 400 || ae.Message != want {
		t.Fatalf("got %v", err)
	}
}
