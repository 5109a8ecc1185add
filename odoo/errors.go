package odoo

import (
	"errors"
	"net/http"
	"strings"
)

// Errors of calls to Odoo. Compare with errors.Is; an error that Odoo
// raised is an *OdooError (errors.As).
// Exception classes of Odoo's catalogue that keygate's own answers
// name, as Odoo would.
const (
	ExcAccessDenied  = "odoo.exceptions.AccessDenied"
	ExcAccessError   = "odoo.exceptions.AccessError"
	ExcTypeError     = "builtins.TypeError"
	ExcValueError    = "builtins.ValueError"
	ExcExpatError    = "xml.parsers.expat.ExpatError"
	ExcTooLarge      = "werkzeug.exceptions.RequestEntityTooLarge"
	ExcTooMany       = "werkzeug.exceptions.TooManyRequests"
	ExcInternal      = "werkzeug.exceptions.InternalServerError"
	ExcBadGateway    = "werkzeug.exceptions.BadGateway"
	ExcUnavailable   = "werkzeug.exceptions.ServiceUnavailable"
	ExcGatewayTimout = "werkzeug.exceptions.GatewayTimeout"
)

var (
	// ErrBadGateway: Odoo could not be reached, or answered with an HTTP
	// error or a body that is not a JSON-RPC or XML-RPC answer.
	ErrBadGateway = errors.New("odoo: Odoo is unreachable or answered badly")
	// ErrGatewayTimeout: Odoo did not answer within the timeout.
	ErrGatewayTimeout = errors.New("odoo: Odoo did not answer in time")
	// ErrAccountRejected: Odoo refused the service account's login and
	// password (common.authenticate answered false).
	ErrAccountRejected = errors.New("odoo: Odoo refused the service account's credentials")
)

// Kind sorts Odoo's exceptions by what a client can do about them.
type Kind int

const (
	// KindOther is any other exception (builtins.ValueError, ...).
	KindOther Kind = iota
	// KindAccessDenied is odoo.exceptions.AccessDenied: bad credentials.
	KindAccessDenied
	// KindAccessError is odoo.exceptions.AccessError: ACLs, record rules,
	// private methods.
	KindAccessError
	// KindMissing is odoo.exceptions.MissingError: the record is gone.
	KindMissing
	// KindValidation is odoo.exceptions.ValidationError or UserError: the
	// data breaks a constraint or business rule.
	KindValidation
)

// OdooError is an exception that Odoo raised, as its JSON-RPC error data
// names it. The traceback (data.debug) is never kept.
type OdooError struct {
	// Name is the exception class: "odoo.exceptions.AccessError".
	Name string
	// Message is the exception's text.
	Message string
	// status is the HTTP status of a JSON-2 answer (0 over JSON-RPC).
	status int
}

// HTTPStatus is the HTTP status of a JSON-2 answer (0 over JSON-RPC).
func (e *OdooError) HTTPStatus() int { return e.status }

func (e *OdooError) Error() string { return "odoo: " + e.Name + ": " + e.Message }

// Kind classifies the exception by its class name.
func (e *OdooError) Kind() Kind {
	switch e.Name {
	case "odoo.exceptions.AccessDenied":
		return KindAccessDenied
	case "odoo.exceptions.AccessError":
		return KindAccessError
	case "odoo.exceptions.MissingError":
		return KindMissing
	case "odoo.exceptions.ValidationError", "odoo.exceptions.UserError":
		return KindValidation
	}
	return KindOther
}

// Status maps an error of the Client to the HTTP status a REST client
// sees: AccessError and AccessDenied 403, MissingError 404,
// ValidationError and UserError 422, a timeout 504, and anything else that
// went wrong in or on the way to Odoo 502.
func Status(err error) int {
	var oe *OdooError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &oe):
		return kindStatus[oe.Kind()]
	case errors.Is(err, ErrGatewayTimeout):
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

var kindStatus = map[Kind]int{
	KindOther:        http.StatusBadGateway,
	KindAccessDenied: http.StatusForbidden,
	KindAccessError:  http.StatusForbidden,
	KindMissing:      http.StatusNotFound,
	KindValidation:   http.StatusUnprocessableEntity,
}

// StripTraceback reduces a Python traceback to the exception it ends with
// ("ValueError: Invalid field ..."), dropping the frames, file paths and
// source lines. Text that holds no traceback is returned unchanged.
func StripTraceback(s string) string {
	const header = "Traceback (most recent call last):"
	i := strings.LastIndex(s, header)
	if i < 0 {
		return s
	}
	lines := strings.Split(s[i+len(header):], "\n")
	for j, l := range lines {
		if l != "" && l[0] != ' ' && l[0] != '\t' {
			return strings.TrimRight(strings.Join(lines[j:], "\n"), "\n")
		}
	}
	return "Odoo Server Error"
}

// sqlMarkers start the lines in which PostgreSQL quotes the SQL that
// Odoo generated, or the rows it touched.
var sqlMarkers = []string{"\nLINE ", "\nDETAIL:", "\nHINT:", "\nCONTEXT:", "\nQUERY:", "\nWHERE:"}

// QuotesSQL reports whether an Odoo error message quotes the database:
// a psycopg2 exception (class name exc, or the message's own prefix in an
// XML-RPC fault) or a message with PostgreSQL's LINE / DETAIL lines.
func QuotesSQL(exc, msg string) bool {
	if strings.HasPrefix(exc, "psycopg2.") || strings.HasPrefix(msg, "psycopg2.") {
		return true
	}
	for _, m := range sqlMarkers {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// CutSQL cuts an error message that quotes the database to its first
// line ("invalid input syntax for type integer: \"abc\""): the rest
// shows fragments of the generated SQL, as tracebacks show code.
func CutSQL(exc, msg string) string {
	if !QuotesSQL(exc, msg) {
		return msg
	}
	first, _, _ := strings.Cut(msg, "\n")
	return first
}
