package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
)

// The web client's session API, for session clients (OdooRPC, the
// password mode of JS clients): /web/session/authenticate takes the
// keygate key as the password and hands out a keygate session cookie;
// /web/dataset/call_kw runs calls as the session's key, checked as
// execute_kw is. The cookie is keygate's own and never reaches Odoo:
// keygate calls Odoo as the key's service account.

// SessionStore keeps web sessions where every replica sees them
// (*keystore.Sessions is one).
type SessionStore interface {
	// Create opens a session for the key and returns its id and when it
	// ends at the latest.
	Create(ctx context.Context, keyID string) (string, time.Time, error)
	// Key returns the session's key, read now; keystore.ErrNoSession when
	// the session, or its key, is no longer alive.
	Key(ctx context.Context, id string) (*keystore.Record, error)
	// KeyName returns the name of the key with id keyID, read now (for a
	// key that was verified, whose name the verification cache does not
	// keep).
	KeyName(ctx context.Context, keyID string) (string, error)
	// Delete ends the session.
	Delete(ctx context.Context, id string) error
}

// KeyChecker decides for a key known from a session (*authz.Authorizer is
// one); the gateway's Authorizer must be one when Config.Sessions is set.
type KeyChecker interface {
	CheckKey(ctx context.Context, req authz.Request, rec *keystore.Record, need authz.Need) authz.Decision
}

// sessionCookie is the cookie's name, Odoo's.
const sessionCookie = "session_id"

// registerWeb adds the session API's routes.
func (g *Gateway) registerWeb(grp *echo.Group) {
	grp.POST("/web/webclient/version_info", g.webVersion)
	grp.POST("/web/session/authenticate", g.webAuthenticate)
	grp.POST("/web/session/get_session_info", g.webSessionInfo)
	grp.POST("/web/session/destroy", g.webDestroy)
	grp.POST("/web/dataset/call_kw", g.webCallKW)
	grp.POST("/web/dataset/call_kw/*", g.webCallKW)
}

// webCall is one request of the session API: a JSON-RPC envelope whose
// params are named.
type webCall struct {
	g      *Gateway
	id     json.RawMessage
	params json.RawMessage
	code   int // error.code of Odoo's errors: 200 up to 18, 0 from 19
	oc     objectCall
	key    *keystore.Record // the session's key (routes that need a session)
	sid    string           // the session's id
}

// readWeb parses the request as Odoo's type='json' routes do; a request
// that is not JSON-RPC is answered here, and nil returned. A route that
// needs a session (withSession) looks its cookie up before the body is
// read, as Odoo authenticates a route before it reads its JSON: without a
// live session it is answered SessionExpired unread, and with one its
// body is not charged to strangers' budget (httpapi.Authenticated).
func (g *Gateway) readWeb(c echo.Context, withSession bool) (*webCall, error) {
	if !isJSONRequest(c.Request()) {
		return nil, jsonrpcGET(c)
	}
	wc := &webCall{g: g, code: odooErrorCode}
	if withSession {
		if err := wc.session(c); wc.key == nil {
			return nil, err
		}
		httpapi.Authenticated(c.Request())
	}
	body, err := g.readBody(c)
	if err != nil {
		return nil, g.jsonBodyError(c, err)
	}
	env, err := parseEnvelope(body)
	if err != nil {
		return nil, writeHTML(c, http.StatusBadRequest, err.Error())
	}
	wc.id, wc.params = env.ID, env.Params
	if len(wc.params) == 0 || string(wc.params) == "null" {
		wc.params = json.RawMessage("{}")
	}
	return wc, nil
}

// webVersion is /web/webclient/version_info: common.version of the
// default account's Odoo, no key needed (as in Odoo). No session is made.
func (g *Gateway) webVersion(c echo.Context) error {
	wc, err := g.readWeb(c, false)
	if wc == nil {
		return err
	}
	jc := &jsonCall{g: g, id: wc.id}
	return jc.version(c)
}

// webAuthenticate is /web/session/authenticate: the keygate key as the
// password (or in Authorization / X-API-Key). A valid key gets a new
// session and the service account's session info; anything else Odoo's
// AccessDenied, and a presented bad key counts as a failed
// authentication, as everywhere. db and login are ignored.
func (g *Gateway) webAuthenticate(c echo.Context) error {
	wc, err := g.readWeb(c, false)
	if wc == nil {
		return err
	}
	var p struct {
		Password string `json:"password"`
	}
	if err := json.Unmarshal(wc.params, &p); err != nil {
		return wc.refuse(c, badCall("params must be an object with db, login and password"))
	}
	if g.sessions == nil {
		return wc.refuse(c, accessError("Web sessions are not enabled on this keygate."))
	}
	r := c.Request()
	req := g.auth.Request(r)
	if req.Credential == "" {
		req.Credential = p.Password
	}
	d := g.auth.Check(r.Context(), req, authz.NeedKey())
	NoteDecision(c, &d, rateHeaders)
	if !d.Allowed() {
		return wc.refuse(c, decisionRefusal(&d, authz.NeedKey(), "authenticate"))
	}
	name, err := g.sessions.KeyName(r.Context(), d.Key.ID)
	if err != nil {
		return wc.refuse(c, sessionRefusal(err))
	}
	info, err := wc.sessionInfo(c, d.Key, name)
	if err != nil {
		return wc.refuse(c, upstreamRefusal(err))
	}
	id, until, err := g.sessions.Create(r.Context(), d.Key.ID)
	if err != nil {
		return wc.refuse(c, sessionRefusal(err))
	}
	httpapi.SetDecision(c, "authenticated")
	setSessionCookie(c, req, id, until)
	return wc.result(c, info)
}

// sessionInfo is what authenticate and get_session_info answer: who the
// session runs as (the service account's uid and context, less the uid
// Odoo puts in it), its database and Odoo's version. OdooRPC reads uid and
// user_context.
func (wc *webCall) sessionInfo(c echo.Context, key *keystore.Verified, name string) (map[string]any, error) {
	acct, uid, err := wc.g.resolve(c, key)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	raw, err := wc.g.client.ExecuteKW(ctx, acct, "res.users", "context_get", nil, nil)
	if err != nil {
		wc.g.failed(ctx, acct, err)
		return nil, err
	}
	var userCtx map[string]any
	if err := decodeNumbers(raw, &userCtx); err != nil {
		return nil, fmt.Errorf("%w: context_get answered %.60s", odoo.ErrBadGateway, raw)
	}
	// Clients send user_context back with every call; uid there is
	// ignored by Odoo and is not a context key partners may send.
	delete(userCtx, "uid")
	ver, err := wc.g.versions.get("jsonrpc "+acct.URL, func() ([]byte, error) { return wc.g.client.Version(ctx, acct.URL) })
	if err != nil {
		return nil, err
	}
	var v struct {
		Version string          `json:"server_version"`
		Info    json.RawMessage `json:"server_version_info"`
	}
	_ = json.Unmarshal(ver, &v)
	return map[string]any{
		"uid": uid, "is_system": false, "is_admin": false, "is_public": false, "is_internal_user": true,
		"user_context": userCtx, "db": acct.DB, "username": name, "name": name,
		"server_version": v.Version, "server_version_info": v.Info,
	}, nil
}

// session sets wc.key and wc.sid from the request's session cookie, or
// answers Odoo's SessionExpired itself and leaves wc.key nil.
func (wc *webCall) session(c echo.Context) error {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || wc.g.sessions == nil {
		return wc.expired(c)
	}
	key, err := wc.g.sessions.Key(c.Request().Context(), ck.Value)
	switch {
	case errors.Is(err, keystore.ErrNoSession):
		return wc.expired(c)
	case err != nil:
		return wc.refuse(c, sessionRefusal(err))
	}
	httpapi.SetCaller(c, key.ID, key.Owner)
	wc.key, wc.sid = key, ck.Value
	return nil
}

// checkKey asks authz about need for the session's key.
func (wc *webCall) checkKey(c echo.Context, key *keystore.Record, need authz.Need) authz.Decision {
	r := c.Request()
	d := wc.g.keys.CheckKey(r.Context(), wc.g.auth.Request(r), key, need)
	NoteDecision(c, &d, rateHeaders)
	return d
}

// webSessionInfo is /web/session/get_session_info.
func (g *Gateway) webSessionInfo(c echo.Context) error {
	wc, err := g.readWeb(c, true)
	if wc == nil {
		return err
	}
	key := wc.key
	d := wc.checkKey(c, key, authz.NeedKey())
	if !d.Allowed() {
		return wc.refuse(c, decisionRefusal(&d, authz.NeedKey(), "get_session_info"))
	}
	info, err := wc.sessionInfo(c, d.Key, key.Name)
	if err != nil {
		return wc.refuse(c, upstreamRefusal(err))
	}
	return wc.result(c, info)
}

// webDestroy is /web/session/destroy: the session ends; the answer has no
// result, as Odoo's, and deletes the cookie.
func (g *Gateway) webDestroy(c echo.Context) error {
	wc, err := g.readWeb(c, true)
	if wc == nil {
		return err
	}
	if err := g.sessions.Delete(c.Request().Context(), wc.sid); err != nil {
		return wc.refuse(c, sessionRefusal(err))
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	return writeAnswer(c, http.StatusOK, rpcAnswer{JSONRPC: "2.0", ID: wc.id})
}

// webCallKW is /web/dataset/call_kw and /web/dataset/call_kw/<model>/<method>:
// params.model and params.method name the call (the path is ignored, as
// Odoo ignores it), checked and forwarded as execute_kw is.
func (g *Gateway) webCallKW(c echo.Context) error {
	wc, err := g.readWeb(c, true)
	if wc == nil {
		return err
	}
	key := wc.key
	var p struct {
		Model  string          `json:"model"`
		Method string          `json:"method"`
		Args   json.RawMessage `json:"args"`
		Kwargs json.RawMessage `json:"kwargs"`
	}
	if err := json.Unmarshal(wc.params, &p); err != nil {
		return wc.refuse(c, badCall("params must be an object with model, method, args and kwargs"))
	}
	wc.oc = objectCall{model: p.Model, method: p.Method, args: []any{}, kwargs: map[string]any{}}
	if len(p.Args) > 0 && string(p.Args) != "null" && decodeNumbers(p.Args, &wc.oc.args) != nil {
		return wc.refuse(c, badCall("args must be a list"))
	}
	if len(p.Kwargs) > 0 && string(p.Kwargs) != "null" && decodeNumbers(p.Kwargs, &wc.oc.kwargs) != nil {
		return wc.refuse(c, badCall("kwargs must be a dict"))
	}
	decide := func(c echo.Context, need authz.Need) authz.Decision { return wc.checkKey(c, key, need) }
	return g.callObject(c, &wc.oc, decide, wc)
}

// forward runs the call as the service account; Odoo's result or
// exception comes back in the envelope, with the error code of that
// Odoo's version.
func (wc *webCall) forward(c echo.Context, a odoo.Account, _ int64) error {
	raw, err := wc.g.run(c, a, &wc.oc)
	if yes, _ := wc.g.speaksJSON2(c, a); yes {
		wc.code = 0
	}
	var oe *odoo.OdooError
	switch {
	case errors.As(err, &oe):
		return writeAnswer(c, http.StatusOK, rpcAnswer{JSONRPC: "2.0", ID: wc.id, Error: odooRPCError(oe, wc.code)})
	case err != nil:
		return wc.refuse(c, upstreamRefusal(err))
	}
	return writeResult(c, wc.id, raw)
}

func (wc *webCall) result(c echo.Context, v any) error {
	raw, err := odoo.Marshal(v)
	if err != nil {
		return err
	}
	return writeAnswer(c, http.StatusOK, rpcAnswer{JSONRPC: "2.0", ID: wc.id, Result: raw})
}

func (wc *webCall) refuse(c echo.Context, r *refusal) error {
	return writeAnswer(c, r.status, rpcAnswer{JSONRPC: "2.0", ID: wc.id, Error: r.jsonError()})
}

// expired is Odoo's answer to a route that needs a session without one:
// error code 100, SessionExpiredException, and a null id.
func (wc *webCall) expired(c echo.Context) error {
	httpapi.SetDecision(c, "no session")
	const msg = "Session expired"
	return writeAnswer(c, http.StatusOK, rpcAnswer{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{
		Code: 100, Message: "Odoo Session Expired",
		Data: rpcErrorData{Name: "odoo.http.SessionExpiredException", Message: msg, Arguments: []string{msg}}}})
}

// sessionRefusal answers a session store that could not do its part.
func sessionRefusal(err error) *refusal {
	if errors.Is(err, keystore.ErrTooManySessions) {
		return &refusal{http.StatusServiceUnavailable, odoo.ExcUnavailable, "503 Service Unavailable: too many web sessions, try again later."}
	}
	return upstreamRefusal(err)
}

// setSessionCookie sets the session cookie until the session's absolute
// end; Secure when the client came over HTTPS.
func setSessionCookie(c echo.Context, req authz.Request, id string, until time.Time) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: id, Path: "/", Expires: until,
		MaxAge: max(int(time.Until(until).Seconds()), 1), HttpOnly: true, Secure: req.Proto == "https",
		SameSite: http.SameSiteLaxMode})
}
