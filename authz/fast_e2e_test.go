package authz_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
)

// keygateServer is /auth of an env served on loopback, as the proxies'
// tests reach it.
type keygateServer struct {
	addr  string
	fast  *httpapi.FastServer // nil: Echo on net/http alone
	close func()
}

// serveModes are the two ways serve can answer /auth: through its fast
// path (httpapi.FastServer, the default), and through Echo on net/http
// (KEYGATE_FAST_PATH=false). The proxies' tests run against both.
var serveModes = []struct {
	name string
	fast bool
}{{"net_http", false}, {"fast_path", true}}

// serveKeygate serves /auth of e on loopback in the mode fast says.
func serveKeygate(t testing.TB, e *env, fast bool) *keygateServer {
	t.Helper()
	srv := echo.New()
	h := authz.NewHandler(e.auth)
	h.Register(srv.Group(""))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	ks := &keygateServer{addr: l.Addr().String()}
	var s interface {
		Serve(net.Listener) error
		Shutdown(context.Context) error
	} = hs
	if fast {
		ks.fast = httpapi.NewFastServer(hs, httpapi.FastConfig{
			Routes:  map[string]httpapi.FastRoute{"/auth": {Methods: authz.FastMethods, Serve: h.Fast}},
			Headers: authz.RequestHeaders,
		})
		s = ks.fast
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	closed := false
	ks.close = func() {
		if closed {
			return
		}
		closed = true
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(ks.close)
	return ks
}

// checkFast fails t unless ks's fast path (if it has one) answered the
// checks itself, and kept every connection.
func (ks *keygateServer) checkFast(t *testing.T) {
	t.Helper()
	if ks.fast == nil {
		return
	}
	if ks.fast.Served() == 0 || ks.fast.HandedOff() != 0 {
		t.Errorf("the fast path answered %d checks and handed %d connections to net/http: want all answered by it",
			ks.fast.Served(), ks.fast.HandedOff())
	}
}
