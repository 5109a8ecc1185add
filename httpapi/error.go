package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/keystore"
)

// Error is an answer for the client (Status, Message, Details) with the
// cause kept apart for the log.
type Error struct {
	Status  int
	Message string
	Details any
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Cause)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf returns an *Error with a formatted client message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Body is the JSON error body every keygate API answers with.
type Body struct {
	Error     string `json:"error"`
	Code      int    `json:"code"`
	Details   any    `json:"details,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// classify maps any error to what the client sees.
func classify(err error) *Error {
	var (
		e  *Error
		he *echo.HTTPError
		ve *keystore.ValidationError
	)
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &ve):
		return &Error{Status: http.StatusUnprocessableEntity, Message: "validation failed", Details: ve.Fields, Cause: err}
	case errors.As(err, &he):
		return &Error{Status: he.Code, Message: httpMessage(he), Cause: he.Internal}
	}
	for _, m := range statusTable {
		if errors.Is(err, m.err) {
			return &Error{Status: m.status, Message: m.message, Cause: err}
		}
	}
	return &Error{Status: http.StatusInternalServerError, Message: "internal error", Cause: err}
}

func httpMessage(he *echo.HTTPError) string {
	if s, ok := he.Message.(string); ok {
		return s
	}
	return http.StatusText(he.Code)
}

// ErrorHandler is the one Echo HTTPErrorHandler of the service.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := failed(log, err, RequestID(c))
		c.Set(causeKey, e.Cause)
		_ = WriteError(c, e)
	}
}

// failed is what the client is told of err, the failure of the request
// requestID, which is logged when it is the server's (log may be nil).
func failed(log *slog.Logger, err error, requestID string) *Error {
	e := classify(err)
	if e.Status >= 500 && log != nil {
		log.Error("request failed", "request_id", requestID, "status", e.Status, "error", err)
	}
	return e
}

// WriteError writes e as the JSON error body.
func WriteError(c echo.Context, e *Error) error {
	if c.Request().Method == http.MethodHead {
		return c.NoContent(e.Status)
	}
	return c.JSON(e.Status, e.body(RequestID(c)))
}

// body is e's JSON error body for the request requestID.
func (e *Error) body(requestID string) Body {
	return Body{Error: e.Message, Code: e.Status, Details: e.Details, RequestID: requestID}
}

// RequestID returns the id that the RequestID middleware gave the request.
func RequestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

const causeKey = "keygate.cause"
