package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun_Usage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr error
		wantOut string // in stdout or stderr
	}{
		{"no command", nil, errUsage, "Usage:"},
		{"unknown command", []string{"frobnicate"}, errUsage, `unknown command "frobnicate"`},
		{"help", []string{"help"}, nil, "feedmux serve"},
		{"serve -h", []string{"serve", "-h"}, flag.ErrHelp, "-listen"},
		{"version -h", []string{"version", "-h"}, flag.ErrHelp, "Usage: feedmux version"},
		{"version", []string{"version"}, nil, "feedmux "},
		{"bad flag", []string{"serve", "-nope"}, errUsage, "flag provided but not defined"},
		{"missing config", []string{"serve", "-config", "/nonexistent/feeds.toml"}, errUsage, "/nonexistent/feeds.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := run(t.Context(), tc.args, &out, &out, func(string) string { return "" })
			if !errors.Is(err, tc.wantErr) && !(err == nil && tc.wantErr == nil) {
				t.Errorf("run(%q) = %v, want %v", tc.args, err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("run(%q) printed %q, want it to contain %q", tc.args, out.String(), tc.wantOut)
			}
		})
	}
}

func TestMain_ParseFlags_Precedence(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "feeds.toml")
	if err := os.WriteFile(config, []byte("[server]\nlisten = \":1111\"\n[storage]\npath = \"file.db\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	envConfig := filepath.Join(dir, "env.toml")
	if err := os.WriteFile(envConfig, []byte("[server]\nlisten = \":2222\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name               string
		args               []string
		env                map[string]string
		wantListen, wantDB string
	}{
		{"file", []string{"-config", config}, nil, ":1111", "file.db"},
		{"env over file", []string{"-config", config}, map[string]string{"FEEDMUX_LISTEN": ":3333", "FEEDMUX_DB": "env.db"}, ":3333", "env.db"},
		{"flags over env", []string{"-config", config, "-listen", ":4444", "-db", "flag.db"}, map[string]string{"FEEDMUX_LISTEN": ":3333", "FEEDMUX_DB": "env.db"}, ":4444", "flag.db"},
		{"config from env", nil, map[string]string{"FEEDMUX_CONFIG": envConfig}, ":2222", "data/feedmux.db"},
		{"config flag over env", []string{"-config", config}, map[string]string{"FEEDMUX_CONFIG": envConfig}, ":1111", "file.db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain()
			var stderr strings.Builder
			if err := m.ParseFlags(tc.args, &stderr, func(k string) string { return tc.env[k] }); err != nil {
				t.Fatalf("ParseFlags: %v\n%s", err, stderr.String())
			}
			if m.Config.Server.Listen != tc.wantListen || m.Config.Storage.Path != tc.wantDB {
				t.Errorf("listen, db = %q, %q; want %q, %q", m.Config.Server.Listen, m.Config.Storage.Path, tc.wantListen, tc.wantDB)
			}
		})
	}
}
