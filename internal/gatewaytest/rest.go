package gatewaytest

import (
	"net/http/httptest"
	"testing"

	"github.com/keygate/keygate/limiter"
	"github.com/keygate/keygate/proxy"
	"github.com/keygate/keygate/rest"
)

// ServeREST serves the REST facade of resources in front of h's double,
// wired as cmd wires it: h's keystore, accounts and Client, a real
// Authorizer with limits as its default limits, the service's Echo with
// its error handler and access log. maxBody 0 is rest's default. The
// server closes when the test ends; ServeREST returns its URL and the
// method and path of every route registered.
func (h *Harness) ServeREST(tb testing.TB, resources *rest.Resources, maxBody int64, limits []limiter.Limit) (string, [][2]string) {
	tb.Helper()
	log := NewLogger(h.Logs)
	az := NewAuthorizer(tb, h.Store, log, limits)
	facade, err := rest.New(rest.Config{Authorizer: az, Accounts: h.Accounts(tb), Client: h.Gateway.Client(),
		Resources: resources, MaxBody: maxBody, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	e := NewEcho(log)
	facade.Register(e.Group(""))
	var routes [][2]string
	for _, r := range e.Routes() {
		routes = append(routes, [2]string{r.Method, r.Path})
	}
	ts := httptest.NewServer(proxy.CanonicalPaths(e))
	tb.Cleanup(ts.Close)
	return ts.URL, routes
}

// Keys creates a key of the default account for each named list of
// scopes and returns their plaintexts by the same names.
func (h *Harness) Keys(tb testing.TB, scopes map[string][]string) map[string]string {
	tb.Helper()
	keys := make(map[string]string, len(scopes))
	for name, s := range scopes {
		keys[name] = h.Key(tb, "default", s...)
	}
	return keys
}
