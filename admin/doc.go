// Package admin is the admin HTTP API (/admin/v1) over keystore: keys,
// their rotation, revocation and usage, and the audit log.
//
// Every call needs "Authorization: Bearer <credential>": a keygate key that
// holds the admin scope, or the bootstrap token (KEYGATE_ADMIN_TOKEN),
// compared as SHA-256 in constant time. Bodies are strict JSON of at most
// 64 KiB. Handlers return errors; the service's one error handler
// (httpapi.ErrorHandler) turns them into JSON. An API is safe for concurrent
// use.
package admin
