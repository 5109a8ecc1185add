package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
)

// DefaultMaxBody is Config.MaxBody's default: the largest request body
// the gateway reads.
const DefaultMaxBody = 10 << 20

// Authorizer decides requests; *authz.Authorizer is one. The gateway never
// decides access itself.
type Authorizer interface {
	Request(r *http.Request) authz.Request
	Check(ctx context.Context, req authz.Request, need authz.Need) authz.Decision
	// SpendCredit spends the credit that a decision for a Need with
	// DeferCredits owes, once the gateway's own checks have passed.
	SpendCredit(ctx context.Context, d *authz.Decision)
}

// Config configures a Gateway. Authorizer and Accounts are required; the
// zero values of the others take the documented defaults.
type Config struct {
	Authorizer Authorizer
	// Accounts maps each key to its Odoo service account.
	Accounts AccountResolver
	// Client calls Odoo. Nil: a Client of Transport and Timeout, which
	// Close closes.
	Client *odoo.Client
	// Transport carries calls to Odoo (default NewTransport()), Timeout
	// bounds each (default DefaultTimeout, sized for Odoo's ~30 s of
	// retries on contended writes). Both are ignored when Client is set.
	Transport http.RoundTripper
	Timeout   time.Duration
	// MaxBody bounds request bodies (default DefaultMaxBody, 10 MiB);
	// larger ones are refused with 413.
	MaxBody int64
	// Logger receives failed calls to Odoo (default: discard). Keys and
	// passwords are never logged.
	Logger *slog.Logger
	// Now is the clock of the caches (default time.Now).
	Now func() time.Time
	// Sessions keeps the web sessions of /web/session/authenticate. Nil:
	// authenticate is refused, and cookies name no session. When set, the
	// Authorizer must be a KeyChecker too.
	Sessions SessionStore
}

// Gateway serves Odoo's JSON-RPC and XML-RPC endpoints to partners and
// forwards what their keys allow to Odoo as service accounts. It is safe
// for concurrent use; the Client it makes (Config.Client nil) runs its
// metadata cache's goroutine until Close.
type Gateway struct {
	auth      Authorizer
	accounts  AccountResolver
	client    *odoo.Client
	ownClient bool
	maxBody   int64
	log       *slog.Logger
	versions  versionCache
	sessions  SessionStore
	keys      KeyChecker
}

// New validates cfg and returns a Gateway.
func New(cfg Config) (*Gateway, error) {
	var errs []error
	if cfg.Authorizer == nil {
		errs = append(errs, errors.New("proxy: Config.Authorizer is required"))
	}
	if cfg.Accounts == nil {
		errs = append(errs, errors.New("proxy: Config.Accounts is required"))
	}
	keys, isChecker := cfg.Authorizer.(KeyChecker)
	if cfg.Sessions != nil && !isChecker {
		errs = append(errs, errors.New("proxy: Config.Sessions needs an Authorizer with CheckKey"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	g := &Gateway{auth: cfg.Authorizer, accounts: cfg.Accounts, client: cfg.Client, maxBody: cfg.MaxBody, log: cfg.Logger,
		sessions: cfg.Sessions, keys: keys}
	if g.client == nil {
		g.client = odoo.NewClient(odoo.ClientConfig{Transport: cfg.Transport, Timeout: cfg.Timeout, Logger: cfg.Logger, Now: cfg.Now})
		g.ownClient = true
	}
	g.versions = versionCache{m: map[string]versionEntry{}, now: cfg.Now}
	return g, nil
}

func (cfg *Config) setDefaults() {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
}

// Client returns the Client the gateway calls Odoo with, for the REST
// facade to share its connections and uid cache.
func (g *Gateway) Client() *odoo.Client { return g.client }

// Close releases the idle connections of a Client the gateway made.
func (g *Gateway) Close() error {
	if g.ownClient {
		g.client.Close()
	}
	return nil
}

// Register adds the gateway's routes to g (mounted at the root):
//
//	POST /jsonrpc                 JSON-RPC: common and object services
//	POST /xmlrpc/2/:service       XML-RPC: common and object (db and others refused)
//	POST /xmlrpc/:service         legacy XML-RPC paths, string fault codes
//	GET  the same paths           Odoo's own 400 / 405 pages
//	POST /json/2/:model/:method   JSON-2 (Odoo 19's API), any other /json/2 404
//	POST /web/...                 the web client's session API (websession.go)
func (g *Gateway) Register(grp *echo.Group) {
	grp.POST("/json/2/:model/:method", g.serveJSON2)
	grp.Any("/json/2/*", json2Other)
	g.registerWeb(grp)
	grp.POST("/jsonrpc", g.serveJSONRPC)
	grp.GET("/jsonrpc", jsonrpcGET)
	grp.POST("/xmlrpc/2/:service", g.xmlrpcHandler(false))
	grp.POST("/xmlrpc/:service", g.xmlrpcHandler(true))
	grp.GET("/xmlrpc/2/:service", xmlrpcGET)
	grp.GET("/xmlrpc/:service", xmlrpcGET)
}

// rpcCall is one decoded call, whichever protocol carried it, with the
// ways to answer it in that protocol.
type rpcCall interface {
	service() string
	method() string
	// arg returns parameter i when it is a string.
	arg(i int) (string, bool)
	// result answers with a value keygate computed: a uid or false.
	result(c echo.Context, v any) error
	refuse(c echo.Context, r *refusal) error
	// forward sends the call to Odoo as account a (uid) and relays the
	// answer without its traceback.
	forward(c echo.Context, a odoo.Account, uid int64) error
	// version answers common.version from the default account's Odoo.
	version(c echo.Context) error
	// objectCall reads an execute_kw or execute call.
	objectCall() (*objectCall, error)
}

// dispatch routes a call: version is public, login and authenticate are
// answered here, object calls are checked and forwarded, and everything
// else is refused.
func (g *Gateway) dispatch(c echo.Context, rc rpcCall) error {
	switch rc.service() {
	case "common":
		switch rc.method() {
		case "version":
			return rc.version(c)
		case "login", "authenticate":
			return g.login(c, rc)
		}
	case "object":
		switch rc.method() {
		case "execute_kw", "execute":
			return g.object(c, rc)
		}
	}
	return rc.refuse(c, notAvailable(rc.service(), rc.method()))
}

// login answers common.login and common.authenticate for the key given as
// the password (or in Authorization): the uid of its service account for
// a valid key, false otherwise, as Odoo answers. Odoo is never asked.
func (g *Gateway) login(c echo.Context, rc rpcCall) error {
	need := authz.NeedKey()
	d := g.check(c, rc, need)
	switch {
	case d.Allowed():
		httpapi.SetDecision(c, "authenticated")
	case d.Status == http.StatusUnauthorized || d.Status == http.StatusForbidden && d.Reason != authz.ReasonCreditsNoRefill:
		return rc.result(c, false)
	default:
		return rc.refuse(c, decisionRefusal(&d, need, rc.method()))
	}
	_, uid, err := g.resolve(c, d.Key)
	if err != nil {
		return rc.refuse(c, upstreamRefusal(err))
	}
	return rc.result(c, uid)
}

// object checks an execute_kw or execute call against the key's odoo:
// scopes and forwards it as the key's service account (callObject).
func (g *Gateway) object(c echo.Context, rc rpcCall) error {
	oc, err := rc.objectCall()
	if err != nil { // arguments keygate cannot read are arguments it cannot check
		return rc.refuse(c, checkRefusal(badArgs(err.Error())))
	}
	return g.callObject(c, oc, func(c echo.Context, need authz.Need) authz.Decision { return g.check(c, rc, need) }, rc)
}

// checkCall checks everything the call reaches beyond its model and
// method (authz.Decision.CheckCall), as account acct sees the models'
// fields; nil lets it through.
func (g *Gateway) checkCall(c echo.Context, d *authz.Decision, acct odoo.Account, oc *objectCall) *refusal {
	ctx := c.Request().Context()
	err := CheckCall(ctx, g.client, d, acct, oc.checked())
	if err == nil {
		return nil
	}
	var r *authz.Refusal
	if errors.As(err, &r) {
		httpapi.SetDecision(c, r.Error())
	} else {
		g.failed(ctx, acct, err)
	}
	return checkRefusal(err)
}

// check asks authz about the call. The key comes from the Authorization
// (or X-API-Key) header when there is one, else from the password
// parameter.
func (g *Gateway) check(c echo.Context, rc rpcCall, need authz.Need) authz.Decision {
	r := c.Request()
	req := g.auth.Request(r)
	if req.Credential == "" {
		req.Credential, _ = rc.arg(2)
	}
	d := g.auth.Check(r.Context(), req, need)
	NoteDecision(c, &d, rateHeaders)
	return d
}

// rateHeaders are the decision's response fields a partner sees.
var rateHeaders = []string{authz.HeaderRateLimit, authz.HeaderRateLimitPolicy, "Retry-After"}

// NoteDecision records the key's identity and the decision for the
// access log, and copies the decision's fields named in headers to the
// answer.
func NoteDecision(c echo.Context, d *authz.Decision, headers []string) {
	if d.Key != nil {
		httpapi.SetCaller(c, d.Key.ID, d.Key.Owner)
	}
	label := "allowed"
	if !d.Allowed() {
		label = d.Reason
	} else {
		httpapi.Authenticated(c.Request()) // its body no longer counts as a stranger's
	}
	httpapi.SetDecision(c, label)
	h := http.Header{}
	d.WriteHeaders(h)
	out := c.Response().Header()
	for _, k := range headers {
		if v := h[k]; v != nil {
			out[k] = v
		}
	}
}

// resolve finds the key's service account and its uid.
func (g *Gateway) resolve(c echo.Context, key *keystore.Verified) (odoo.Account, int64, error) {
	ctx := c.Request().Context()
	acct, err := g.accounts.Account(ctx, key)
	if err != nil {
		g.failed(ctx, acct, err)
		return acct, 0, err
	}
	uid, err := g.client.UID(ctx, acct)
	if err != nil {
		g.failed(ctx, acct, err)
	}
	return acct, uid, err
}

// failed logs a call that could not be made or answered, without keys or
// passwords (Account hides its password).
func (g *Gateway) failed(ctx context.Context, a odoo.Account, err error) {
	level := slog.LevelWarn
	if errors.Is(err, ErrNoAccount) || errors.Is(err, odoo.ErrAccountRejected) {
		level = slog.LevelError
	}
	if errors.Is(err, context.Canceled) {
		level = slog.LevelDebug
	}
	g.log.LogAttrs(ctx, level, "odoo call failed", slog.Any("account", a), slog.String("error", err.Error()))
}

// readBody reads the request body up to MaxBody; errTooLarge beyond.
func (g *Gateway) readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > g.maxBody {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, g.maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	return b, err
}

var errTooLarge = errors.New("proxy: request body too large")
