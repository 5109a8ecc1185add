package openapicheck_test

import (
	"net/http/httptest"
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
	h := &restHarness{Harness: gatewaytest.New(tb, gatewaytest.Options{}), keys: map[string]string{}}
	log := gatewaytest.NewLogger(h.Logs)
	az := gatewaytest.NewAuthorizer(tb, h.Store, log, nil)
	facade, err := rest.New(rest.Config{Authorizer: az, Accounts: h.Accounts(tb), Client: h.Gateway.Client(),
		Resources: loadResources(tb, opts.resources), Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	e := gatewaytest.NewEcho(log)
	facade.Register(e.Group(""))
	for _, r := range e.Routes() {
		h.routes = append(h.routes, [2]string{r.Method, r.Path})
	}
	ts := httptest.NewServer(e)
	tb.Cleanup(ts.Close)
	h.api = ts.URL
	for name, scopes := range restKeys {
		h.keys[name] = h.Key(tb, "default", scopes...)
	}
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
