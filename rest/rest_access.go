package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/proxy"
)

// restHeaders are the decision's response fields a REST client sees.
var restHeaders = []string{authz.HeaderRateLimit, authz.HeaderRateLimitPolicy, "Retry-After", "Www-Authenticate"}

// authorize asks authz whether the request's key may call method on the
// resource's model, records the key for the access log and sets the
// rate-limit fields of the answer. A refusal is an *httpapi.Error with
// the decision's status and reason. The request's credit is not spent
// yet: execute spends it before the first call reaches Odoo.
func (ep *endpoint) authorize(c echo.Context, method string) (*authz.Decision, error) {
	r := c.Request()
	need := authz.NeedOdoo(ep.res.model, method).DeferCredits()
	d := ep.rest.auth.Check(r.Context(), ep.rest.auth.Request(r), need)
	proxy.NoteDecision(c, &d, restHeaders)
	if d.Allowed() {
		return &d, nil
	}
	return nil, restRefusal(&d, need)
}

// caller is the service account a request calls Odoo as, the decision
// that allowed the request, which every call is checked against, and the
// request, whose answer carries the credit's fields once spent.
type caller struct {
	odoo.Account
	d *authz.Decision
	c echo.Context
}

// execute checks a call as the gateway checks a partner's
// (Client.CheckCall), spends the request's credit when it is the
// request's first call, then makes it. A refusal is a 403 *httpapi.Error
// naming the missing scope, or the credits' 429 or 403; the call never
// reaches Odoo. A request is thus charged its credit once, when keygate
// first calls Odoo for it, and not when it is refused before (an invalid
// request, a call that reaches what the key may not), as the gateway's
// calls are.
func (ep *endpoint) execute(ctx context.Context, acct caller, method string, args []any, kwargs map[string]any) (json.RawMessage, error) {
	call, err := proxy.ObjectCall(ep.res.model, method, args, kwargs)
	if err == nil {
		err = proxy.CheckCall(ctx, ep.rest.client, acct.d, acct.Account, call)
	}
	if err == nil && acct.d.OwesCredit() {
		ep.rest.auth.SpendCredit(ctx, acct.d)
		proxy.NoteDecision(acct.c, acct.d, restHeaders)
		if !acct.d.Allowed() {
			return nil, restRefusal(acct.d, authz.NeedOdoo(ep.res.model, method))
		}
	}
	var r *authz.Refusal
	var oe *odoo.OdooError
	switch {
	case errors.As(err, &r):
		return nil, &httpapi.Error{Status: http.StatusForbidden, Message: r.Error(), Cause: err}
	case errors.As(err, &oe), errors.Is(err, odoo.ErrBadFields):
		return nil, &httpapi.Error{Status: http.StatusForbidden, Message: "keygate cannot check this call: Odoo did not describe the fields of a model it reaches", Cause: err}
	case err != nil:
		return nil, err
	}
	return ep.rest.client.ExecuteKW(ctx, acct.Account, ep.res.model, method, args, kwargs)
}

// restRefusal is the JSON error of a decision that did not allow the request,
// with the same status, reason and details as authz's own answers.
func restRefusal(d *authz.Decision, need authz.Need) *httpapi.Error {
	e := &httpapi.Error{Status: d.Status, Message: d.Reason, Cause: d.Err}
	switch {
	case d.Status == http.StatusTooManyRequests:
		e.Details = map[string]any{"retry_after": authz.RetrySeconds(d.RetryAfter)}
	case d.Reason == authz.ReasonScope:
		e.Message = fmt.Sprintf("%s: this key needs the scope %s", d.Reason, need)
	}
	return e
}

// account finds the key's service account.
func (ep *endpoint) account(c echo.Context, d *authz.Decision) (caller, error) {
	acct, err := ep.accountOf(c, d.Key)
	return caller{Account: acct, d: d, c: c}, err
}

func (ep *endpoint) accountOf(c echo.Context, key *keystore.Verified) (odoo.Account, error) {
	acct, err := ep.rest.accounts.Account(c.Request().Context(), key)
	switch {
	case err == nil:
		return acct, nil
	case errors.Is(err, proxy.ErrNoAccount):
		return acct, &httpapi.Error{Status: http.StatusInternalServerError, Message: "no Odoo service account is configured for this key", Cause: err}
	case errors.Is(err, keystore.ErrUnavailable):
		return acct, &httpapi.Error{Status: http.StatusServiceUnavailable, Message: "key storage unavailable, try again", Cause: err}
	}
	return acct, &httpapi.Error{Status: http.StatusInternalServerError, Message: "internal error", Cause: err}
}

// query parses the request's query strictly.
func (ep *endpoint) query(c echo.Context) (url.Values, error) {
	return parseQuery(c.Request().URL.RawQuery)
}

// itemRequest checks the id and the query of a request on one record.
func (ep *endpoint) itemRequest(c echo.Context) (int64, []string, error) {
	id, err := recordID(c)
	if err != nil {
		return 0, nil, err
	}
	q, err := ep.query(c)
	if err != nil {
		return 0, nil, err
	}
	fields, err := ep.ver.itemQuery(q)
	return id, fields, err
}

// recordID reads the :id of the path: an Odoo id, 1 to 2³¹-1.
func recordID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 32)
	if err != nil || id < 1 {
		return 0, httpapi.Errorf(http.StatusBadRequest, "the id must be a whole number from 1 to %d", math.MaxInt32)
	}
	return id, nil
}

// writeRequest checks the query and the body of a create or an update:
// 415, 413 and 400 for the body as HTTP and JSON, 422 for its fields.
func (ep *endpoint) writeRequest(c echo.Context, mode writeMode) ([]string, map[string]any, error) {
	q, err := ep.query(c)
	if err != nil {
		return nil, nil, err
	}
	fields, err := ep.ver.itemQuery(q)
	if err != nil {
		return nil, nil, err
	}
	var body map[string]json.RawMessage
	if err := httpapi.Bind(c, &body, ep.rest.maxBody); err != nil {
		return nil, nil, err
	}
	vals, bad := ep.ver.vals(body, mode)
	if bad != nil {
		return nil, nil, &httpapi.Error{Status: http.StatusUnprocessableEntity, Message: "validation failed", Details: bad}
	}
	return fields, vals, nil
}

func (ep *endpoint) notFound(id int64) error {
	return httpapi.Errorf(http.StatusNotFound, "%s %d not found", ep.res.name, id)
}

// odooError turns a failed call to Odoo into the client's answer:
// AccessError and AccessDenied 403, MissingError 404, ValidationError and
// UserError 422 with Odoo's message (never its traceback), a timeout 504,
// anything else 502.
func (ep *endpoint) odooError(c echo.Context, acct odoo.Account, err error, id int64) error {
	if he := (*httpapi.Error)(nil); errors.As(err, &he) {
		return he // keygate's own refusal (execute)
	}
	e := &httpapi.Error{Status: odoo.Status(err), Cause: err}
	var oe *odoo.OdooError
	switch {
	case e.Status == http.StatusNotFound:
		e.Message = fmt.Sprintf("%s %d not found", ep.res.name, id)
	case e.Status == http.StatusUnprocessableEntity && errors.As(err, &oe):
		e.Message = oe.Message
	case e.Status == http.StatusForbidden:
		e.Message = "Odoo refused this operation to the key's service account"
	case e.Status == http.StatusGatewayTimeout:
		e.Message = "Odoo did not answer in time"
	case errors.Is(err, odoo.ErrAccountRejected):
		e.Message = "Odoo refused keygate's service account"
	default:
		e.Message = "Odoo could not be reached or answered badly"
	}
	if e.Status < 500 { // the error handler logs the others
		ep.failed(c.Request().Context(), acct, c.Request().Method, err)
	}
	return e
}

// failed logs a call to Odoo that failed, without keys or passwords: a
// refusal of the service account (403) as a warning, what the client
// caused (404, 422) for debugging.
func (ep *endpoint) failed(ctx context.Context, acct odoo.Account, op string, err error) {
	level := slog.LevelDebug
	if odoo.Status(err) == http.StatusForbidden || odoo.Status(err) >= 500 {
		level = slog.LevelWarn
	}
	ep.rest.log.LogAttrs(ctx, level, "odoo call failed", slog.Any("account", acct), slog.String("resource", ep.res.name),
		slog.String("model", ep.res.model), slog.String("operation", op), slog.String("error", err.Error()))
}
