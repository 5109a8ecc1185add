package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/odoo"
)

// The OpenAPI 3.1 document of the REST facade, generated from the
// resources once, at start, and served at GET /api/openapi.json.

// openAPIVersion is the document's info.version.
const openAPIVersion = "1.0.0"

type jsonObject = map[string]any

const openAPIDescription = "keygate's REST API over Odoo. Every request but this document's needs a keygate key " +
	"(Authorization: Bearer <key>, or X-API-Key: <key>) whose scopes grant the operation on the resource's Odoo " +
	"model: odoo:<model>:read for lists and reads, :create, :write, :unlink. Answers carry the IETF RateLimit " +
	"and RateLimit-Policy fields; a 429 carries Retry-After. Errors are {\"error\", \"code\", \"details\"?, " +
	"\"request_id\"}. Empty values are null, a many2one is {\"id\", \"name\"}, datetimes are RFC 3339 in UTC."

// openAPIDocument generates the document of rs.
func openAPIDocument(rs *Resources) ([]byte, error) {
	b := &openAPIBuilder{paths: jsonObject{"/api/openapi.json": openAPISelf()}, schemas: baseSchemas()}
	tags := []any{}
	for _, r := range rs.list {
		tags = append(tags, jsonObject{"name": r.name, "description": "Odoo model " + r.model})
		for _, v := range r.versions {
			b.addVersion(r, v)
		}
	}
	components := jsonObject{"schemas": b.schemas, "responses": errorResponses(), "securitySchemes": securitySchemes()}
	return orderedDocument([]any{
		"openapi", "3.1.0",
		"info", jsonObject{"title": "keygate REST API", "version": openAPIVersion, "description": openAPIDescription},
		"servers", []any{jsonObject{"url": "/", "description": "This keygate (the document's own host)"}},
		"tags", tags,
		"security", []any{jsonObject{"bearerAuth": []any{}}, jsonObject{"apiKeyHeader": []any{}}},
		"paths", b.paths,
		"components", components,
	})
}

// orderedDocument writes the top-level members (name, value pairs) in
// the order people read them, indented; deeper keys are sorted.
func orderedDocument(pairs []any) ([]byte, error) {
	var doc object
	for i := 0; i+1 < len(pairs); i += 2 {
		v, err := odoo.Marshal(pairs[i+1])
		if err != nil {
			return nil, fmt.Errorf("rest: openapi document: %w", err)
		}
		doc = append(doc, odoo.Member{Key: pairs[i].(string), Value: v})
	}
	var out bytes.Buffer
	if err := json.Indent(&out, odoo.EncodeMembers(doc), "", "  "); err != nil {
		return nil, fmt.Errorf("rest: openapi document: %w", err)
	}
	return out.Bytes(), nil
}

type openAPIBuilder struct {
	paths   jsonObject
	schemas jsonObject
}

// addVersion adds the paths of one version of a resource (the operations
// it serves) and its schemas: <Name> (read), <Name>Create (POST and PUT),
// <Name>Patch, <Name>List and <Name>Item (the envelopes).
func (b *openAPIBuilder) addVersion(r *resource, v *version) {
	name := schemaName(r.name, v.name)
	b.schemas[name] = readSchema(v)
	b.schemas[name+"List"] = dataEnvelope(jsonObject{"type": "array", "items": schemaRef(name)}, true)
	b.schemas[name+"Item"] = dataEnvelope(schemaRef(name), false)
	if len(v.write) > 0 {
		b.schemas[name+"Create"] = writeSchema(v, modeCreate)
		b.schemas[name+"Patch"] = writeSchema(v, modePatch)
	}
	op := operations{r: r, v: v, name: name}
	collection, item := jsonObject{}, jsonObject{}
	for _, o := range []struct {
		op, method string
		path       jsonObject
		build      func() jsonObject
	}{
		{"list", "get", collection, op.list},
		{"create", "post", collection, op.create},
		{"get", "get", item, op.get},
		{"update", "put", item, func() jsonObject { return op.update("replace", "Replace the writable fields of", modeCreate) }},
		{"update", "patch", item, func() jsonObject { return op.update("update", "Change some fields of", modePatch) }},
		{"delete", "delete", item, op.remove},
	} {
		if v.ops[o.op] {
			o.path[o.method] = o.build()
		}
	}
	base := "/api/" + v.name + "/" + r.name
	if len(collection) > 0 {
		b.paths[base] = collection
	}
	if len(item) > 0 {
		item["parameters"] = []any{idParameter()}
		b.paths[base+"/{id}"] = item
	}
}

// schemaName is "PartnersV2" for partners v2.
func schemaName(resource, version string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(resource, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + strings.ToUpper(version)
}

func schemaRef(name string) jsonObject { return jsonObject{"$ref": "#/components/schemas/" + name} }

func responseRef(name string) jsonObject { return jsonObject{"$ref": "#/components/responses/" + name} }

// operations builds the operations of one version of a resource.
type operations struct {
	r    *resource
	v    *version
	name string
}

func (o operations) operation(verb, summary, method string, ok jsonObject, errs ...string) jsonObject {
	responses := jsonObject{}
	for code, resp := range ok {
		responses[code] = resp
	}
	for _, e := range errs {
		responses[errorStatus[e]] = responseRef(e)
	}
	responses["default"] = responseRef("Error")
	return jsonObject{
		"tags":        []any{o.r.name},
		"operationId": verb + o.name,
		"summary":     summary,
		"description": fmt.Sprintf("Needs the scope %s.", authz.NeedOdoo(o.r.model, method)),
		"responses":   responses,
	}
}

var accessErrors = []string{"Unauthorized", "Forbidden", "TooManyRequests", "BadGateway", "GatewayTimeout"}

func (o operations) list() jsonObject {
	op := o.operation("list", "List "+o.r.name, "search_read",
		jsonObject{"200": jsonContent("A page of "+o.r.name, schemaRef(o.name+"List"))},
		append([]string{"BadRequest"}, accessErrors...)...)
	op["parameters"] = listParameters(o.v)
	return op
}

func (o operations) get() jsonObject {
	op := o.operation("get", "Get one of "+o.r.name, "read",
		jsonObject{"200": jsonContent("The record", schemaRef(o.name+"Item"))},
		append([]string{"BadRequest", "NotFound"}, accessErrors...)...)
	op["parameters"] = []any{fieldsParameter(o.v)}
	return op
}

var writeErrors = append([]string{"BadRequest", "PayloadTooLarge", "UnsupportedMediaType", "Unprocessable"}, accessErrors...)

func (o operations) create() jsonObject {
	created := jsonContent("The created record", schemaRef(o.name+"Item"))
	created["headers"] = jsonObject{"Location": jsonObject{
		"description": "The path of the new record", "schema": jsonObject{"type": "string"}}}
	op := o.operation("create", "Create one of "+o.r.name, "create", jsonObject{"201": created}, writeErrors...)
	op["parameters"] = []any{fieldsParameter(o.v)}
	op["requestBody"] = requestBody(o.name + "Create")
	return op
}

func (o operations) update(verb, summary string, mode writeMode) jsonObject {
	body := o.name + "Create"
	if mode == modePatch {
		body = o.name + "Patch"
	}
	op := o.operation(verb, summary+" one of "+o.r.name, "write",
		jsonObject{"200": jsonContent("The record as changed", schemaRef(o.name+"Item"))},
		append([]string{"NotFound"}, writeErrors...)...)
	op["parameters"] = []any{fieldsParameter(o.v)}
	op["requestBody"] = requestBody(body)
	return op
}

func (o operations) remove() jsonObject {
	return o.operation("delete", "Delete one of "+o.r.name, "unlink",
		jsonObject{"204": jsonObject{"description": "Deleted"}},
		append([]string{"BadRequest", "NotFound"}, accessErrors...)...)
}

func jsonContent(description string, schema jsonObject) jsonObject {
	return jsonObject{"description": description, "content": jsonObject{"application/json": jsonObject{"schema": schema}}}
}

func requestBody(schema string) jsonObject {
	return jsonObject{"required": true, "content": jsonObject{"application/json": jsonObject{"schema": schemaRef(schema)}}}
}

func openAPISelf() jsonObject {
	return jsonObject{"get": jsonObject{
		"operationId": "openapi",
		"summary":     "This OpenAPI document",
		"security":    []any{},
		"responses":   jsonObject{"200": jsonContent("The OpenAPI 3.1 document", jsonObject{"type": "object"})},
	}}
}

func securitySchemes() jsonObject {
	return jsonObject{
		"bearerAuth":   jsonObject{"type": "http", "scheme": "bearer", "description": "A keygate key: Authorization: Bearer kg_..."},
		"apiKeyHeader": jsonObject{"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A keygate key"},
	}
}

// errorStatus gives the status of each error response.
var errorStatus = map[string]string{
	"BadRequest": "400", "Unauthorized": "401", "Forbidden": "403", "NotFound": "404",
	"PayloadTooLarge": "413", "UnsupportedMediaType": "415", "Unprocessable": "422",
	"TooManyRequests": "429", "BadGateway": "502", "GatewayTimeout": "504",
}

var errorDescriptions = map[string]string{
	"BadRequest":           "A malformed query, id or JSON body",
	"Unauthorized":         "No key, or a malformed, unknown, revoked or expired one",
	"Forbidden":            "No scope of the key grants the operation, the client address is not allowed, or Odoo refused it",
	"NotFound":             "No such record",
	"PayloadTooLarge":      "The body is too large",
	"UnsupportedMediaType": "The body is not application/json",
	"Unprocessable":        "Invalid fields (details by field), or Odoo's ValidationError or UserError",
	"TooManyRequests":      "A rate limit of the key, or too many failed authentications",
	"BadGateway":           "Odoo could not be reached or answered badly",
	"GatewayTimeout":       "Odoo did not answer in time",
	"Error":                "Any other error",
}

func errorResponses() jsonObject {
	out := jsonObject{}
	for name, description := range errorDescriptions {
		out[name] = jsonContent(description, schemaRef("Error"))
	}
	header := func(d string) jsonObject { return jsonObject{"description": d, "schema": jsonObject{"type": "string"}} }
	out["Unauthorized"].(jsonObject)["headers"] = jsonObject{"WWW-Authenticate": header("Bearer realm=\"keygate\"")}
	out["TooManyRequests"].(jsonObject)["headers"] = jsonObject{"Retry-After": header("Seconds to wait")}
	return out
}

func baseSchemas() jsonObject {
	integer := func(minimum int) jsonObject { return jsonObject{"type": "integer", "minimum": minimum} }
	return jsonObject{
		"Error": jsonObject{"type": "object", "required": []any{"error", "code"}, "properties": jsonObject{
			"error":      jsonObject{"type": "string"},
			"code":       jsonObject{"type": "integer"},
			"details":    jsonObject{"type": "object", "description": "By field or parameter; retry_after (seconds) on a 429"},
			"request_id": jsonObject{"type": "string"},
		}},
		"Pagination": jsonObject{"type": "object", "required": []any{"page", "limit", "total", "pages"}, "properties": jsonObject{
			"page": integer(1), "limit": jsonObject{"type": "integer", "minimum": 1, "maximum": 100},
			"total": integer(0), "pages": integer(0),
		}},
		"Many2one": jsonObject{"type": "object", "required": []any{"id", "name"}, "properties": jsonObject{
			"id": integer(1), "name": jsonObject{"type": "string"},
		}},
	}
}

func dataEnvelope(data jsonObject, list bool) jsonObject {
	props := jsonObject{"data": data}
	required := []any{"data"}
	if list {
		props["pagination"] = schemaRef("Pagination")
		required = append(required, "pagination")
	}
	return jsonObject{"type": "object", "required": required, "properties": props}
}

func idParameter() jsonObject {
	return jsonObject{"name": "id", "in": "path", "required": true,
		"schema": jsonObject{"type": "integer", "minimum": 1, "maximum": math.MaxInt32}}
}

func fieldsParameter(v *version) jsonObject {
	return queryParameter("fields", "The fields to answer with, comma-separated (id always): "+strings.Join(v.read, ", "),
		jsonObject{"type": "string"})
}

func queryParameter(name, description string, schema jsonObject) jsonObject {
	return jsonObject{"name": name, "in": "query", "required": false, "description": description, "schema": schema}
}

func listParameters(v *version) []any {
	params := []any{
		queryParameter("page", "The page, from 1", jsonObject{"type": "integer", "minimum": 1, "default": 1}),
		queryParameter("limit", "Records per page; above 100 counts as 100",
			jsonObject{"type": "integer", "minimum": 1, "default": defaultLimit}),
		fieldsParameter(v),
		queryParameter("order", "Comma-separated \"field [asc|desc]\" of: "+strings.Join(v.read, ", ")+
			"; default "+strconv.Quote(v.order), jsonObject{"type": "string"}),
	}
	return append(params, filterParameters(v)...)
}

// reservedParams are the list's own parameters: a field of that name is
// filtered with an explicit operator (page__eq).
var reservedParams = map[string]bool{"page": true, "limit": true, "fields": true, "order": true}

func filterParameters(v *version) []any {
	var params []any
	for _, name := range sortedKeys(v.filters) {
		f := v.fields[name]
		for _, op := range v.filters[name] {
			param := name + "__" + op
			if op == "eq" && !reservedParams[name] {
				param = name
			}
			params = append(params, queryParameter(param, filterDescription(name, op), filterSchema(f, op)))
		}
	}
	return params
}

var operatorWords = map[string]string{
	"eq": "equals", "ne": "differs from", "lt": "is less than", "lte": "is at most", "gt": "is greater than",
	"gte": "is at least", "like": "contains (case-sensitive, % and _ are wildcards)",
	"ilike": "contains (case-insensitive, % and _ are wildcards)", "not_like": "does not contain (case-sensitive)",
	"not_ilike": "does not contain (case-insensitive)", "in": "is one of (comma-separated)",
	"not_in": "is none of (comma-separated)",
}

func filterDescription(name, op string) string {
	return fmt.Sprintf("Records whose %s %s the value (Odoo operator %q)", name, operatorWords[op], odooOperators[op])
}

func filterSchema(f *field, op string) jsonObject {
	switch {
	case op == "in" || op == "not_in" || strings.Contains(op, "like"):
		return jsonObject{"type": "string"}
	case f.typ == typeMany2one:
		return jsonObject{"type": "integer", "minimum": 1}
	}
	s := jsonObject{"type": jsonType(f.typ)}
	if format := formats[f.typ]; format != "" && f.typ != typeEmail {
		s["format"] = format
	}
	return s
}

func jsonType(t fieldType) string {
	switch t {
	case typeInteger:
		return "integer"
	case typeNumber:
		return "number"
	case typeBoolean:
		return "boolean"
	}
	return "string"
}

var formats = map[fieldType]string{typeEmail: "email", typeDate: "date", typeDatetime: "date-time"}

// readSchema is the shape of a record as the API answers it: every field
// may be left out by ?fields= but id, and empty values are null.
func readSchema(v *version) jsonObject {
	props := jsonObject{}
	for _, name := range v.read {
		props[name] = readField(v.fields[name])
	}
	return jsonObject{"type": "object", "required": []any{"id"}, "additionalProperties": false, "properties": props}
}

func readField(f *field) jsonObject {
	switch {
	case f.name == "id":
		return jsonObject{"type": "integer", "minimum": 1}
	case f.typ == typeBoolean:
		return jsonObject{"type": "boolean"}
	case f.typ == typeMany2one:
		return jsonObject{"anyOf": []any{schemaRef("Many2one"), jsonObject{"type": "null"}}}
	}
	s := jsonObject{"type": []any{jsonType(f.typ), "null"}}
	if format := formats[f.typ]; format != "" && f.typ != typeEmail { // Odoo holds what it holds
		s["format"] = format
	}
	return s
}

// writeSchema is the shape of a body: all required fields for create and
// replace (PUT, where absent fields are cleared), at least one field for
// a patch; unknown fields are refused.
func writeSchema(v *version, mode writeMode) jsonObject {
	props := jsonObject{}
	for _, name := range v.write {
		props[name] = writeField(v.fields[name], v.needed[name])
	}
	s := jsonObject{"type": "object", "additionalProperties": false, "properties": props}
	switch {
	case mode == modePatch:
		s["minProperties"] = 1
	case len(v.required) > 0:
		required := make([]any, len(v.required))
		for i, n := range v.required {
			required[i] = n
		}
		s["required"] = required
	}
	return s
}

func writeField(f *field, required bool) jsonObject {
	switch f.typ {
	case typeBoolean:
		return jsonObject{"type": "boolean"}
	case typeMany2one:
		return many2oneWrite(required)
	}
	s := jsonObject{"type": jsonType(f.typ)}
	if !required {
		s["type"] = []any{jsonType(f.typ), "null"}
	}
	if format := formats[f.typ]; format != "" {
		s["format"] = format
	}
	switch {
	case f.typ == typeInteger:
		s["minimum"], s["maximum"] = math.MinInt32, math.MaxInt32
	case f.maxLength > 0:
		s["maxLength"] = f.maxLength
	}
	if required && jsonType(f.typ) == "string" {
		s["minLength"] = 1
	}
	return s
}

func many2oneWrite(required bool) jsonObject {
	id := jsonObject{"type": "integer", "minimum": 1, "maximum": math.MaxInt32}
	ref := jsonObject{"type": "object", "required": []any{"id"}, "properties": jsonObject{"id": id}}
	alternatives := []any{id, ref}
	if !required {
		alternatives = append(alternatives, jsonObject{"type": "null"})
	}
	return jsonObject{"anyOf": alternatives, "description": `A record id, or {"id": <id>} as reads answer` + nullable(required)}
}

func nullable(required bool) string {
	if required {
		return ""
	}
	return "; null clears it"
}
