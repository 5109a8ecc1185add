// Package proxy speaks Odoo's own protocols to partners: a Gateway that
// answers JSON-RPC (/jsonrpc), XML-RPC (/xmlrpc/2/*, legacy /xmlrpc/*),
// JSON-2 (/json/2/*) and the web client's session API, so that their
// existing Odoo clients work with a keygate key as the password and
// nothing else changed but the URL. It calls Odoo through an odoo.Client
// and never decides access itself: it asks authz for every call.
//
// # Why it re-encodes calls instead of relaying them
//
// The gateway is not an httputil.ReverseProxy, and cannot be one: it must
// read and check every argument of a call (the models its values,
// domains and specifications reach, against the key's scopes), replace
// the credentials inside the body (the partner's key is the password
// argument; Odoo gets the service account's database, uid and password),
// and take tracebacks and quoted SQL out of Odoo's answers. So it decodes
// each call, checks what it decoded, and encodes what it checked for
// Odoo; a reverse proxy passes bytes it never reads.
//
// # What the gateway does with each call
//
//   - common.version: answered from Odoo (the default service account's),
//     without a key, as Odoo does; the answer is reused for a minute.
//   - common.login, common.authenticate: answered by keygate, never
//     forwarded: the uid of the key's service account for a valid key,
//     false otherwise (as Odoo answers a wrong password). The login and
//     database the client names are ignored.
//   - object.execute_kw, object.execute: checked by the Authorizer against
//     the key's odoo:<model>:<op> scopes (methods starting with "_" are
//     never allowed), then everything the call reaches across relations
//     (authz.Decision.CheckCall through CheckCall, with the fields of
//     each model as the service account's fields_get describes them,
//     cached by the odoo.Client),
//     then forwarded with the service account's database, uid and
//     password instead of the client's; every other argument is sent on
//     as the client wrote it, and Odoo's answer comes back as Odoo wrote
//     it, less its traceback and any SQL its errors quote. The REST
//     facade's calls go through the same check.
//   - the db service, and any other service or method: refused.
//
// Every entry point that calls a model's method (execute_kw, execute,
// JSON-2, the web client's call_kw) goes through one function,
// Gateway.callObject, which asks authz and only then forwards.
//
// The REST facade (package rest) uses the same pieces rather than its
// own: AccountResolver (Accounts) for the key's service account,
// ObjectCall and CheckCall for the check across relations, NoteDecision
// for the access log and rate-limit headers.
//
// # JSON-2, web sessions and path forms
//
//   - POST /json/2/<model>/<method> (Odoo 19's API): the key as the bearer
//     token, named arguments, JSON-2's answers and error objects with real
//     statuses; forwarded as JSON-2 to Odoo 19+, as execute_kw to 17-18.
//   - /web/webclient/version_info, /web/session/authenticate (the key as
//     the password: a keygate session cookie and the service account's
//     session info), get_session_info, /web/dataset/call_kw[/<model>/<method>]
//     (checked and forwarded as execute_kw) and destroy, for OdooRPC and
//     password-mode JS clients. Sessions live in a SessionStore
//     (keystore.Sessions: the database, so every replica sees them) and
//     end with their key; the session API and its cookie never reach Odoo.
//   - CanonicalPaths (an http.Handler wrapper in front of Echo) answers //jsonrpc, /jsonrpc/
//     and //xmlrpc/2/common as the canonical paths, as Odoo does.
//
// # Odoo 19+ service accounts
//
// To Odoo 19 and later the odoo.Client calls over JSON-2 (see package
// odoo): the gateway's object calls named by the method's signature
// (others, with positional arguments, go over /jsonrpc), and the REST
// facade's.
//
// The key is the password argument, or the Authorization header (Bearer
// or ApiKey) or X-API-Key, which win when present. A missing, unknown,
// revoked or expired key is refused by keygate and never forwarded: Odoo
// spends ~0.4 s of CPU on every failed credential check and does not limit
// them on these endpoints.
//
// # Answers
//
// keygate's own refusals take Odoo's shapes, so that clients raise their
// usual exceptions: a JSON-RPC error envelope (HTTP 200, code 200,
// "Odoo Server Error", data.name such as odoo.exceptions.AccessDenied or
// odoo.exceptions.AccessError), an XML-RPC fault with Odoo's codes (3
// AccessDenied and 4 AccessError on /xmlrpc/2/*, string codes on the
// legacy paths). Rate-limited calls are HTTP 429 with Retry-After; a body
// over Config.MaxBody is 413; Odoo unreachable or failing is 502, Odoo too
// slow 504; all with an Odoo-shaped body. data.debug is removed from every
// JSON-RPC error and Python tracebacks from every XML-RPC fault before a
// partner sees them. Odoo's response headers (cookies included) are never
// passed on.
//
// # Service accounts
//
// An AccountResolver maps each key to an odoo.Account: the default one
// (KEYGATE_ODOO_URL, _DB, _LOGIN, _PASSWORD) or a credential of keystore's
// vault named by the key's credential_id (Accounts does both).
// ForgetCredential keeps Accounts and the Client's uids in step with the
// vault.
//
// # Concurrency and errors
//
// Gateway and Accounts are safe for concurrent use; Gateway.Close closes
// a Client it made. Odoo's exceptions (*odoo.OdooError) reach partners
// in their protocol's shape; Accounts returns ErrNoAccount. The gateway
// asks authz for every decision and never decides access itself.
package proxy
