package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// start runs the command on a free port and returns its URL; the command
// stops when the test ends, and must stop cleanly.
func start(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-listen", "127.0.0.1:0"}, args...), w, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the address: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
}

func TestServesTheDouble(t *testing.T) {
	tests := []struct {
		name, version string
		want          string
	}{
		{"default_is_18", "", `"server_version": "18.0"`},
		{"version_19", "19.0", `"server_version": "19.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			if tt.version != "" {
				args = []string{"-version", tt.version}
			}
			url := start(t, args...)
			resp, err := http.Post(url+"/jsonrpc", "application/json",
				strings.NewReader(`{"jsonrpc": "2.0", "method": "call", "params": {"service": "common", "method": "version", "args": []}, "id": 1}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			got := []any{resp.StatusCode, resp.Close, strings.Contains(string(body), tt.want)}
			if diff := cmp.Diff([]any{200, true, true}, got); diff != "" {
				t.Errorf("status, Connection: close, version (-want +got):\n%s\n%s", diff, body)
			}
		})
	}
}

func TestRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown_version", []string{"-version", "17.0"}},
		{"unknown_flag", []string{"-nope"}},
		{"extra_argument", []string{"serve"}},
		{"bad_address", []string{"-listen", "not an address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := run(context.Background(), tt.args, io.Discard, io.Discard); err == nil {
				t.Errorf("run(%v) succeeded, want an error", tt.args)
			}
		})
	}
}

// TestServesJSON2On19: the process in 19.0 mode answers JSON-2 with a
// bearer key, as the library double does.
func TestServesJSON2On19(t *testing.T) {
	url := start(t, "-version", "19.0", "-database", "odoo19_test")
	req, err := http.NewRequest(http.MethodPost, url+"/json/2/res.partner/search_count", strings.NewReader(`{"domain": [["is_company", "=", true]]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "bearer ODOO_API_KEY_GLOBAL")
	req.Header.Set("X-Odoo-Database", "odoo19_test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if diff := cmp.Diff([]any{200, "9"}, []any{resp.StatusCode, string(body)}); diff != "" {
		t.Errorf("status, body (-want +got):\n%s", diff)
	}
}
