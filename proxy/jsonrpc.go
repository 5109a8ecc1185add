package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/odoo"
)

const jsonContentType = "application/json; charset=utf-8"

// Odoo's own answers to requests that are not JSON-RPC.
var (
	errNotJSON    = errors.New("Invalid JSON data")
	errNotJSONRPC = errors.New("Invalid JSON-RPC data")
)

// serveJSONRPC is POST /jsonrpc. A request that is not JSON-RPC gets
// Odoo's own 400 page; any other refusal an Odoo-shaped error envelope.
func (g *Gateway) serveJSONRPC(c echo.Context) error {
	if !isJSONRequest(c.Request()) {
		return jsonrpcGET(c)
	}
	if r := g.preauthenticate(c); r != nil {
		return (&jsonCall{g: g}).refuse(c, r)
	}
	body, err := g.readCallBody(c, jsonPassword)
	if err != nil {
		return g.jsonBodyError(c, err)
	}
	env, err := parseEnvelope(body)
	if err != nil {
		return writeHTML(c, http.StatusBadRequest, err.Error())
	}
	jc := &jsonCall{g: g, id: env.ID}
	if err := jc.parseParams(env.Params); err != nil {
		return jc.refuse(c, badCall(err.Error()))
	}
	return g.dispatch(c, jc)
}

func (g *Gateway) jsonBodyError(c echo.Context, err error) error {
	if r := bodyRefusal(c, err); r != nil {
		return (&jsonCall{g: g}).refuse(c, r)
	}
	if errors.Is(err, errTooLarge) {
		return (&jsonCall{g: g}).refuse(c, tooLarge(g.maxBody))
	}
	return writeHTML(c, http.StatusBadRequest, errNotJSON.Error())
}

// isJSONRequest: Odoo's type='json' routes take these media types only.
func isJSONRequest(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || mt == "application/json-rpc"
}

// envelope is the part of a JSON-RPC request the gateway reads. The
// method odoo.Member ("call") is ignored, as Odoo ignores it.
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Params json.RawMessage `json:"params"`
}

// parseEnvelope checks that body is one JSON object, as Odoo does, and
// reads its id and params.
func parseEnvelope(body []byte) (envelope, error) {
	var env envelope
	if !json.Valid(body) {
		return env, errNotJSON
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); t[0] != '{' {
		return env, errNotJSONRPC
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return env, errNotJSONRPC
	}
	return env, nil
}

// jsonCall is a JSON-RPC call: params.service, params.method and
// params.args, each arg kept as sent.
type jsonCall struct {
	g    *Gateway
	id   json.RawMessage
	svc  string
	meth string
	args []json.RawMessage
	oc   *objectCall // the object call, once read (objectCall)
}

func (j *jsonCall) parseParams(raw json.RawMessage) error {
	var p struct {
		Service *string           `json:"service"`
		Method  *string           `json:"method"`
		Args    []json.RawMessage `json:"args"`
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.Service == nil || p.Method == nil {
		return errors.New("params must be an object with a service and a method (strings) and args (a list)")
	}
	j.svc, j.meth, j.args = *p.Service, *p.Method, p.Args
	return nil
}

func (j *jsonCall) service() string { return j.svc }
func (j *jsonCall) method() string  { return j.meth }

func (j *jsonCall) arg(i int) (string, bool) {
	if i >= len(j.args) || len(j.args[i]) == 0 || j.args[i][0] != '"' {
		return "", false
	}
	var s string
	err := json.Unmarshal(j.args[i], &s)
	return s, err == nil
}

// rpcAnswer is a JSON-RPC answer that keygate writes itself.
type rpcAnswer struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

func (j *jsonCall) result(c echo.Context, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeAnswer(c, http.StatusOK, rpcAnswer{JSONRPC: "2.0", ID: j.id, Result: raw})
}

func (j *jsonCall) refuse(c echo.Context, r *refusal) error {
	return writeAnswer(c, r.status, rpcAnswer{JSONRPC: "2.0", ID: j.id, Error: r.jsonError()})
}

// writeAnswer writes a JSON-RPC answer (/jsonrpc and the web session API).
func writeAnswer(c echo.Context, status int, a rpcAnswer) error {
	b, err := odoo.Marshal(a)
	if err != nil {
		return err
	}
	return writeBlob(c, status, jsonContentType, b)
}

// forward sends the call with the account's database, uid and password
// instead of the client's, and relays Odoo's answer without data.debug.
func (j *jsonCall) forward(c echo.Context, a odoo.Account, uid int64) error {
	if yes, err := j.g.speaksJSON2(c, a); err != nil {
		return j.refuse(c, upstreamRefusal(err))
	} else if yes {
		return j.forwardJSON2(c, a)
	}
	body, err := j.rewrite(a, uid)
	if err != nil {
		return j.refuse(c, badCall(err.Error()))
	}
	ctx := c.Request().Context()
	answer, err := j.g.client.Post(ctx, a.Endpoint("/jsonrpc"), "application/json", body)
	var denied bool
	if err == nil {
		answer, denied, err = relayJSON(answer)
	}
	if err != nil {
		j.g.failed(ctx, a, err)
		return j.refuse(c, upstreamRefusal(err))
	}
	if denied {
		j.g.client.ForgetAccount(a)
	}
	return writeBlob(c, http.StatusOK, jsonContentType, answer)
}

// outgoing is the JSON-RPC request sent to Odoo.
type outgoing struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  outgoingParams  `json:"params"`
	ID      json.RawMessage `json:"id,omitempty"`
}

type outgoingParams struct {
	Service string            `json:"service"`
	Method  string            `json:"method"`
	Args    []json.RawMessage `json:"args"`
}

// rewrite builds the request for Odoo: the client's call with args 0-2
// (db, uid, password) replaced and everything else kept as sent.
func (j *jsonCall) rewrite(a odoo.Account, uid int64) ([]byte, error) {
	if len(j.args) < 3 {
		return nil, fmt.Errorf("%s.%s needs db, uid and password", j.svc, j.meth)
	}
	args := slices.Clone(j.args)
	var err [3]error
	args[0], err[0] = json.Marshal(a.DB)
	args[1], err[1] = json.Marshal(uid)
	args[2], err[2] = json.Marshal(a.Password.Reveal())
	if e := errors.Join(err[:]...); e != nil {
		return nil, e
	}
	return odoo.Marshal(outgoing{JSONRPC: "2.0", Method: "call", ID: j.id,
		Params: outgoingParams{Service: j.svc, Method: j.meth, Args: args}})
}

func (j *jsonCall) version(c echo.Context) error {
	ctx := c.Request().Context()
	acct, err := j.g.accounts.Account(ctx, nil)
	if err != nil {
		j.g.failed(ctx, acct, err)
		return j.refuse(c, upstreamRefusal(err))
	}
	raw, err := j.g.versions.get("jsonrpc "+acct.URL, func() ([]byte, error) {
		return j.g.client.Version(ctx, acct.URL)
	})
	if err != nil {
		j.g.failed(ctx, acct, err)
		return j.refuse(c, upstreamRefusal(err))
	}
	return writeAnswer(c, http.StatusOK, rpcAnswer{JSONRPC: "2.0", ID: j.id, Result: raw})
}

// relayJSON checks that answer is a JSON-RPC answer and removes
// error.data.debug (Odoo's traceback) from it, keeping everything else
// and its order. denied reports an AccessDenied: the service account's
// credentials no longer work.
func relayJSON(answer []byte) (out []byte, denied bool, err error) {
	top, err := odoo.Members(answer)
	if err != nil {
		return nil, false, fmt.Errorf("%w: the answer is not JSON-RPC: %w", odoo.ErrBadGateway, err)
	}
	seen := false
	for i := range top {
		if top[i].Key != "error" {
			continue
		}
		e, err := odoo.Members(top[i].Value)
		if err != nil {
			return nil, false, fmt.Errorf("%w: the error is not an object: %w", odoo.ErrBadGateway, err)
		}
		denied = stripDebug(e) || denied
		top[i].Value, seen = odoo.EncodeMembers(e), true
	}
	if !seen {
		return answer, false, nil
	}
	return odoo.EncodeMembers(top), denied, nil
}

// stripDebug removes debug from the error's data, in place, and reports
// whether the error is an AccessDenied.
func stripDebug(e []odoo.Member) (denied bool) {
	for i := range e {
		if e[i].Key != "data" {
			continue
		}
		data, err := odoo.Members(e[i].Value)
		if err != nil {
			e[i].Value = json.RawMessage("{}") // not Odoo's shape: keep nothing of it
			continue
		}
		data = slices.DeleteFunc(data, func(m odoo.Member) bool { return m.Key == "debug" })
		denied = denied || slices.ContainsFunc(data, func(m odoo.Member) bool {
			return m.Key == "name" && string(m.Value) == `"odoo.exceptions.AccessDenied"`
		})
		cutDataSQL(data)
		e[i].Value = odoo.EncodeMembers(data)
	}
	return denied
}

// jsonrpcGET is Odoo's answer to a GET or a non-JSON POST on /jsonrpc.
func jsonrpcGET(c echo.Context) error {
	return writeHTML(c, http.StatusBadRequest, werkzeugPage(http.StatusBadRequest,
		"Request inferred type is compatible with [&#39;http&#39;] but &#39;/jsonrpc&#39; is type=&#39;json&#39;."))
}

// cutDataSQL cuts data.message and data.arguments to their first line,
// in place, when the error quotes the SQL Odoo generated (odoo.CutSQL).
func cutDataSQL(data []odoo.Member) {
	var name string
	for _, m := range data {
		if m.Key == "name" {
			_ = json.Unmarshal(m.Value, &name)
		}
	}
	for i := range data {
		switch data[i].Key {
		case "message":
			var msg string
			if json.Unmarshal(data[i].Value, &msg) == nil && odoo.QuotesSQL(name, msg) {
				data[i].Value, _ = json.Marshal(odoo.CutSQL(name, msg))
			}
		case "arguments":
			var args []any
			if json.Unmarshal(data[i].Value, &args) != nil {
				continue
			}
			changed := false
			for j, a := range args {
				if s, ok := a.(string); ok && odoo.QuotesSQL(name, s) {
					args[j], changed = odoo.CutSQL(name, s), true
				}
			}
			if changed {
				data[i].Value, _ = json.Marshal(args)
			}
		}
	}
}
