package instance

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// The built-in instance type table (spec §3.3): every name of the model's
// InstanceType enum, each with the architectures it runs. vCPUs and memory
// are known for the common families only; DescribeInstanceTypes leaves them
// out for the rest rather than guess.

// TypeInfo is what amigo knows of one instance type.
type TypeInfo struct {
	Name string
	// Architectures are the supported architectures; the last is the one
	// error messages name.
	Architectures []string
	// VCPUs, Cores, ThreadsPerCore and MemoryMiB are 0 when unknown.
	VCPUs          int32
	Cores          int32
	ThreadsPerCore int32
	MemoryMiB      int64
	// Burstable is BurstablePerformanceSupported (T families): such types
	// have a CPU credit specification.
	Burstable  bool
	Hypervisor string // "xen" or "nitro"; "" for bare metal
	BareMetal  bool
	// CurrentGeneration is false for the families EC2 calls previous
	// generation.
	CurrentGeneration bool
}

// Architecture is the type's main architecture.
func (t TypeInfo) Architecture() string { return t.Architectures[len(t.Architectures)-1] }

// Supports reports whether an image of architecture arch runs on the type.
func (t TypeInfo) Supports(arch string) bool { return slices.Contains(t.Architectures, arch) }

// LookupType returns the type called name, or false when EC2 has no such type.
func LookupType(name string) (TypeInfo, bool) {
	family, size, ok := strings.Cut(name, ".")
	if !ok || !slices.Contains(strings.Fields(typeSizes[family]), size) {
		return TypeInfo{}, false
	}
	t := TypeInfo{Name: name, Architectures: familyArchitectures(family), CurrentGeneration: !previousGeneration[family]}
	t.BareMetal = strings.HasPrefix(size, "metal")
	switch {
	case t.BareMetal:
	case xenFamilies[family]:
		t.Hypervisor = "xen"
	default:
		t.Hypervisor = "nitro"
	}
	if spec, ok := burstable[family]; ok {
		t.Burstable = true
		if s, ok := spec[size]; ok {
			t.VCPUs, t.MemoryMiB = s.vcpus, s.memMiB
		}
	} else if perVCPU, ok := memoryPerVCPU[family]; ok {
		if n := sizeVCPUs(family, size); n > 0 {
			t.VCPUs, t.MemoryMiB = n, int64(n)*perVCPU
		}
	}
	if t.VCPUs > 0 {
		// Graviton cores run one thread; x86 ones two, except the T2s.
		t.ThreadsPerCore = 2
		if t.Architecture() != "x86_64" || family == "t2" || t.VCPUs == 1 {
			t.ThreadsPerCore = 1
		}
		t.Cores = t.VCPUs / t.ThreadsPerCore
	}
	return t, true
}

// TypeNames returns every instance type name, sorted.
func TypeNames() []string {
	var out []string
	for family, sizes := range typeSizes {
		for _, s := range strings.Fields(sizes) {
			out = append(out, family+"."+s)
		}
	}
	slices.Sort(out)
	return out
}

// CheckInstanceType answers an unknown type with EC2's error.
func CheckInstanceType(name string) (TypeInfo, error) {
	t, ok := LookupType(name)
	if !ok {
		return TypeInfo{}, awserr.InvalidParameterValue("Invalid value '%s' for InstanceType.", name)
	}
	return t, nil
}

// CheckArchitecture answers an image the type cannot run with EC2's error:
// the type's architecture first, the image's second.
func CheckArchitecture(t TypeInfo, imageArch string) error {
	if imageArch == "" || t.Supports(imageArch) {
		return nil
	}
	return awserr.InvalidParameterValue("The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. "+
		"Specify an instance type and an AMI that have matching architectures, and try again. "+
		"You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.",
		t.Architecture(), imageArch)
}

// familyPattern splits a family into its series letters, generation and
// attributes: "c7gn" → "c", "7", "gn".
var familyPattern = regexp.MustCompile(`^([a-z]+)([0-9]+)(.*)$`)

// familyArchitectures is the architecture rule of spec §3.3: Graviton
// families (a1, and those with a "g" among their attributes: t4g, c7gn,
// im4gn, p6e-gb200) are arm64, mac1 is x86_64_mac, the other Macs
// arm64_mac, the old Xen families also run i386, the rest x86_64.
func familyArchitectures(family string) []string {
	switch {
	case family == "mac1":
		return []string{"x86_64_mac"}
	case strings.HasPrefix(family, "mac"):
		return []string{"arm64_mac"}
	case family == "a1":
		return []string{"arm64"}
	case i386Families[family]:
		return []string{"i386", "x86_64"}
	}
	if m := familyPattern.FindStringSubmatch(family); m != nil && strings.Contains(m[3], "g") {
		return []string{"arm64"}
	}
	return []string{"x86_64"}
}

// sizeVCPUs is the vCPU count of a size in the families whose vCPUs follow
// the size name: medium 1, large 2, xlarge 4, Nxlarge 4N; metal as the
// largest size (metal-24xl as 24xlarge).
func sizeVCPUs(family, size string) int32 {
	switch {
	case size == "medium":
		return 1
	case size == "large":
		return 2
	case size == "xlarge":
		return 4
	case strings.HasSuffix(size, "xlarge"):
		n, err := strconv.Atoi(strings.TrimSuffix(size, "xlarge"))
		if err != nil {
			return 0
		}
		return int32(4 * n)
	case strings.HasPrefix(size, "metal-") && strings.HasSuffix(size, "xl"):
		return sizeVCPUs(family, strings.TrimSuffix(strings.TrimPrefix(size, "metal-"), "xl")+"xlarge")
	case size == "metal":
		var most int32
		for _, s := range strings.Fields(typeSizes[family]) {
			if s != "metal" {
				most = max(most, sizeVCPUs(family, s))
			}
		}
		return most
	}
	return 0
}

type burstSize struct {
	vcpus  int32
	memMiB int64
}

// t3Sizes are the sizes of T3, T3a and T4g.
var t3Sizes = map[string]burstSize{
	"nano": {2, 512}, "micro": {2, 1024}, "small": {2, 2048}, "medium": {2, 4096},
	"large": {2, 8192}, "xlarge": {4, 16384}, "2xlarge": {8, 32768},
}

// burstable are the T families, with each size's vCPUs and memory.
var burstable = map[string]map[string]burstSize{
	"t1": {"micro": {1, 627}},
	"t2": {"nano": {1, 512}, "micro": {1, 1024}, "small": {1, 2048}, "medium": {2, 4096},
		"large": {2, 8192}, "xlarge": {4, 16384}, "2xlarge": {8, 32768}},
	"t3": t3Sizes, "t3a": t3Sizes, "t4g": t3Sizes,
}

// memoryPerVCPU is MiB per vCPU of the families sized by sizeVCPUs:
// compute (c) 2 GiB, general purpose (m, a1) 4 GiB, memory (r) 8 GiB.
var memoryPerVCPU = map[string]int64{
	"a1": 2048,
	"c5": 2048, "c5a": 2048, "c5d": 2048, "c5ad": 2048, "c6a": 2048, "c6g": 2048, "c6gd": 2048, "c6gn": 2048,
	"c6i": 2048, "c6id": 2048, "c6in": 2048, "c7a": 2048, "c7g": 2048, "c7gd": 2048, "c7gn": 2048, "c7i": 2048,
	"c8g": 2048, "c8gd": 2048,
	"m5": 4096, "m5a": 4096, "m5ad": 4096, "m5d": 4096, "m5dn": 4096, "m5n": 4096, "m6a": 4096, "m6g": 4096,
	"m6gd": 4096, "m6i": 4096, "m6id": 4096, "m6idn": 4096, "m6in": 4096, "m7a": 4096, "m7g": 4096, "m7gd": 4096,
	"m7i": 4096, "m8g": 4096, "m8gd": 4096,
	"r5": 8192, "r5a": 8192, "r5ad": 8192, "r5b": 8192, "r5d": 8192, "r5dn": 8192, "r5n": 8192, "r6a": 8192,
	"r6g": 8192, "r6gd": 8192, "r6i": 8192, "r6id": 8192, "r6idn": 8192, "r6in": 8192, "r7a": 8192, "r7g": 8192,
	"r7gd": 8192, "r7i": 8192, "r8g": 8192, "r8gd": 8192,
}

// i386Families are the old Xen families that also run 32-bit images.
var i386Families = map[string]bool{"t1": true, "t2": true, "m1": true, "m3": true, "c1": true, "c3": true}

// xenFamilies run on the Xen hypervisor; every other virtualized type runs
// on Nitro.
var xenFamilies = map[string]bool{
	"c1": true, "c3": true, "c4": true, "cc1": true, "cc2": true, "cg1": true, "cr1": true, "d2": true, "f1": true,
	"g2": true, "g3": true, "g3s": true, "h1": true, "hi1": true, "hs1": true, "i2": true, "i3": true, "m1": true,
	"m2": true, "m3": true, "m4": true, "p2": true, "p3": true, "r3": true, "r4": true, "t1": true, "t2": true,
	"x1": true, "x1e": true,
}

// previousGeneration are the families EC2 lists as previous generation.
var previousGeneration = map[string]bool{
	"c1": true, "c3": true, "c4": true, "cc1": true, "cc2": true, "cg1": true, "cr1": true, "d2": true, "g2": true,
	"hi1": true, "hs1": true, "i2": true, "m1": true, "m2": true, "m3": true, "m4": true, "r3": true, "r4": true,
	"t1": true,
}

// typeSizes is the InstanceType enum of the EC2 model, by family
// (TestTypeTableMatchesModel keeps it in step with internal/ec2api/model.json).
var typeSizes = map[string]string{
	"a1":           "medium large xlarge 2xlarge 4xlarge metal",
	"c1":           "medium xlarge",
	"c3":           "large xlarge 2xlarge 4xlarge 8xlarge",
	"c4":           "large xlarge 2xlarge 4xlarge 8xlarge",
	"c5":           "large xlarge 2xlarge 4xlarge 9xlarge 12xlarge 18xlarge 24xlarge metal",
	"c5a":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge",
	"c5ad":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge",
	"c5d":          "large xlarge 2xlarge 4xlarge 9xlarge 12xlarge 18xlarge 24xlarge metal",
	"c5n":          "large xlarge 2xlarge 4xlarge 9xlarge 18xlarge metal",
	"c6a":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal",
	"c6g":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"c6gd":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"c6gn":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
	"c6i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"c6id":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"c6in":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"c7a":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal-48xl",
	"c7g":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"c7gd":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"c7gn":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"c7i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"c7i-flex":     "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
	"c8a":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"c8g":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"c8gb":         "12xlarge 16xlarge 24xlarge 2xlarge 4xlarge 8xlarge large medium metal-24xl xlarge 48xlarge metal-48xl",
	"c8gd":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"c8gn":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"c8i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl",
	"c8i-flex":     "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
	"c8id":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl",
	"cc1":          "4xlarge",
	"cc2":          "8xlarge",
	"cg1":          "4xlarge",
	"cr1":          "8xlarge",
	"d2":           "xlarge 2xlarge 4xlarge 8xlarge",
	"d3":           "xlarge 2xlarge 4xlarge 8xlarge",
	"d3en":         "xlarge 2xlarge 4xlarge 6xlarge 8xlarge 12xlarge",
	"dl1":          "24xlarge",
	"dl2q":         "24xlarge",
	"f1":           "2xlarge 4xlarge 16xlarge",
	"f2":           "12xlarge 48xlarge 6xlarge",
	"g2":           "2xlarge 8xlarge",
	"g3":           "4xlarge 8xlarge 16xlarge",
	"g3s":          "xlarge",
	"g4ad":         "xlarge 2xlarge 4xlarge 8xlarge 16xlarge",
	"g4dn":         "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"g5":           "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge",
	"g5g":          "xlarge 2xlarge 4xlarge 8xlarge 16xlarge metal",
	"g6":           "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge",
	"g6e":          "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge",
	"g6f":          "large xlarge 2xlarge 4xlarge",
	"g7e":          "2xlarge 4xlarge 8xlarge 12xlarge 24xlarge 48xlarge",
	"gr6":          "4xlarge 8xlarge",
	"gr6f":         "4xlarge",
	"h1":           "2xlarge 4xlarge 8xlarge 16xlarge",
	"hi1":          "4xlarge",
	"hpc6a":        "48xlarge",
	"hpc6id":       "32xlarge",
	"hpc7a":        "12xlarge 24xlarge 48xlarge 96xlarge",
	"hpc7g":        "4xlarge 8xlarge 16xlarge",
	"hpc8a":        "96xlarge",
	"hs1":          "8xlarge",
	"i2":           "xlarge 2xlarge 4xlarge 8xlarge",
	"i3":           "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge metal",
	"i3en":         "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge 24xlarge metal",
	"i4g":          "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge",
	"i4i":          "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge 32xlarge metal 12xlarge 24xlarge",
	"i7i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"i7ie":         "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge 18xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"i8g":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal-24xl 48xlarge",
	"i8ge":         "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge 18xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"im4gn":        "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge",
	"inf1":         "xlarge 2xlarge 6xlarge 24xlarge",
	"inf2":         "xlarge 8xlarge 24xlarge 48xlarge",
	"is4gen":       "medium large xlarge 2xlarge 4xlarge 8xlarge",
	"m1":           "small medium large xlarge",
	"m2":           "xlarge 2xlarge 4xlarge",
	"m3":           "medium large xlarge 2xlarge",
	"m4":           "large xlarge 2xlarge 4xlarge 10xlarge 16xlarge",
	"m5":           "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal",
	"m5a":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge",
	"m5ad":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge",
	"m5d":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal",
	"m5dn":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal",
	"m5n":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal",
	"m5zn":         "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge metal",
	"m6a":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal",
	"m6g":          "metal medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
	"m6gd":         "metal medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
	"m6i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"m6id":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"m6idn":        "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"m6in":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"m7a":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal-48xl",
	"m7g":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"m7gd":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"m7i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"m7i-flex":     "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
	"m8a":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"m8azn":        "medium large xlarge 3xlarge 6xlarge 12xlarge 24xlarge metal-12xl metal-24xl",
	"m8g":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"m8gb":         "12xlarge 16xlarge 24xlarge 2xlarge 4xlarge 8xlarge large medium xlarge 48xlarge metal-24xl metal-48xl",
	"m8gd":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"m8gn":         "12xlarge 16xlarge 24xlarge 2xlarge 48xlarge 4xlarge 8xlarge large medium xlarge metal-24xl metal-48xl",
	"m8i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl",
	"m8i-flex":     "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
	"m8id":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl",
	"mac-m4":       "metal",
	"mac-m4max":    "metal",
	"mac-m4pro":    "metal",
	"mac1":         "metal",
	"mac2":         "metal",
	"mac2-m1ultra": "metal",
	"mac2-m2":      "metal",
	"mac2-m2pro":   "metal",
	"p2":           "xlarge 8xlarge 16xlarge",
	"p3":           "2xlarge 8xlarge 16xlarge",
	"p3dn":         "24xlarge",
	"p4d":          "24xlarge",
	"p4de":         "24xlarge",
	"p5":           "48xlarge 4xlarge",
	"p5e":          "48xlarge",
	"p5en":         "48xlarge",
	"p6-b200":      "48xlarge",
	"p6-b300":      "48xlarge",
	"p6e-gb200":    "36xlarge",
	"r3":           "large xlarge 2xlarge 4xlarge 8xlarge",
	"r4":           "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge",
	"r5":           "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal",
	"r5a":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge",
	"r5ad":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge",
	"r5b":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal",
	"r5d":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal",
	"r5dn":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal",
	"r5n":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal",
	"r6a":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal",
	"r6g":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"r6gd":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"r6i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"r6id":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"r6idn":        "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"r6in":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal",
	"r7a":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal-48xl",
	"r7g":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"r7gd":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"r7i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"r7iz":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 32xlarge metal-16xl metal-32xl",
	"r8a":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"r8g":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"r8gb":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal-24xl",
	"r8gd":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"r8gn":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"r8i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl",
	"r8i-flex":     "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
	"r8id":         "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl",
	"t1":           "micro",
	"t2":           "nano micro small medium large xlarge 2xlarge",
	"t3":           "nano micro small medium large xlarge 2xlarge",
	"t3a":          "nano micro small medium large xlarge 2xlarge",
	"t4g":          "nano micro small medium large xlarge 2xlarge",
	"trn1":         "2xlarge 32xlarge",
	"trn1n":        "32xlarge",
	"trn2":         "48xlarge 3xlarge",
	"u-12tb1":      "112xlarge metal",
	"u-18tb1":      "metal 112xlarge",
	"u-24tb1":      "metal 112xlarge",
	"u-3tb1":       "56xlarge",
	"u-6tb1":       "56xlarge 112xlarge metal",
	"u-9tb1":       "112xlarge metal",
	"u7i-12tb":     "224xlarge",
	"u7i-6tb":      "112xlarge",
	"u7i-8tb":      "112xlarge",
	"u7ib-12tb":    "224xlarge",
	"u7in-16tb":    "224xlarge",
	"u7in-24tb":    "224xlarge",
	"u7in-32tb":    "224xlarge",
	"u7inh-32tb":   "480xlarge",
	"vt1":          "3xlarge 6xlarge 24xlarge",
	"x1":           "16xlarge 32xlarge",
	"x1e":          "xlarge 2xlarge 4xlarge 8xlarge 16xlarge 32xlarge",
	"x2gd":         "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal",
	"x2idn":        "16xlarge 24xlarge 32xlarge metal",
	"x2iedn":       "xlarge 2xlarge 4xlarge 8xlarge 16xlarge 24xlarge 32xlarge metal",
	"x2iezn":       "2xlarge 4xlarge 6xlarge 8xlarge 12xlarge metal",
	"x8aedz":       "12xlarge 24xlarge 3xlarge 6xlarge large metal-12xl metal-24xl xlarge",
	"x8g":          "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
	"x8i":          "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 64xlarge 96xlarge metal-48xl metal-96xl",
	"z1d":          "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge metal",
}
