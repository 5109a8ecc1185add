package proxy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

// The JSON-RPC and XML-RPC gateway in front of an Odoo that speaks JSON-2
// (19 and later): calls are decoded, named and sent over JSON-2, and the
// answers written back in the partner's protocol.

// speaksJSON2 reports whether the account's Odoo takes JSON-2 calls.
func (g *Gateway) speaksJSON2(c echo.Context, a odoo.Account) (bool, error) {
	major, err := g.client.Major(c.Request().Context(), a)
	return major >= odoo.JSON2Major, err
}

// objectCall reads execute_kw(db, uid, password, model, method, args,
// kwargs) or execute(db, uid, password, model, method, *args), once: the
// call that was checked is the one forwardJSON2 runs.
func (j *jsonCall) objectCall() (*objectCall, error) { return readOnce(&j.oc, j.readObjectCall) }

// readOnce returns *oc, reading it with read the first time.
func readOnce(oc **objectCall, read func() (*objectCall, error)) (*objectCall, error) {
	if *oc == nil {
		v, err := read()
		if err != nil {
			return nil, err
		}
		*oc = v
	}
	return *oc, nil
}

func (j *jsonCall) readObjectCall() (*objectCall, error) {
	model, _ := j.arg(3)
	method, _ := j.arg(4)
	oc := &objectCall{model: model, method: method, args: []any{}, kwargs: map[string]any{}}
	if j.meth == "execute" {
		for _, raw := range j.rest(5) {
			var v any
			if err := decodeNumbers(raw, &v); err != nil {
				return nil, err
			}
			oc.args = append(oc.args, v)
		}
		return oc, nil
	}
	rest := j.rest(5)
	if len(rest) > 0 && decodeNumbers(rest[0], &oc.args) != nil {
		return nil, errors.New("execute_kw's args must be a list")
	}
	if len(rest) > 1 && string(rest[1]) != "null" && decodeNumbers(rest[1], &oc.kwargs) != nil {
		return nil, errors.New("execute_kw's kwargs must be a dict")
	}
	return oc, nil
}

func (j *jsonCall) rest(i int) []json.RawMessage {
	if i >= len(j.args) {
		return nil
	}
	return j.args[i:]
}

// objectCall reads the call's params as jsonCall's objectCall does, once.
func (x *xmlCall) objectCall() (*objectCall, error) { return readOnce(&x.oc, x.readObjectCall) }

func (x *xmlCall) readObjectCall() (*objectCall, error) {
	model, _ := x.arg(3)
	method, _ := x.arg(4)
	oc := &objectCall{model: model, method: method, args: []any{}, kwargs: map[string]any{}}
	var rest []any
	if len(x.call.Params) > 5 {
		rest = x.call.Params[5:]
	}
	if x.call.Method == "execute" {
		for _, v := range rest {
			oc.args = append(oc.args, plainValue(v))
		}
		return oc, nil
	}
	if len(rest) > 0 {
		args, ok := plainValue(rest[0]).([]any)
		if !ok {
			return nil, errors.New("execute_kw's args must be a list")
		}
		oc.args = args
	}
	if len(rest) > 1 {
		kw, ok := plainValue(rest[1]).(map[string]any)
		if !ok {
			return nil, errors.New("execute_kw's kwargs must be a dict")
		}
		oc.kwargs = kw
	}
	return oc, nil
}

// forwardJSON2 runs a JSON-RPC object call over JSON-2 and answers it as
// Odoo's /jsonrpc would.
func (j *jsonCall) forwardJSON2(c echo.Context, a odoo.Account) error {
	oc, err := j.objectCall()
	if err != nil {
		return j.refuse(c, badCall(err.Error()))
	}
	raw, err := j.g.run(c, a, oc)
	var oe *odoo.OdooError
	switch {
	case errors.As(err, &oe):
		return writeAnswer(c, http.StatusOK, rpcAnswer{JSONRPC: "2.0", ID: j.id, Error: odooRPCError(oe, 0)})
	case err != nil:
		return j.refuse(c, upstreamRefusal(err))
	}
	return writeResult(c, j.id, raw)
}

// writeResult answers a JSON-RPC result as Odoo writes it (Python's
// separators, the result as Odoo sent it); None is an answer without
// result.
func writeResult(c echo.Context, id, raw json.RawMessage) error {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	ms := []odoo.Member{{Key: "jsonrpc", Value: json.RawMessage(`"2.0"`)}, {Key: "id", Value: id}}
	if string(raw) != "null" {
		ms = append(ms, odoo.Member{Key: "result", Value: raw})
	}
	return writeBlob(c, http.StatusOK, jsonContentType, odoo.EncodeMembers(ms))
}

// odooRPCError is the exception as a JSON-RPC error of Odoo (code 200 on
// 16 to 18, 0 from 19), without traceback.
func odooRPCError(e *odoo.OdooError, code int) *rpcError {
	return &rpcError{Code: code, Message: "Odoo Server Error",
		Data: rpcErrorData{Name: e.Name, Message: e.Message, Arguments: []string{e.Message}}}
}

// forwardJSON2 runs an XML-RPC object call over JSON-2 and answers it as
// Odoo's XML-RPC would.
func (x *xmlCall) forwardJSON2(c echo.Context, a odoo.Account) error {
	oc, err := x.objectCall()
	if err != nil {
		return x.refuse(c, badCall(err.Error()))
	}
	raw, err := x.g.run(c, a, oc)
	var oe *odoo.OdooError
	switch {
	case errors.As(err, &oe):
		return x.writeFault(c, odooFault(oe, x.legacy))
	case err != nil:
		return x.refuse(c, upstreamRefusal(err))
	case string(raw) == "null":
		return x.writeFault(c, xmlrpc.Fault{Code: int64(1), String: "TypeError: cannot marshal None unless allow_none is enabled"})
	}
	var v any
	if err := decodeNumbers(raw, &v); err != nil {
		return x.refuse(c, upstreamRefusal(fmt.Errorf("%w: %w", odoo.ErrBadGateway, err)))
	}
	return x.result(c, xmlValue(v))
}

func (x *xmlCall) writeFault(c echo.Context, f xmlrpc.Fault) error {
	var buf bytes.Buffer
	if err := xmlrpc.EncodeFault(&buf, f); err != nil {
		return err
	}
	return writeBlob(c, http.StatusOK, xmlContentType, buf.Bytes())
}

// odooFault is the exception as Odoo's XML-RPC writes it: 3 AccessDenied, 4
// AccessError, 2 UserError, MissingError and ValidationError, 1 the rest
// (string codes on the legacy paths).
func odooFault(e *odoo.OdooError, legacy bool) xmlrpc.Fault {
	short := e.Name[strings.LastIndexByte(e.Name, '.')+1:]
	switch e.Kind() {
	case odoo.KindMissing, odoo.KindValidation:
		if legacy {
			if short == "ValidationError" {
				short = "UserError"
			}
			return xmlrpc.Fault{Code: "warning -- " + short + "\n\n" + e.Message, String: ""}
		}
		return xmlrpc.Fault{Code: int64(2), String: e.Message}
	}
	return (&refusal{name: e.Name, message: e.Message}).fault(legacy)
}

// xmlValue makes decoded JSON encodable as XML-RPC: whole numbers are
// ints, others doubles; null is false.
func xmlValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil && n >= math.MinInt32 && n <= math.MaxInt32 {
			return n
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = xmlValue(v[i])
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = xmlValue(v[k])
		}
		return v
	case nil:
		return false
	}
	return v
}

// plainValue turns XML-RPC structs into maps, in a copy, as Python's
// xmlrpc.client reads them into dicts.
func plainValue(v any) any {
	switch v := v.(type) {
	case xmlrpc.Struct:
		m := make(map[string]any, len(v))
		for _, mb := range v {
			m[mb.Name] = plainValue(mb.Value) // a repeated member's last value wins, as in Python
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = plainValue(v[i])
		}
		return out
	case xmlrpc.DateTime:
		return string(v)
	case xmlrpc.Base64:
		return base64.StdEncoding.EncodeToString(v) // what JSON makes of the bytes, and Odoo's binary fields take
	}
	return v
}
