// Package openapicheck holds the test that validates the REST facade's
// OpenAPI document (/api/openapi.json) against the OpenAPI 3.1 schema with
// libopenapi-validator, and keygate's real answers against the document.
// It has no Go API.
//
// It is a module of its own (github.com/keygate/keygate/openapicheck,
// outside keygate's ./...) so that libopenapi and libopenapi-validator,
// which only this check uses, stay out of keygate's go.mod and build list;
// being under keygate's import path it may import keygate's internal
// gatewaytest harness. `make test` vets and tests it with
// `go -C openapicheck`.
package openapicheck
