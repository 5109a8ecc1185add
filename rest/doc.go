// Package rest is keygate's REST facade over Odoo: resources declared in
// YAML (resources.yaml is the built-in set; Resources, LoadResources)
// become /api/<version>/<resource> routes (list, get, create, replace,
// patch, delete) and an OpenAPI 3.1 document at /api/openapi.json.
//
// It owns the resources' format and its validation, the validation of
// every request against its resource (fields, filters, order, paging,
// bodies) before anything reaches Odoo, the translation of a request into
// Odoo calls (web_search_read, web_read, create, write, unlink) and of
// Odoo's answers and errors into JSON with the error body {"error",
// "code"}, and the OpenAPI document.
//
// It never decides access itself: each request is checked by an
// authz-backed Authorizer against the key's odoo:<model>:<op> scopes and
// limits, and each call Odoo will run by the same check across relations
// as the gateway's (proxy.CheckCall), as the key's service account
// (proxy.AccountResolver). It calls Odoo through an odoo.Client (share
// the gateway's), and never touches the database or Redis itself.
//
// Facade is safe for concurrent use and starts no goroutine.
package rest
