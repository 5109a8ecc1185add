package keystore

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"postgres://keygate:s3cret@db:5432/keygate": "postgres://keygate:xxxxx@db:5432/keygate",
		"redis://:s3cret@127.0.0.1:6379/0":          "redis://:xxxxx@127.0.0.1:6379/0",
		"https://odoo.example.com":                  "https://odoo.example.com",
		"sqlite://keygate.db":                       "sqlite://keygate.db",
		"postgres://user@db/keygate":                "postgres://user@db/keygate",
		"postgres://u:p@[::1/x":                     "(unparsable URL)",
	}
	got := map[string]string{}
	for in := range cases {
		got[in] = RedactURL(in)
	}
	if diff := cmp.Diff(cases, got); diff != "" {
		t.Fatalf("RedactURL (-want +got):\n%s", diff)
	}
}
