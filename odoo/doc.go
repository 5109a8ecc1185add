// Package odoo is keygate's client of Odoo: the calls it makes to Odoo
// as service accounts, the codecs of Odoo's protocols (the XML-RPC codec
// is odoo/xmlrpc), Odoo's error catalogue, and what keygate knows of
// Odoo's models (their fields, cached).
//
// It never serves HTTP and never decides access: the gateway (package
// proxy) and the REST facade speak to partners and ask authz, then call
// Odoo through a Client. It imports no other keygate package.
//
// # Client
//
// A Client calls Odoo's JSON-RPC API (ExecuteKW, Version, UID) as an
// Account: a service account (URL, database, login and a password that is
// a Secret, which never prints or logs itself). It resolves each
// account's uid once with common.authenticate (which costs Odoo ~0.45 s)
// and keeps it until Odoo answers AccessDenied for it; a refused account
// is not asked again for 10 s. Post relays a partner's call as the
// gateway wrote it, with the limits and timeouts of every call.
//
// The Client learns each Odoo's major version once, from common.version
// (Major), and calls Odoo 19 and later over JSON-2 (bearer = the
// account's API key, X-Odoo-Database = its database): named by the
// method's signature where keygate knows it, over /jsonrpc otherwise; the
// uid comes from res.users/context_get instead of common.authenticate.
// JSON2 posts named arguments and returns JSON-2's answer with its status.
//
// # Errors
//
// Odoo's exceptions are *OdooError (Kind sorts them, Status maps them to
// HTTP statuses, HTTPStatus is JSON-2's own); the exception classes
// keygate names in its own answers are the Exc constants. StripTraceback
// and CutSQL take Python tracebacks and quoted SQL out of Odoo's messages
// before anyone passes them on. Transport failures are ErrBadGateway and
// ErrGatewayTimeout; a service account Odoo refuses is ErrAccountRejected.
//
// # Metadata
//
// Metadata caches each account's fields of each model (fields_get,
// Client.Fields) for a TTL, with a bound on the number of (account,
// model) entries (otter, an S3-FIFO cache). Concurrent misses of one
// entry share one fetch; errors are never cached, so the next call asks
// Odoo again. A fetch runs with the caller's values but not its
// cancellation (another caller may be waiting for it), bounded by
// MetadataConfig.Timeout. An answer that is not fields_get's is
// ErrBadFields.
//
// # Concurrency
//
// Client and Metadata are safe for concurrent use. A Client's metadata
// cache runs one maintenance goroutine, which Client.Close stops.
package odoo
