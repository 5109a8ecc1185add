package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

const xmlContentType = "text/xml; charset=utf-8"

// responseLimits decode Odoo's answers: they are bounded by size
// (ClientConfig.MaxResponse), not by the number of values, which a large
// search_read easily exceeds.
var responseLimits = xmlrpc.Limits{MaxValues: math.MaxInt}

func (g *Gateway) xmlrpcHandler(legacy bool) echo.HandlerFunc {
	return func(c echo.Context) error { return g.serveXMLRPC(c, legacy) }
}

// serveXMLRPC is POST /xmlrpc/2/:service and the legacy /xmlrpc/:service.
// Every refusal is a fault shaped as Odoo shapes it on that path.
func (g *Gateway) serveXMLRPC(c echo.Context, legacy bool) error {
	xc := &xmlCall{g: g, legacy: legacy, svc: c.Param("service")}
	if isFormRequest(c.Request()) {
		// Odoo reads such a body as a form and finds no XML at all.
		return xc.refuse(c, &refusal{http.StatusOK, odoo.ExcExpatError, "no element found: line 1, column 0"})
	}
	if r := g.preauthenticate(c); r != nil {
		return xc.refuse(c, r)
	}
	body, err := g.readCallBody(c, xmlPassword)
	if r := bodyRefusal(c, err); r != nil {
		return xc.refuse(c, r)
	}
	switch {
	case errors.Is(err, errTooLarge):
		return xc.refuse(c, tooLarge(g.maxBody))
	case err != nil:
		return xc.refuse(c, &refusal{http.StatusBadRequest, odoo.ExcExpatError, "the request body could not be read"})
	}
	if xc.call, err = xmlrpc.DecodeCall(bytes.NewReader(body)); err != nil {
		return xc.refuse(c, decodeRefusal(err))
	}
	return g.dispatch(c, xc)
}

func isFormRequest(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

func decodeRefusal(err error) *refusal {
	if errors.Is(err, xmlrpc.ErrLimit) {
		return &refusal{http.StatusOK, odoo.ExcValueError, "the call nests too deeply or holds too many values"}
	}
	return &refusal{http.StatusOK, odoo.ExcExpatError, "the request is not a well-formed XML-RPC call"}
}

// xmlCall is an XML-RPC call to one service path.
type xmlCall struct {
	g      *Gateway
	legacy bool
	svc    string
	call   xmlrpc.Call
	oc     *objectCall // the object call, once read (objectCall)
}

func (x *xmlCall) service() string { return x.svc }
func (x *xmlCall) method() string  { return x.call.Method }

func (x *xmlCall) arg(i int) (string, bool) {
	if i >= len(x.call.Params) {
		return "", false
	}
	s, ok := x.call.Params[i].(string)
	return s, ok
}

// path is the service's path on Odoo, in the client's flavour: faults come
// back with the codes that flavour uses.
func (x *xmlCall) path() string {
	if x.legacy {
		return "/xmlrpc/" + x.svc
	}
	return "/xmlrpc/2/" + x.svc
}

func (x *xmlCall) result(c echo.Context, v any) error {
	var buf bytes.Buffer
	if err := xmlrpc.EncodeResponse(&buf, v); err != nil {
		return err
	}
	return writeBlob(c, http.StatusOK, xmlContentType, buf.Bytes())
}

func (x *xmlCall) refuse(c echo.Context, r *refusal) error {
	var buf bytes.Buffer
	if err := xmlrpc.EncodeFault(&buf, r.fault(x.legacy)); err != nil {
		return err
	}
	return writeBlob(c, r.status, xmlContentType, buf.Bytes())
}

// forward sends the call with the account's database, uid and password
// instead of the client's, and relays Odoo's answer with each fault's
// traceback cut down to its exception line.
func (x *xmlCall) forward(c echo.Context, a odoo.Account, uid int64) error {
	if yes, err := x.g.speaksJSON2(c, a); err != nil {
		return x.refuse(c, upstreamRefusal(err))
	} else if yes {
		return x.forwardJSON2(c, a)
	}
	params := slices.Clone(x.call.Params)
	params[0], params[1], params[2] = a.DB, uid, a.Password.Reveal()
	var buf bytes.Buffer
	if err := xmlrpc.EncodeCall(&buf, xmlrpc.Call{Method: x.call.Method, Params: params}); err != nil {
		return x.refuse(c, &refusal{http.StatusOK, odoo.ExcValueError, "the call holds a value XML-RPC cannot carry"})
	}
	ctx := c.Request().Context()
	answer, err := x.g.client.Post(ctx, a.Endpoint(x.path()), "text/xml", buf.Bytes())
	var denied bool
	if err == nil {
		answer, denied, err = relayXML(answer)
	}
	if err != nil {
		x.g.failed(ctx, a, err)
		return x.refuse(c, upstreamRefusal(err))
	}
	if denied {
		x.g.client.ForgetAccount(a)
	}
	return writeBlob(c, http.StatusOK, xmlContentType, answer)
}

func (x *xmlCall) version(c echo.Context) error {
	ctx := c.Request().Context()
	acct, err := x.g.accounts.Account(ctx, nil)
	if err != nil {
		x.g.failed(ctx, acct, err)
		return x.refuse(c, upstreamRefusal(err))
	}
	answer, err := x.g.versions.get("xmlrpc "+x.path()+" "+acct.URL, func() ([]byte, error) {
		var buf bytes.Buffer
		if err := xmlrpc.EncodeCall(&buf, xmlrpc.Call{Method: "version", Params: []any{}}); err != nil {
			return nil, err
		}
		answer, err := x.g.client.Post(ctx, acct.Endpoint(x.path()), "text/xml", buf.Bytes())
		if err != nil {
			return nil, err
		}
		if _, err := xmlrpc.DecodeResponse(bytes.NewReader(answer)); err != nil {
			return nil, fmt.Errorf("%w: common.version: %w", odoo.ErrBadGateway, err)
		}
		return answer, nil
	})
	if err != nil {
		x.g.failed(ctx, acct, err)
		return x.refuse(c, upstreamRefusal(err))
	}
	return writeBlob(c, http.StatusOK, xmlContentType, answer)
}

// relayXML checks that answer is an XML-RPC answer and, for a fault,
// replaces a traceback faultString with its exception line. denied
// reports an AccessDenied fault: the service account no longer works.
func relayXML(answer []byte) (out []byte, denied bool, err error) {
	_, err = responseLimits.DecodeResponse(bytes.NewReader(answer))
	var f *xmlrpc.Fault
	switch {
	case errors.As(err, &f):
	case err != nil:
		return nil, false, fmt.Errorf("%w: the answer is not XML-RPC: %w", odoo.ErrBadGateway, err)
	default:
		return answer, false, nil
	}
	denied = f.Code == any(int64(3)) || f.Code == any("AccessDenied")
	f.String = odoo.CutSQL("", odoo.StripTraceback(f.String))
	if code, ok := f.Code.(string); ok {
		f.Code = odoo.CutSQL("", odoo.StripTraceback(code))
	}
	var buf bytes.Buffer
	if err := xmlrpc.EncodeFault(&buf, *f); err != nil {
		return nil, false, fmt.Errorf("%w: fault: %w", odoo.ErrBadGateway, err)
	}
	return buf.Bytes(), denied, nil
}

// xmlrpcGET is Odoo's answer to a GET on an XML-RPC path.
func xmlrpcGET(c echo.Context) error {
	c.Response().Header().Set("Allow", "POST, OPTIONS")
	return writeHTML(c, http.StatusMethodNotAllowed, werkzeugPage(http.StatusMethodNotAllowed,
		"The method is not allowed for the requested URL."))
}
