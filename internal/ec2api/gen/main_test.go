package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestGeneratedFileIsCurrent fails when model.json or the generator changed
// without `go generate ./internal/ec2api`.
func TestGeneratedFileIsCurrent(t *testing.T) {
	model, err := os.ReadFile("../model.json")
	if err != nil {
		t.Fatal(err)
	}
	first, err := Generate(model)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Generate(model)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Fatal("Generate is not deterministic")
	}
	current, err := os.ReadFile("../types_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, current) {
		t.Error("types_gen.go is stale: run go generate ./internal/ec2api")
	}
}

func TestGenerateRejectsBadModels(t *testing.T) {
	tests := []struct{ name, model, want string }{
		{"wrong protocol", `{"metadata":{"protocol":"query"},"operations":{},"shapes":{}}`, "protocol"},
		{"undefined shape", `{"metadata":{"protocol":"ec2"},"operations":{"Op":{"input":{"shape":"Missing"}}},"shapes":{}}`, "not defined"},
		{"required member that does not exist", `{"metadata":{"protocol":"ec2"},"operations":{"Op":{"input":{"shape":"In"}}},
			"shapes":{"In":{"type":"structure","required":["Nope"],"members":{"A":{"shape":"S"}}},"S":{"type":"string"}}}`, "do not exist"},
		{"clashing names", `{"metadata":{"protocol":"ec2"},"operations":{"Op":{"input":{"shape":"Operation"}}},
			"shapes":{"Operation":{"type":"structure","members":{}}}}`, "declared by both"},
		{"list of lists", `{"metadata":{"protocol":"ec2"},"operations":{"Op":{"input":{"shape":"In"}}},
			"shapes":{"In":{"type":"structure","members":{"L":{"shape":"LL"}}},"LL":{"type":"list","member":{"shape":"L"}},"L":{"type":"list","member":{"shape":"S"}},"S":{"type":"string"}}}`, "list of lists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate([]byte(tt.model))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Generate error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestEnumIdent(t *testing.T) {
	for in, want := range map[string]string{
		"launchPermission": "LaunchPermission", "x86_64_mac": "X8664Mac", "v2.0": "V20",
		"enabled-without-cooldown": "EnabledWithoutCooldown", "Windows": "Windows", "": "Empty",
	} {
		if got := enumIdent(in); got != want {
			t.Errorf("enumIdent(%q) = %q, want %q", in, got, want)
		}
	}
}
