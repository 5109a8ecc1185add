// Package httpapi holds the JSON conventions shared by keygate's HTTP APIs
// (admin and REST): the error type and the one Echo error handler that turns
// any error into {"error", "code", "details"?, "request_id"}, strict
// size-limited JSON binding, the list envelope, and the access log.
//
// Handlers return errors; the handler maps them: *Error as it says, an
// *echo.HTTPError by its code, keystore's sentinel errors by the table in
// status.go, anything else as 500 with the cause logged and never sent.
// Everything here is safe for concurrent use.
//
// FastServer is the public listener's fast path: it reads connections
// itself, answers the plainly valid requests of a few routes (/auth,
// /healthz) as Echo and net/http would, and hands every other request, with
// its connection, to an http.Server.
package httpapi
