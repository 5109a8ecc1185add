package odootest

import (
	"io"
	"mime"
	"net/http"
	"strconv"
)

// jsonrpcEntry are the frames above dispatch_rpc of a JSON-RPC call.
var jsonrpcEntry = []frame{frHttpTransactioning1954, frModelRetrying137, frHttpServeIrHttp1921, frHttpDispatch2168,
	frIrHttpDispatch329, frHttpRouteWrapper727, frRpcJsonrpc170}

// serveJSONRPC is POST /jsonrpc. Odoo answers every application error with
// HTTP 200 and an error envelope; only a request that is not JSON-RPC
// gets an HTTP error, as an HTML page.
func (s *Server) serveJSONRPC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !isJSONRequest(r) {
		writeHTML(w, http.StatusBadRequest, false, inferredTypePage(r.URL.Path))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	v, err := decodeJSON(body)
	if err != nil {
		writeHTML(w, http.StatusBadRequest, true, "Invalid JSON data")
		return
	}
	req, ok := v.(Object)
	if !ok {
		writeHTML(w, http.StatusBadRequest, true, "Invalid JSON-RPC data")
		return
	}
	id, _ := req.Get("id")
	res, exc := s.jsonrpcCall(req)
	s.writeJSONRPC(w, id, res, exc)
}

func isJSONRequest(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || mt == "application/json-rpc"
}

// jsonrpcCall binds params to the jsonrpc(service, method, args) route
// and dispatches.
func (s *Server) jsonrpcCall(req Object) (any, *exception) {
	pv, _ := req.Get("params")
	params, _ := pv.(Object)
	var missing []string
	values := map[string]any{}
	for _, name := range []string{"service", "method", "args"} {
		v, ok := params.Get(name)
		if !ok {
			missing = append(missing, pyRepr(name))
		}
		values[name] = v
	}
	if len(missing) > 0 {
		err := typeError("RPC.jsonrpc() missing " + strconv.Itoa(len(missing)) + " required positional argument" +
			plural(len(missing)) + ": " + pyJoinNames(missing))
		err.entry = jsonrpcEntry[:6] // raised by route_wrapper, before the route runs
		return nil, err
	}
	service, ok := values["service"].(string)
	if !ok {
		return nil, &exception{class: clsKeyError, args: []any{values["service"]}, frames: []frame{frHttpDispatchRpc397}}
	}
	method, _ := values["method"].(string)
	args, ok := asList(values["args"])
	if !ok && values["args"] != nil {
		return nil, typeError("'" + pyTypeName(values["args"]) + "' object is not subscriptable")
	}
	return s.dispatchRPC(&Call{Protocol: "jsonrpc", Path: "/jsonrpc", Service: service, Method: method}, args)
}

// writeJSONRPC writes the envelope: result (left out when None), or error
// with Odoo's data: name, debug, message, arguments, context (19.0 moves
// debug last and sends error code 0).
func (s *Server) writeJSONRPC(w http.ResponseWriter, id, res any, exc *exception) {
	resp := Object{{"jsonrpc", "2.0"}, {"id", id}}
	if exc != nil {
		resp = append(resp, Pair{"error", s.jsonError(exc)})
	} else if res != nil {
		resp = append(resp, Pair{"result", res})
	}
	body, err := marshalPython(resp)
	if err != nil { // the double's own values always encode
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if exc == nil {
		h.Set("X-Content-Type-Options", "nosniff")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (s *Server) jsonError(exc *exception) Object {
	if s.cfg.Version == "19.0" {
		exc = v19Exception(exc)
	}
	debug := exc.traceback(jsonrpcEntry)
	args := exc.args
	if args == nil {
		args = []any{}
	}
	name, msg, ctx := Pair{"name", exc.class}, Pair{"message", exc.message()}, Pair{"context", Object{}}
	if s.cfg.Version == "19.0" {
		if exc.class == clsAccessDenied {
			debug = exc.lastLine() + "\n"
		}
		data := Object{name, msg, {"arguments", args}, ctx, {"debug", debug}}
		return Object{{"code", int64(0)}, {"message", "Odoo Server Error"}, {"data", data}}
	}
	data := Object{name, {"debug", debug}, msg, {"arguments", args}, ctx}
	return Object{{"code", int64(200)}, {"message", "Odoo Server Error"}, {"data", data}}
}
