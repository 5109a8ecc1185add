package testenv

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDepRuleForbids(t *testing.T) {
	r := DepRule{
		Forbidden: []string{"net/http", "gorm.io/", "github.com/keygate/keygate"},
		Except:    []string{"github.com/keygate/keygate/limiter"},
	}
	std := DepRule{StdlibOnly: true, Except: []string{"github.com/keygate/keygate/odoo/xmlrpc"}}
	cases := map[string][2]bool{ // path → {r forbids, std forbids}
		"net/http":                               {true, false},
		"net/http/httptrace":                     {true, false},
		"net/httpx":                              {false, false},
		"net/netip":                              {false, false},
		"gorm.io/gorm":                           {true, true},
		"github.com/keygate/keygate/keystore":    {true, true},
		"github.com/keygate/keygate/limiter":     {false, true},
		"github.com/keygate/keygate/odoo/xmlrpc": {true, false},
		"github.com/redis/go-redis/v9":           {false, true},
	}
	got := map[string][2]bool{}
	for p := range cases {
		got[p] = [2]bool{r.Forbids(p), std.Forbids(p)}
	}
	if diff := cmp.Diff(cases, got); diff != "" {
		t.Fatalf("Forbids (-want +got):\n%s", diff)
	}
}

// TestDeps: testenv is test-only code; it must not depend on keygate's own
// packages, so that any of them can use it.
func TestDeps(t *testing.T) {
	CheckDeps(t, DepRule{Forbidden: []string{"github.com/keygate/keygate"}, Except: []string{"github.com/keygate/keygate/internal/testenv"}})
}
