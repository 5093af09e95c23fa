package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpsFlags(t *testing.T) {
	cfg, _, err := parseServe(nil, nil)
	if err != nil || cfg.Throttle != nil || len(cfg.Faults.Rules) != 0 || cfg.AdminToken != "" {
		t.Fatalf("defaults: %v %+v", err, cfg)
	}
	file := filepath.Join(t.TempDir(), "faults.yaml")
	if err := os.WriteFile(file, []byte("rules:\n  - action: CopyImage\n    every: 2\n    error: {code: InternalError}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, err = parseServe([]string{"--throttle", "ec2", "--faults", file},
		map[string]string{"AMIGO_ADMIN_TOKEN": "tok"})
	if err != nil || cfg.Throttle == nil || len(cfg.Faults.Rules) != 1 || cfg.AdminToken != "tok" {
		t.Fatalf("set: %v %+v", err, cfg)
	}
	if _, _, err := parseServe([]string{"--throttle", "aws"}, nil); err == nil || !strings.Contains(err.Error(), "--throttle") {
		t.Fatalf("--throttle aws: %v", err)
	}
	if err := os.WriteFile(file, []byte("rules:\n  - action: CopyImage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := parseServe([]string{"--faults", file}, nil); err == nil || !strings.Contains(err.Error(), "rule 1") {
		t.Fatalf("bad --faults file: %v", err)
	}
}
