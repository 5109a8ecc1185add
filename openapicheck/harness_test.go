package openapicheck_test

import (
	"path/filepath"
	"testing"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/rest"
)

// restHarness is the REST facade in front of the Odoo double, wired as cmd
// wires it (as rest_test's harness of the same name): the gateway
// harness's keystore, accounts and Client, a real Authorizer, the
// service's Echo with its error handler and access log.
type restHarness struct {
	*gatewaytest.Harness
	api    string            // the REST server's base URL
	routes [][2]string       // method and path of every route registered
	keys   map[string]string // by name: see restKeys
}

// restOptions change what newRESTHarness builds.
type restOptions struct {
	resources string // a file in rest's testdata; "": the built-in resources
}

// The scopes of the keys every harness makes.
var restKeys = map[string][]string{
	"all":     {"odoo:*:*"},
	"nothing": {"route:GET:/nothing"},
}

func newRESTHarness(tb testing.TB, opts restOptions) *restHarness {
	tb.Helper()
	h := &restHarness{Harness: gatewaytest.New(tb, gatewaytest.Options{})}
	h.api, h.routes = h.ServeREST(tb, loadResources(tb, opts.resources), 0, nil)
	h.keys = h.Keys(tb, restKeys)
	return h
}

// loadResources loads a file of rest's own testdata (one copy of the
// fixtures for both modules).
func loadResources(tb testing.TB, file string) *rest.Resources {
	tb.Helper()
	path := ""
	if file != "" {
		path = filepath.Join("..", "rest", "testdata", file)
	}
	rs, err := rest.LoadResources(path)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}
