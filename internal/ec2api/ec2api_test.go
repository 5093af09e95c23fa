package ec2api

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

type modelFile struct {
	Operations map[string]struct {
		Input, Output *struct{ Shape string }
	}
}

func TestOperationsMatchModel(t *testing.T) {
	data, err := os.ReadFile("model.json")
	if err != nil {
		t.Fatal(err)
	}
	var m modelFile
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(Operations) != len(m.Operations) {
		t.Errorf("len(Operations) = %d, model has %d", len(Operations), len(m.Operations))
	}
	for name, op := range m.Operations {
		got, ok := Operations[name]
		if !ok {
			t.Errorf("Operations lacks %s", name)
			continue
		}
		if in := reflect.TypeOf(got.New()); in.Kind() != reflect.Pointer || in.Elem().Name() != op.Input.Shape {
			t.Errorf("%s: New() = %v, want *%s", name, in, op.Input.Shape)
		}
		wantOut := "ReturnResult"
		if op.Output != nil {
			wantOut = op.Output.Shape
		}
		if out := reflect.TypeOf(got.NewOutput()); out.Elem().Name() != wantOut {
			t.Errorf("%s: NewOutput() = %v, want *%s", name, out, wantOut)
		}
		if got.HasOutput != (op.Output != nil) {
			t.Errorf("%s: HasOutput = %t", name, got.HasOutput)
		}
		if got.New() == got.New() {
			t.Errorf("%s: New returns a shared value", name)
		}
	}
}

func TestTags(t *testing.T) {
	tests := []struct {
		typ                   any
		field                 string
		query, xml, item, jsn string
	}{
		{ModifyImageAttributeRequest{}, "ImageId", "ImageId,required", "ImageId", "", "ImageId,omitempty"},
		{ModifyImageAttributeRequest{}, "UserIds", "UserId", "UserId", "UserId", "UserIds,omitempty"},
		{ModifyImageAttributeRequest{}, "DryRun", "DryRun", "dryRun", "", "DryRun,omitempty"},
		{DescribeImagesRequest{}, "ExecutableUsers", "ExecutableBy", "ExecutableBy", "ExecutableBy", "ExecutableUsers,omitempty"},
		{DescribeImagesRequest{}, "Filters", "Filter", "Filter", "Filter", "Filters,omitempty"},
		{DescribeImagesResult{}, "Images", "ImagesSet", "imagesSet", "item", "Images,omitempty"},
		{Image{}, "State", "ImageState", "imageState", "", "State,omitempty"},
		{Image{}, "Public", "IsPublic", "isPublic", "", "Public,omitempty"},
		{BlockDeviceMapping{}, "Ebs", "Ebs", "ebs", "", "Ebs,omitempty"},
		{ImageAttribute{}, "LaunchPermissions", "LaunchPermission", "launchPermission", "item", "LaunchPermissions,omitempty"},
		{InstanceNetworkInterfaceSpecification{}, "Ipv6Addresses", "Ipv6Addresses", "ipv6AddressesSet", "item", "Ipv6Addresses,omitempty"},
		{RunInstancesMonitoringEnabled{}, "Enabled", "Enabled,required", "enabled", "", "Enabled,omitempty"},
		{ReturnResult{}, "Return", "", "return", "", "Return,omitempty"},
	}
	for _, tt := range tests {
		typ := reflect.TypeOf(tt.typ)
		f, ok := typ.FieldByName(tt.field)
		if !ok {
			t.Errorf("%v has no field %s", typ, tt.field)
			continue
		}
		got := [4]string{f.Tag.Get("query"), f.Tag.Get("xml"), f.Tag.Get("xmlitem"), f.Tag.Get("json")}
		if want := [4]string{tt.query, tt.xml, tt.item, tt.jsn}; got != want {
			t.Errorf("%v.%s tags = %q, want %q", typ, tt.field, got, want)
		}
	}
}

func TestFieldTypesAndOrder(t *testing.T) {
	typ := reflect.TypeFor[ModifyImageAttributeRequest]()
	var names []string
	for i := range typ.NumField() {
		names = append(names, typ.Field(i).Name)
	}
	want := []string{"Attribute", "Description", "ImageId", "LaunchPermission", "OperationType", "ProductCodes",
		"UserGroups", "UserIds", "Value", "OrganizationArns", "OrganizationalUnitArns", "ImdsSupport", "DryRun"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("ModifyImageAttributeRequest fields = %v, want model order %v", names, want)
	}
	checks := map[string]any{
		"ImageId":          (*string)(nil),
		"DryRun":           (*bool)(nil),
		"LaunchPermission": (*LaunchPermissionModifications)(nil),
		"UserIds":          []string(nil),
		"Description":      (*AttributeValue)(nil),
	}
	for field, v := range checks {
		f, _ := typ.FieldByName(field)
		if f.Type != reflect.TypeOf(v) {
			t.Errorf("%s is %v, want %T", field, f.Type, v)
		}
	}
	for typ, field := range map[reflect.Type]string{
		reflect.TypeFor[DescribeImagesResult]():          "Images:[]ec2api.Image",
		reflect.TypeFor[EnableImageDeprecationRequest](): "DeprecateAt:*time.Time",
		reflect.TypeFor[DescribeImagesRequest]():         "MaxResults:*int32",
		reflect.TypeFor[CopyImageRequest]():              "SnapshotCopyCompletionDurationMinutes:*int64",
	} {
		name, _, _ := strings.Cut(field, ":")
		f, _ := typ.FieldByName(name)
		if got := name + ":" + f.Type.String(); got != field {
			t.Errorf("%v: %s, want %s", typ, got, field)
		}
	}
}

func TestEveryFieldIsTagged(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[Image]().PkgPath() || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Tag.Get("xml") == "" || f.Tag.Get("json") == "" || (typ.Name() != "ReturnResult" && f.Tag.Get("query") == "") {
				t.Errorf("%s.%s lacks tags: %s", typ.Name(), f.Name, f.Tag)
			}
			if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() != reflect.Uint8 && f.Tag.Get("xmlitem") == "" {
				t.Errorf("%s.%s is a list without xmlitem", typ.Name(), f.Name)
			}
			walk(f.Type)
		}
	}
	for _, op := range Operations {
		walk(reflect.TypeOf(op.New()))
		walk(reflect.TypeOf(op.NewOutput()))
	}
	if len(seen) < 150 {
		t.Errorf("walked only %d struct types", len(seen))
	}
}
