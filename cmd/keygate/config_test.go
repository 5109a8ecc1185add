package main

import (
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
}
