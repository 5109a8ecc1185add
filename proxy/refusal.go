package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

// refusal is an answer keygate gives itself, shaped as Odoo shapes an
// exception so that clients raise their usual errors. Application errors
// are HTTP 200, as Odoo sends them; transport ones (413, 429, 5xx) carry
// their own status.
type refusal struct {
	status  int
	name    string // the exception class: data.name
	message string
}

func accessDenied() *refusal { return &refusal{http.StatusOK, odoo.ExcAccessDenied, "Access Denied"} }

func accessError(msg string) *refusal { return &refusal{http.StatusOK, odoo.ExcAccessError, msg} }

func badCall(msg string) *refusal { return &refusal{http.StatusOK, odoo.ExcTypeError, msg} }

// notAvailable refuses a service or method that keygate does not open.
func notAvailable(service, method string) *refusal {
	if service == "db" {
		return accessError("The db service is not available through keygate.")
	}
	return accessError(fmt.Sprintf("%s.%s is not available through keygate: only common.version, common.login, "+
		"common.authenticate, object.execute_kw and object.execute are.", service, method))
}

func tooLarge(limit int64) *refusal {
	return &refusal{http.StatusRequestEntityTooLarge, odoo.ExcTooLarge,
		fmt.Sprintf("413 Request Entity Too Large: the request body is larger than %d bytes.", limit)}
}

// rateLimited refuses a request over a rate limit or out of credits
// (reason says which).
func rateLimited(reason string, retry time.Duration) *refusal {
	secs := authz.RetrySeconds(retry)
	return &refusal{http.StatusTooManyRequests, odoo.ExcTooMany,
		fmt.Sprintf("429 Too Many Requests: %s, retry in %d s.", reason, secs)}
}

// decisionRefusal answers a request that authz did not allow.
func decisionRefusal(d *authz.Decision, need authz.Need, method string) *refusal {
	switch d.Status {
	case http.StatusUnauthorized:
		return accessDenied()
	case http.StatusForbidden:
		return forbidden(d, need, method)
	case http.StatusTooManyRequests:
		return rateLimited(d.Reason, d.RetryAfter)
	case http.StatusServiceUnavailable:
		return &refusal{http.StatusServiceUnavailable, odoo.ExcUnavailable, "503 Service Unavailable: " + d.Reason + "."}
	}
	return &refusal{http.StatusInternalServerError, odoo.ExcInternal, "500 Internal Server Error: " + d.Reason + "."}
}

func forbidden(d *authz.Decision, need authz.Need, method string) *refusal {
	switch {
	case d.Reason == authz.ReasonPrivateMethod && strings.HasPrefix(method, "_"):
		// Odoo's own words for the same call.
		return accessError(fmt.Sprintf("Private methods (such as %s) cannot be called remotely.", method))
	case d.Reason == authz.ReasonPrivateMethod:
		return accessError("Invalid model or method name.")
	case d.Reason == authz.ReasonScope:
		return accessError(fmt.Sprintf("You are not allowed to call %s through keygate: no scope of this key grants %s.", method, need))
	}
	return accessError("keygate: " + d.Reason + ".")
}

// upstreamRefusal answers a call that could not be made or answered: a
// missing service account, storage down, Odoo unreachable, slow or
// refusing the account.
func upstreamRefusal(err error) *refusal {
	switch {
	case errors.Is(err, ErrNoAccount):
		return &refusal{http.StatusInternalServerError, odoo.ExcInternal, "500 Internal Server Error: no Odoo service account is configured for this key."}
	case errors.Is(err, keystore.ErrUnavailable):
		return &refusal{http.StatusServiceUnavailable, odoo.ExcUnavailable, "503 Service Unavailable: key storage unavailable."}
	case errors.Is(err, odoo.ErrGatewayTimeout):
		return &refusal{http.StatusGatewayTimeout, odoo.ExcGatewayTimout, "504 Gateway Timeout: Odoo did not answer in time."}
	case errors.Is(err, odoo.ErrAccountRejected):
		return &refusal{http.StatusBadGateway, odoo.ExcBadGateway, "502 Bad Gateway: Odoo refused keygate's service account."}
	}
	return &refusal{http.StatusBadGateway, odoo.ExcBadGateway, "502 Bad Gateway: Odoo could not be reached or answered badly."}
}

// rpcError is a JSON-RPC error object as Odoo writes it (data without the
// debug traceback).
type rpcError struct {
	Code    int          `json:"code"`
	Message string       `json:"message"`
	Data    rpcErrorData `json:"data"`
}

type rpcErrorData struct {
	Name      string   `json:"name"`
	Message   string   `json:"message"`
	Arguments []string `json:"arguments"`
	Context   struct{} `json:"context"`
}

// odooErrorCode is error.code of Odoo 16 to 18 (19 sends 0).
const odooErrorCode = 200

func (r *refusal) jsonError() *rpcError {
	return &rpcError{Code: odooErrorCode, Message: "Odoo Server Error",
		Data: rpcErrorData{Name: r.name, Message: r.message, Arguments: []string{r.message}}}
}

// fault is the refusal as Odoo's XML-RPC handlers shape the exception:
// integer codes on /xmlrpc/2/* (3 AccessDenied, 4 AccessError, 1 anything
// else, with the exception line instead of a traceback), string codes on
// the legacy /xmlrpc/* paths.
func (r *refusal) fault(legacy bool) xmlrpc.Fault {
	line := strings.TrimPrefix(r.name, "builtins.") + ": " + r.message
	switch {
	case r.name == odoo.ExcAccessDenied && legacy:
		return xmlrpc.Fault{Code: "AccessDenied", String: r.message}
	case r.name == odoo.ExcAccessDenied:
		return xmlrpc.Fault{Code: int64(3), String: r.message}
	case r.name == odoo.ExcAccessError && legacy:
		return xmlrpc.Fault{Code: "warning -- AccessError\n\n" + r.message, String: ""}
	case r.name == odoo.ExcAccessError:
		return xmlrpc.Fault{Code: int64(4), String: r.message}
	case legacy:
		return xmlrpc.Fault{Code: r.message, String: line}
	}
	return xmlrpc.Fault{Code: int64(1), String: line}
}
