package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/odoo"
)

// Odoo 19's JSON-2 API for partners: POST /json/2/<model>/<method> with
// the keygate key as the bearer token (or X-API-Key), named arguments in
// a JSON object, the bare result or an error object with a real HTTP
// status. X-Odoo-Database is ignored: the database is the service
// account's.

// JSON-2's own texts.
const (
	json2NoKey      = "User not authenticated, use an API Key with a Bearer Authorization header."
	json2BadKey     = "Invalid apikey"
	json2NotFound   = "Did you mean POST /json/2/<model>/<method>?"
	excUnauthorized = "werkzeug.exceptions.Unauthorized"
	excNotFound     = "werkzeug.exceptions.NotFound"
	excUnprocess    = "werkzeug.exceptions.UnprocessableEntity"
	excBadRequest   = "werkzeug.exceptions.BadRequest"
)

// json2Call is one JSON-2 request.
type json2Call struct {
	g  *Gateway
	oc objectCall
}

// serveJSON2 is POST /json/2/:model/:method.
func (g *Gateway) serveJSON2(c echo.Context) error {
	jc := &json2Call{g: g, oc: objectCall{model: c.Param("model"), method: c.Param("method")}}
	r := c.Request()
	req := g.auth.Request(r)
	if req.Credential == "" {
		httpapi.SetDecision(c, authz.ReasonMissing)
		return jc.refuse(c, &refusal{http.StatusUnauthorized, excUnauthorized, json2NoKey})
	}
	if r := g.preauthenticate(c); r != nil { // a bad key's body is never read, a good one's never charged
		return jc.refuse(c, r)
	}
	body, err := g.readBody(c)
	if r := bodyRefusal(c, err); r != nil {
		return jc.refuse(c, r)
	}
	switch {
	case errors.Is(err, errTooLarge):
		return jc.refuse(c, tooLarge(g.maxBody))
	case err != nil:
		return jc.refuse(c, &refusal{http.StatusBadRequest, excBadRequest, "could not read the body"})
	}
	if err := jc.parse(body); err != nil {
		return jc.refuse(c, &refusal{http.StatusBadRequest, excBadRequest, "could not parse the body as json: " + err.Error()})
	}
	decide := func(c echo.Context, need authz.Need) authz.Decision {
		d := g.auth.Check(r.Context(), req, need)
		NoteDecision(c, &d, rateHeaders)
		return d
	}
	return g.callObject(c, &jc.oc, decide, jc)
}

// parse reads the named arguments: ids become execute_kw's first
// argument, the others its kwargs.
func (jc *json2Call) parse(body []byte) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	var named map[string]any
	if err := decodeNumbers(body, &named); err != nil {
		return err
	}
	if named == nil {
		return errors.New("the body must be a JSON object")
	}
	jc.oc.args = []any{}
	if ids, ok := named["ids"]; ok {
		jc.oc.args = append(jc.oc.args, ids)
		delete(named, "ids")
	}
	jc.oc.kwargs = named
	return nil
}

// forward runs the call: over JSON-2 as sent for an Odoo that speaks it,
// else as execute_kw.
func (jc *json2Call) forward(c echo.Context, a odoo.Account, _ int64) error {
	yes, err := jc.g.speaksJSON2(c, a)
	if err != nil {
		return jc.refuse(c, upstreamRefusal(err))
	}
	if !yes {
		return jc.forwardKW(c, a)
	}
	ctx := c.Request().Context()
	body, err := jc.named()
	if err != nil {
		return jc.refuse(c, badCall(err.Error()))
	}
	ans, err := jc.g.client.JSON2(ctx, a, jc.oc.model, jc.oc.method, body)
	if err == nil && ans.Status != http.StatusOK {
		ans.Body, err = stripJSON2Debug(ans.Body)
	}
	if err != nil {
		jc.g.failed(ctx, a, err)
		return jc.refuse(c, upstreamRefusal(err))
	}
	return writeBlob(c, ans.Status, jsonContentType, ans.Body)
}

// named is the call's named arguments, from the object call that was
// checked (not the bytes that were sent), so that what was checked is what
// Odoo runs.
func (jc *json2Call) named() ([]byte, error) {
	named := make(map[string]any, len(jc.oc.kwargs)+1)
	for k, v := range jc.oc.kwargs {
		named[k] = v
	}
	if len(jc.oc.args) > 0 {
		named["ids"] = jc.oc.args[0]
	}
	return odoo.Marshal(named)
}

// forwardKW runs the call as execute_kw on an Odoo without JSON-2 and
// answers as JSON-2 would: create answers a list, exceptions an error
// object with the status JSON-2 gives them.
func (jc *json2Call) forwardKW(c echo.Context, a odoo.Account) error {
	raw, err := jc.g.run(c, a, &jc.oc)
	var oe *odoo.OdooError
	switch {
	case errors.As(err, &oe):
		status, name, msg := json2Exception(oe, &jc.oc)
		return jc.writeError(c, status, name, msg)
	case err != nil:
		return jc.refuse(c, upstreamRefusal(err))
	}
	if jc.oc.method == "create" {
		raw = odoo.CreatedIDs(raw)
	}
	return writeBlob(c, http.StatusOK, jsonContentType, raw)
}

// json2Exception is how JSON-2 reports what execute_kw raised: an unknown
// model or method is werkzeug's NotFound, arguments that do not bind are
// UnprocessableEntity, in JSON-2's words; Odoo's own exceptions keep
// their name and text.
func json2Exception(oe *odoo.OdooError, oc *objectCall) (int, string, string) {
	switch {
	case oe.Name == "odoo.exceptions.UserError" && oe.Message == "Object "+oc.model+" doesn't exist":
		return http.StatusNotFound, excNotFound, fmt.Sprintf("the model '%s' does not exist", oc.model)
	case oe.Name == "builtins.AttributeError" && strings.HasPrefix(oe.Message, "The method '"+oc.method+"' does not exist"):
		return http.StatusNotFound, excNotFound, fmt.Sprintf("The method '%s.%s' does not exist", oc.model, oc.method)
	case oe.Name == odoo.ExcTypeError:
		return http.StatusUnprocessableEntity, excUnprocess, oe.Message
	}
	return json2Status(oe), oe.Name, oe.Message
}

// json2Status is the status JSON-2 answers an exception with.
func json2Status(oe *odoo.OdooError) int {
	if oe.HTTPStatus() != 0 {
		return oe.HTTPStatus()
	}
	switch oe.Kind() {
	case odoo.KindAccessDenied:
		return http.StatusUnauthorized
	case odoo.KindAccessError:
		return http.StatusForbidden
	case odoo.KindMissing:
		return http.StatusNotFound
	case odoo.KindValidation:
		return http.StatusUnprocessableEntity
	}
	if oe.Name == odoo.ExcTypeError {
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// refuse answers keygate's refusal as a JSON-2 error: an Odoo-shaped
// refusal of HTTP 200 takes the status JSON-2 gives its exception.
func (jc *json2Call) refuse(c echo.Context, r *refusal) error {
	status, name, msg := r.status, r.name, r.message
	switch {
	case name == odoo.ExcAccessDenied:
		status, name, msg = http.StatusUnauthorized, excUnauthorized, json2BadKey
	case status == http.StatusOK && name == odoo.ExcAccessError:
		status = http.StatusForbidden
	case status == http.StatusOK && name == odoo.ExcTypeError:
		status, name = http.StatusUnprocessableEntity, excUnprocess
	case status == http.StatusOK:
		status = http.StatusInternalServerError
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", "Bearer ")
	}
	return jc.writeError(c, status, name, msg)
}

// json2ErrorBody is a JSON-2 error without its traceback. werkzeug's
// exceptions carry [message, status] as arguments, Odoo's [message].
type json2ErrorBody struct {
	Name      string   `json:"name"`
	Message   string   `json:"message"`
	Arguments []any    `json:"arguments"`
	Context   struct{} `json:"context"`
}

func (jc *json2Call) writeError(c echo.Context, status int, name, msg string) error {
	args := []any{msg}
	if strings.HasPrefix(name, "werkzeug.") {
		args = append(args, status)
	}
	b, err := odoo.Marshal(json2ErrorBody{Name: name, Message: msg, Arguments: args})
	if err != nil {
		return err
	}
	return writeBlob(c, status, jsonContentType, b)
}

// stripJSON2Debug removes the traceback from a JSON-2 error, and cuts a
// message and arguments that quote SQL to their first line (cutDataSQL:
// a JSON-2 error has the members of JSON-RPC's error.data), keeping the
// rest as Odoo wrote it.
func stripJSON2Debug(body []byte) ([]byte, error) {
	ms, err := odoo.Members(body)
	if err != nil {
		return nil, fmt.Errorf("%w: the JSON-2 error is not an object: %w", odoo.ErrBadGateway, err)
	}
	ms = slices.DeleteFunc(ms, func(m odoo.Member) bool { return m.Key == "debug" })
	cutDataSQL(ms)
	return odoo.EncodeMembers(ms), nil
}

// json2Other answers any other method or path under /json/2 as Odoo does.
func json2Other(c echo.Context) error {
	jc := &json2Call{}
	return jc.writeError(c, http.StatusNotFound, excNotFound, json2NotFound)
}
