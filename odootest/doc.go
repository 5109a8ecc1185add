// Package odootest is a small in-memory Odoo 18.0 for keygate's tests: an
// http.Handler that answers Odoo's external API as the real server does,
// so that keygate's gateway and REST facade can be tested against it, in
// process (NewServer) or as a process (cmd/odoo-double).
//
// It is not a stub answering what a test wants: it holds a database (the
// demo data the recordings were made on), evaluates domains, orders,
// pages, checks credentials, access rights and record rules, runs each
// call as a transaction, and raises Odoo's exceptions with Odoo's texts.
// The proof is TestFixtures: every exchange recorded from a real Odoo
// 18.0 in testdata/odoo/18.0 (51 JSON-RPC, 53 XML-RPC) is replayed in
// order against one fresh double, and the answers must be Odoo's: status,
// headers, JSON bodies key order included and byte for byte as Odoo's
// json.dumps writes them, XML bodies byte for byte, tracebacks included.
//
// # What it serves
//
// POST /jsonrpc, POST /xmlrpc/2/<service> (integer fault codes) and the
// legacy POST /xmlrpc/<service> (string fault codes), with Odoo's
// transport errors: HTML 400 pages for a request that is not JSON-RPC, 405
// for a GET on XML-RPC, fault 1 (ExpatError) for a body that is not XML or
// is sent as a form. Every answer carries Connection: close, and
// X-Content-Type-Options where Odoo sends it.
//
//   - common: version, about, login, authenticate (false, never an error,
//     for bad credentials); other methods raise Exception.
//   - db: list, server_version, db_exist; the management methods answer
//     AccessDenied (no master password is accepted).
//   - object: execute and execute_kw, after res.users.check: a uid that
//     does not exist is a MissingError, bad credentials AccessDenied.
//
// Users (database odoo_test): admin / admin, uid 2, with the API key
// KeyGlobal (KeyExpired and KeyScoped are refused as Odoo refuses them);
// demo / demo, uid 6 (internal user); portal / portal, uid 7 (portal user,
// partner 8). Uids 1 and 3 to 5 exist, archived.
//
// Models: res.partner (41 records, ids 1 to 41, 37 active; new ids from
// 42), res.partner.category, res.country (Belgium 20, United States 233
// only), res.currency, res.currency.rate (the two recorded rates),
// ir.config_parameter (admins only), res.users (read only). Records the
// fixtures show are as recorded; the other partners are Odoo 18's demo
// data in load order, which gives the recorded ids and counts.
//
// Methods: search, search_count, search_read, read,
// create (a dict gives an id, a list of dicts a list), write, unlink,
// copy, name_create, name_search, fields_get, default_get,
// web_search_read, web_read, check_access, check_access_rights,
// check_access_rule, action_archive, action_unarchive,
// toggle_active. Private methods raise AccessError, unknown ones
// AttributeError, unknown models UserError, bad fields and bad domains
// ValueError, bad arguments TypeError with Python's message.
//
// Domains: prefix &, |, ! and implicit &; =, !=, <, >, <=, >=, =?, in,
// not in, like, ilike, =like, =ilike, not like, not ilike, child_of,
// parent_of, any, not any; dotted paths (country_id.code); many2one and
// x2many compared with ids or names; NULL handled as Odoo's SQL does;
// archived records hidden unless the domain names active or the context
// sets active_test false.
//
// Writes: empty values read as false, many2one as [id, "name"]; required
// fields, foreign keys and res.partner's "Contacts require a name" CHECK
// fail as in Postgres and become ValidationErrors whose traceback chains
// the SQL error; a failed call is rolled back, but the ids it consumed stay
// consumed, as with a Postgres sequence. Contacts take their company's
// address and tax id, and follow its changes. Record rules: a portal user
// sees his own partner only; ACLs give writes on partners to internal
// users, and system parameters to admins only.
//
// # What it is not
//
// It is not Odoo, and a test must not rely on what Odoo does beyond this:
//
//   - Only the models and fields above exist; others answer as a model
//     that is not installed. read_group, onchange, export_data, load and a
//     few other real methods raise NotImplementedError, saying so.
//   - No JSON-2 API (/json/2, Odoo 19), no web client routes (/web/...).
//   - One database. Version "19.0" changes the protocol details the 19.0
//     recordings show (version, error code 0, error data order, one-line
//     AccessDenied debug, no X-Content-Type-Options on XML-RPC faults);
//     data, uids and texts stay 18.0's.
//   - Tracebacks (data.debug, fault strings) are Odoo's text on every path
//     the recordings show; on other paths they are abridged: some frames
//     are left out. As in Odoo, nothing should depend on them.
//   - Strings compare byte by byte (Odoo's databases use LC_COLLATE 'C');
//     a many2one sorts by the display name of its target, where Odoo uses
//     the target's _order; ties sort by id.
//   - The context honours active_test only (no languages, time zones or
//     companies). Authentication costs nothing (Odoo spends ~0.4 s on
//     pbkdf2): use SetDelay to make the double slow.
//   - x2many writes take a list of ids or the commands 3, 4, 5 and 6 on
//     many2manys; creating or updating related records through commands
//     and writing one2manys are not modelled.
//   - The XML-RPC codec (package proxy/xmlrpc) is stricter than Python's:
//     well-formed documents it refuses (comments, DOCTYPE, unknown types)
//     answer fault 1 with a NotImplementedError.
//
// # Concurrency
//
// A Server is safe for concurrent use. Calls are serialized, each one a
// transaction, so there are no serialization failures to retry. Calls,
// SetDelay, SetHang and Reset may be called at any time; SetDelay and
// SetHang apply to requests as they arrive, and a waiting request stops
// when its client goes away.
//
// # Errors
//
// New returns an error for a Version other than 18.0 and 19.0. Everything
// else is an HTTP answer, as Odoo's.
package odootest
