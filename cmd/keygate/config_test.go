package main

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestConfigRefusesBadSettings: each setting this round added is refused,
// naming its variable, when its value is out of bounds; the defaults pass.
func TestConfigRefusesBadSettings(t *testing.T) {
	base := map[string]string{"KEYGATE_DATABASE_URL": "sqlite:///tmp/keygate-config-test.db"}
	cfg, err := loadConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := map[string]string{
		"CREDITS_LEASE":        "0",
		"REDIS_LEASE":          "-1",
		"SESSION_IDLE_TIMEOUT": "0s",
		"SESSION_MAX_AGE":      "-1h",
		"SESSION_MAX_PER_KEY":  "0",
		"SESSION_MAX_TOTAL":    "-5",
		"READ_TIMEOUT":         "0s",
		"UNAUTH_BODY_BUDGET":   "-1",
		"GC_FLOOR":             "-1",
		"GITHUB_KEYS_URL":      "file:///etc/passwd",
		"PPROF_LISTEN":         "0.0.0.0:6060",
		"SECRET_KEY_PREVIOUS":  "nope",
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			environ := map[string]string{"KEYGATE_" + name: value}
			for k, v := range base {
				environ[k] = v
			}
			cfg, err := loadConfig(environ)
			if err == nil {
				err = cfg.validate()
			}
			if err == nil || !strings.Contains(err.Error(), "KEYGATE_"+name) {
				t.Errorf("KEYGATE_%s=%s: %v, want an error naming it", name, value, err)
			}
		})
	}
	over, err := loadConfig(map[string]string{"KEYGATE_DATABASE_URL": base["KEYGATE_DATABASE_URL"], "KEYGATE_CREDITS_LEASE": "1000000001"})
	if err != nil {
		t.Fatal(err)
	}
	if err := over.validate(); err == nil || !strings.Contains(err.Error(), "KEYGATE_CREDITS_LEASE: must be from 1 to 1000000000") {
		t.Errorf("KEYGATE_CREDITS_LEASE over the maximum: %v, want it refused", err)
	}
	// Past 1 TiB the floor's GOGC would wrap, negative, and turn the
	// collector off (internal/gcfloor.MaxFloor).
	for value, refused := range map[string]bool{"1099511627776": false, "1099511627777": true, "9223372036854775807": true} {
		cfg, err := loadConfig(map[string]string{"KEYGATE_DATABASE_URL": base["KEYGATE_DATABASE_URL"], "KEYGATE_GC_FLOOR": value})
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.validate(); (err != nil) != refused || refused && !strings.Contains(err.Error(), "KEYGATE_GC_FLOOR") {
			t.Errorf("KEYGATE_GC_FLOOR=%s: %v, want refused %v", value, err, refused)
		}
	}
}

// TestREADMEGivesEveryDefault: every KEYGATE_* variable of config has a
// row in the README's configuration table, and the default the row gives
// is the one keygate applies (a default given as "unset…" is none).
func TestREADMEGivesEveryDefault(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{} // variable → its default cell
	row := regexp.MustCompile("(?m)^\\| `KEYGATE_([A-Z0-9_]+)` \\|[^|]*\\| ([^|]*?) \\|")
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = m[2]
	}
	fields := reflect.TypeFor[config]()
	for i := range fields.NumField() {
		f := fields.Field(i)
		name, ok := f.Tag.Lookup("env")
		if !ok {
			continue
		}
		cell, ok := documented[name]
		if !ok {
			t.Errorf("KEYGATE_%s is not in the README's configuration table", name)
			continue
		}
		want := f.Tag.Get("envDefault")
		got := "" // "unset", "built-in …": no default value
		if rest, ok := strings.CutPrefix(cell, "`"); ok {
			got, _, _ = strings.Cut(rest, "`")
		}
		if got != want {
			t.Errorf("KEYGATE_%s: the README gives the default %q, keygate applies %q", name, cell, want)
		}
	}
}
