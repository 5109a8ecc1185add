package rest

import (
	"context"
	"encoding/json"
	"fmt"
)

// The calls a REST request makes to Odoo, and the reading of their
// answers.

// search is one page of a list and the total, from web_search_read: one
// call, one transaction. Odoo answers a page past the end with a length
// of 0; only then is the total counted by a second call.
func (ep *endpoint) search(ctx context.Context, acct caller, q listQuery) ([]object, int64, error) {
	kw := map[string]any{"domain": q.domain, "specification": ep.spec(q.fields),
		"offset": q.offset(), "limit": q.limit, "order": q.order}
	raw, err := ep.execute(ctx, acct, "web_search_read", nil, kw)
	if err != nil {
		return nil, 0, err
	}
	var page struct {
		Length  int64             `json:"length"`
		Records []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, 0, fmt.Errorf("%w: web_search_read answered %.40s", errBadAnswer, raw)
	}
	rows, err := ep.objects(page.Records, q.fields)
	if err != nil || len(rows) > 0 || q.offset() == 0 {
		return rows, page.Length, err
	}
	total, err := ep.count(ctx, acct, q.domain)
	return rows, total, err
}

func (ep *endpoint) count(ctx context.Context, acct caller, domain []any) (int64, error) {
	raw, err := ep.execute(ctx, acct, "search_count", []any{domain}, nil)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("%w: search_count answered %.40s", errBadAnswer, raw)
	}
	return n, nil
}

// spec is web_read's specification of fields: many2ones with their
// display name.
func (ep *endpoint) spec(fields []string) map[string]any {
	spec := make(map[string]any, len(fields))
	for _, name := range fields {
		spec[name] = map[string]any{}
		if ep.ver.fields[name].typ == typeMany2one {
			spec[name] = map[string]any{"fields": map[string]any{"display_name": map[string]any{}}}
		}
	}
	return spec
}

func (ep *endpoint) objects(records []json.RawMessage, fields []string) ([]object, error) {
	rows := make([]object, 0, len(records))
	for _, rec := range records {
		obj, err := ep.ver.object(rec, fields)
		if err != nil {
			return nil, err
		}
		rows = append(rows, obj)
	}
	return rows, nil
}

// read reads one record; nil when Odoo's read answers [] (no such
// record).
func (ep *endpoint) read(ctx context.Context, acct caller, id int64, fields []string) (object, error) {
	raw, err := ep.execute(ctx, acct, "read", []any{[]int64{id}}, map[string]any{"fields": fields})
	if err != nil {
		return nil, err
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, fmt.Errorf("%w: read answered %.40s", errBadAnswer, raw)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return ep.ver.object(recs[0], fields)
}
