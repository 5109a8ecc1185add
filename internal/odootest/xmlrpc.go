package odootest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/keygate/keygate/odoo/xmlrpc"
)

// Frames above dispatch_rpc of an XML-RPC call, on /xmlrpc/2/* and on the
// legacy /xmlrpc/*.
var (
	xmlrpc2Entry = []frame{frRpcXmlrpc2161, frRpcXmlrpc139}
	xmlrpc1Entry = []frame{frRpcXmlrpc1151, frRpcXmlrpc139}
)

// serveXMLRPC is POST /xmlrpc/2/<service> (legacy false) and
// /xmlrpc/<service> (legacy true). Every answer but the 405 is HTTP 200.
func (s *Server) serveXMLRPC(w http.ResponseWriter, r *http.Request, service string, legacy bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		if r.Method == http.MethodOptions {
			writeHTML(w, http.StatusOK, false, "")
			return
		}
		writeHTML(w, http.StatusMethodNotAllowed, false, methodNotAllowedPage)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if isForm(r) {
		body = nil // werkzeug consumed it as form data
	}
	handler := frRpcXmlrpc2161
	if legacy {
		handler = frRpcXmlrpc1151
	}
	res, exc := s.xmlrpcCall(r.URL.Path, service, body, handler)
	s.writeXMLRPC(w, res, exc, legacy)
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// xmlrpcCall decodes and dispatches a call. handler is the controller's
// frame, above errors of the parsing and the marshalling.
func (s *Server) xmlrpcCall(path, service string, body []byte, handler frame) (any, *exception) {
	call, err := xmlrpc.DecodeCall(bytes.NewReader(body))
	if err != nil {
		exc := loadsError(body, err)
		exc.entry = []frame{handler}
		return nil, exc
	}
	params := make([]any, len(call.Params))
	for i, p := range call.Params {
		params[i] = fromXML(p)
	}
	c := &Call{Protocol: "xmlrpc", Path: path, Service: service, Method: call.Method}
	res, exc := s.dispatchRPC(c, params)
	if exc == nil && containsNone(res) {
		exc = newException(clsTypeError, "cannot marshal None unless allow_none is enabled", frRpcXmlrpc140,
			frRpcDumps114, frClientDumps514, frClientDump536, frClientDumpNil540)
		exc.entry = []frame{handler}
	}
	return res, exc
}

// loadsError is what xmlrpc.client.loads raises on a body the codec
// refused: expat's error, with its position, for an empty body or text
// that is not well-formed XML. Well-formed XML the strict codec refuses
// (a comment, a DOCTYPE, an unknown type...) Odoo might accept: the double
// says it does not model it.
func loadsError(body []byte, err error) *exception {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	line, col := position(body[:len(body)-len(trimmed)])
	switch {
	case len(trimmed) == 0:
		line, col = position(body)
		return newException(clsExpatError, "no element found: "+lineCol(line, col),
			frRpcXmlrpc138, frClientLoads1030, frClientClose460)
	case trimmed[0] != '<':
		return newException(clsExpatError, "syntax error: "+lineCol(line, col),
			frRpcXmlrpc138, frClientLoads1029, frClientFeed451)
	}
	if line, bad := xmlSyntaxError(body); bad {
		return newException(clsExpatError, "not well-formed (invalid token): "+lineCol(line, 0),
			frRpcXmlrpc138, frClientLoads1029, frClientFeed451)
	}
	return notModelled("this XML-RPC document (" + err.Error() + ")").under(frRpcXmlrpc138)
}

func lineCol(line, col int) string {
	return "line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col)
}

// position is the line and column just after b.
func position(b []byte) (int, int) {
	line := 1 + bytes.Count(b, []byte("\n"))
	return line, len(b) - (bytes.LastIndexByte(b, '\n') + 1)
}

// xmlSyntaxError reports whether body is not well-formed XML, and the line.
func xmlSyntaxError(body []byte) (int, bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		_, err := d.Token()
		var se *xml.SyntaxError
		switch {
		case errors.As(err, &se):
			return se.Line, true
		case err != nil:
			return 0, false
		}
	}
}

// fromXML converts a decoded XML-RPC value to the double's forms: a
// struct is an Object, a dateTime the "YYYY-MM-DD HH:MM:SS" string Odoo
// would take from the datetime it decodes.
func fromXML(v any) any {
	switch x := v.(type) {
	case xmlrpc.Struct:
		o := make(Object, 0, len(x))
		for _, m := range x {
			o = o.set(m.Name, fromXML(m.Value))
		}
		return o
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = fromXML(it)
		}
		return out
	case xmlrpc.DateTime:
		return isoToOdoo(string(x))
	case xmlrpc.Base64:
		return string(x)
	}
	return v
}

// isoToOdoo turns 20260101T10:00:00 into 2026-01-01 10:00:00.
func isoToOdoo(s string) string {
	if len(s) == 17 && s[8] == 'T' {
		return s[:4] + "-" + s[4:6] + "-" + s[6:8] + " " + s[9:]
	}
	return s
}

// toXML converts a result to the codec's forms.
func toXML(v any) any {
	switch x := v.(type) {
	case Object:
		st := make(xmlrpc.Struct, len(x))
		for i, p := range x {
			st[i] = xmlrpc.Member{Name: p.Key, Value: toXML(p.Value)}
		}
		return st
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = toXML(it)
		}
		return out
	}
	return v
}

// containsNone reports a None anywhere in a result: Odoo's marshaller
// refuses it.
func containsNone(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case Object:
		for _, p := range x {
			if containsNone(p.Value) {
				return true
			}
		}
	case []any:
		for _, it := range x {
			if containsNone(it) {
				return true
			}
		}
	}
	return false
}

// writeXMLRPC writes the result, or the exception as the fault Odoo's
// xmlrpc_handle_exception_int (or _string, on legacy paths) makes of it.
// 18.0 sends X-Content-Type-Options on faults too, 19.0 does not.
func (s *Server) writeXMLRPC(w http.ResponseWriter, res any, exc *exception, legacy bool) {
	var buf bytes.Buffer
	var err error
	if exc != nil {
		err = xmlrpc.EncodeFault(&buf, fault(exc, legacy))
	} else {
		err = xmlrpc.EncodeResponse(&buf, toXML(res))
	}
	if err != nil { // the double's own values always encode
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	if exc == nil || s.cfg.Version == "18.0" {
		h.Set("X-Content-Type-Options", "nosniff")
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// Fault codes of /xmlrpc/2/* (odoo.service.wsgi_server).
const (
	faultApplicationError = 1
	faultWarning          = 2
	faultAccessDenied     = 3
	faultAccessError      = 4
)

func fault(exc *exception, legacy bool) xmlrpc.Fault {
	if legacy {
		return legacyFault(exc)
	}
	switch {
	case exc.class == clsAccessError:
		return xmlrpc.Fault{Code: int64(faultAccessError), String: exc.str()}
	case exc.class == clsAccessDenied:
		return xmlrpc.Fault{Code: int64(faultAccessDenied), String: exc.str()}
	case exc.isUserError():
		return xmlrpc.Fault{Code: int64(faultWarning), String: exc.str()}
	}
	return xmlrpc.Fault{Code: int64(faultApplicationError), String: exc.traceback(xmlrpc2Entry)}
}

func legacyFault(exc *exception) xmlrpc.Fault {
	switch exc.class {
	case clsMissingError:
		return xmlrpc.Fault{Code: "warning -- MissingError\n\n" + exc.str()}
	case clsAccessError:
		return xmlrpc.Fault{Code: "warning -- AccessError\n\n" + exc.str()}
	case clsAccessDenied:
		return xmlrpc.Fault{Code: "AccessDenied", String: exc.str()}
	}
	if exc.isUserError() {
		return xmlrpc.Fault{Code: "warning -- UserError\n\n" + exc.str()}
	}
	return xmlrpc.Fault{Code: exc.message(), String: exc.traceback(xmlrpc1Entry)}
}
