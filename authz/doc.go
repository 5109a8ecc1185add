// Package authz decides whether a request may go on: the credential it
// presents (Authorization: Bearer or ApiKey, or X-API-Key), the target it
// asks for (forwarded by Traefik or nginx, believed only from trusted
// proxies), the key's scopes and IP allowlist, and its rate limits. It
// answers Traefik's forwardAuth and nginx's auth_request on /auth, and the
// Odoo gateway asks it too (NeedOdoo).
//
// The decision is Decide, a pure function of Facts: what the request is,
// what key verification said, and what the limiters answered, which
// Decide asks for one at a time so that a request is counted only when it
// would otherwise be allowed. Authorizer.Check does the I/O around it
// (keystore.Store.Verify, limiter Allow); Handler only reads the HTTP
// request and writes the Decision.
//
// Keys are compiled once, when they enter keystore's cache (Compile, set
// as keystore.Config.Compile): a cached key that is allowed costs no
// parsing and no I/O but its limiter's.
//
// # Scopes
//
//	admin                    the admin API (NeedAdmin)
//	odoo:<model>:<op>        NeedOdoo; op read, create, write, unlink,
//	                         context, call:<method> or *; model may be *
//	route:<METHOD>:<glob>    NeedRoute; METHOD may be * (GET grants HEAD
//	                         too, as in Go's ServeMux); in the glob, *
//	                         matches within a segment, ** across /, and a
//	                         whole "/**" segment zero or more segments
//
// A key may do only what a scope grants. Route globs are matched against
// the target's path normalized as nginx normalizes $uri (TargetPath).
//
// # Scopes hold across relations
//
// NeedOdoo grants a call's own model and method. Decision.CheckCall (a
// pure function of the key's scopes, the Call and a Schema of the
// models' fields) checks everything the call reaches beyond them, and
// returns a *Refusal naming the first missing scope:
//
//   - x2many commands in values (create, write, copy's default, web_save,
//     objects passed to other methods): (0, _, vals) create, (1, id, vals)
//     write, (2, id) unlink on the comodel, the nested vals by the same
//     rules; on a one2many (4, id) write, and (3, id), (5,), (6, _, ids),
//     id lists and false write and unlink (Odoo deletes the cut records
//     when the inverse many2one cascades); on a many2many links need only
//     the parent;
//   - paths that follow a relation in domains (any/not any sub-domains,
//     child_of/parent_of on a relation, x2many compared with names),
//     orders, groupbys, read_group fields, field lists, specifications and
//     export_data paths: read on every model along; a many2one's [id,
//     display name] needs nothing more, an x2many's display names (a
//     groupby, an export_data path ending on it) need read on the
//     comodel; load's import paths: create and write;
//   - context keys other than lang, tz, active_test and
//     allowed_company_ids: odoo:<model>:context, and default_* keys on
//     every model the call creates records of.
//
// Fields the Schema does not know (ErrUnknownField) and values whose
// shape the check does not read are refused (Refusal with no Scope),
// never guessed. The Schema's other errors are returned as they are.
//
// # Answers
//
// Decision.Status is 200, 401 (no credential; malformed, unknown, revoked
// or expired key), 403 (client address not in the key's allowlist; no
// scope; credits exhausted with no refill scheduled), 429 (the key's
// limits; the client's failed authentications; credits exhausted until
// their refill), 503 (key storage, limiter or credits unavailable) or 500
// (a stored policy that does not compile). A key with credits spends one
// (Config.Credits) last, once every other check allowed the request; the
// RateLimit fields then carry a "credits" policy with the balance. Decision.WriteHeaders writes the RateLimit-Policy and
// RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10) whenever a
// limiter was asked, X-Keygate-Key-Id, -Owner and -Scopes on 200,
// WWW-Authenticate on 401 and Retry-After on 429. Denials are Decisions,
// not errors; Check returns no error.
//
// # Concurrency
//
// Authorizer, Handler and Policy are safe for concurrent use; Decide is
// pure. Records and policies are shared with keystore's cache: read only.
package authz
