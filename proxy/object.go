package proxy

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/odoo"
)

// objectCall is one call of a model's method, whichever endpoint carried
// it (execute_kw, execute, JSON-2, the web client's call_kw), in
// execute_kw's terms: positional args (the ids first, for a record
// method) and kwargs.
type objectCall struct {
	model, method string
	args          []any
	kwargs        map[string]any
}

// decider asks authz about need for the key behind the request: the key
// it presents, or the key of its web session.
type decider func(c echo.Context, need authz.Need) authz.Decision

// carrier answers an object call in the protocol that carried it: with a
// refusal, or by running the call as the key's service account.
type carrier interface {
	refuse(c echo.Context, r *refusal) error
	forward(c echo.Context, a odoo.Account, uid int64) error
}

// callObject is the one way every entry point calls a model's method: it
// asks authz whether the key may (odoo:<model>:<op> scopes), and only
// then resolves the key's service account and lets the carrier run the
// call. Nothing reaches Odoo for a refused call.
func (g *Gateway) callObject(c echo.Context, oc *objectCall, decide decider, out carrier) error {
	need := authz.NeedOdoo(oc.model, oc.method).DeferCredits()
	d := decide(c, need)
	if !d.Allowed() {
		return out.refuse(c, decisionRefusal(&d, need, oc.method))
	}
	acct, uid, err := g.resolve(c, d.Key)
	if err != nil {
		return out.refuse(c, upstreamRefusal(err))
	}
	if r := g.checkCall(c, &d, acct, oc); r != nil {
		return out.refuse(c, r)
	}
	// The credit is spent last, once every check passed: a call refused
	// for a model it reaches spends nothing.
	g.auth.SpendCredit(c.Request().Context(), &d)
	NoteDecision(c, &d, rateHeaders)
	if !d.Allowed() {
		return out.refuse(c, decisionRefusal(&d, need, oc.method))
	}
	return out.forward(c, acct, uid)
}

// checked is the call as authz checks it: the values that are forwarded.
func (oc *objectCall) checked() *authz.Call {
	return &authz.Call{Model: oc.model, Method: oc.method, Args: oc.args, Kwargs: oc.kwargs}
}

// run runs an object call as account a in the protocol a's Odoo speaks
// best (JSON-2 from Odoo 19, else JSON-RPC's execute_kw) and returns the
// result in execute_kw's form, or Odoo's exception as an *OdooError.
func (g *Gateway) run(c echo.Context, a odoo.Account, oc *objectCall) (json.RawMessage, error) {
	raw, err := g.client.ExecuteKW(c.Request().Context(), a, oc.model, oc.method, oc.args, oc.kwargs)
	var oe *odoo.OdooError
	if err != nil && !errors.As(err, &oe) {
		g.failed(c.Request().Context(), a, err)
	}
	return raw, err
}

// decodeNumbers decodes a JSON value as the check reads it: numbers kept
// as json.Number, so that 1 and 1.0 stay apart as Python keeps them.
func decodeNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
