package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"golang.org/x/sync/singleflight"
)

// JSON2Major is the first Odoo version that serves JSON-2
// (POST /json/2/<model>/<method>): keygate calls such an Odoo with it.
const JSON2Major = 19

// majorCache keeps the major version of each Odoo, by base URL, learned
// once from common.version. Errors are never kept.
type majorCache struct {
	mu    sync.Mutex
	m     map[string]int
	group singleflight.Group
}

// Major returns the major version of the account's Odoo (17, 18, 19...),
// asking common.version the first time only.
func (c *Client) Major(ctx context.Context, a Account) (int, error) {
	c.majors.mu.Lock()
	v, ok := c.majors.m[a.URL]
	c.majors.mu.Unlock()
	if ok {
		return v, nil
	}
	res, err, _ := c.majors.group.Do(a.URL, func() (any, error) {
		raw, err := c.Version(context.WithoutCancel(ctx), a.URL)
		if err != nil {
			return 0, err
		}
		major, err := parseMajor(raw)
		if err != nil {
			return 0, err
		}
		c.majors.mu.Lock()
		if len(c.majors.m) >= maxCachedUIDs {
			clear(c.majors.m)
		}
		c.majors.m[a.URL] = major
		c.majors.mu.Unlock()
		return major, nil
	})
	if err != nil {
		return 0, err
	}
	return res.(int), nil
}

// parseMajor reads server_version_info[0] of common.version ("saas~18.2"
// versions included).
func parseMajor(raw json.RawMessage) (int, error) {
	var v struct {
		Info []json.RawMessage `json:"server_version_info"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || len(v.Info) == 0 {
		return 0, fmt.Errorf("%w: common.version answered %.60s", ErrBadGateway, raw)
	}
	var n int
	if err := json.Unmarshal(v.Info[0], &n); err == nil {
		return n, nil
	}
	var s string // saas versions: "saas~18"
	if err := json.Unmarshal(v.Info[0], &s); err == nil {
		if i := bytes.LastIndexByte([]byte(s), '~'); i >= 0 {
			s = s[i+1:]
		}
		if n, err := strconv.Atoi(s); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: common.version answered %.60s", ErrBadGateway, raw)
}

// JSON2Answer is what Odoo's JSON-2 endpoint answered: its HTTP status and
// its JSON body.
type JSON2Answer struct {
	Status int
	Body   []byte
}

// json2Error is the body of a JSON-2 error.
type json2Error struct {
	Name      string          `json:"name"`
	Message   string          `json:"message"`
	Arguments json.RawMessage `json:"arguments"`
	Context   json.RawMessage `json:"context"`
	Debug     string          `json:"debug,omitempty"`
}

// JSON2 posts named arguments to the account's
// /json/2/<model>/<method>, with its API key as the bearer token and its
// database in X-Odoo-Database. Any JSON answer is returned with its
// status; a 401 is ErrAccountRejected (the account's key no longer works),
// and anything that is not JSON ErrBadGateway.
func (c *Client) JSON2(ctx context.Context, a Account, model, method string, body []byte) (JSON2Answer, error) {
	h := http.Header{}
	h.Set("Authorization", "bearer "+a.Password.Reveal())
	h.Set("X-Odoo-Database", a.DB)
	u := a.Endpoint("/json/2/" + url.PathEscape(model) + "/" + url.PathEscape(method))
	status, answer, err := c.up.send(ctx, u, "application/json", body, h)
	if err != nil {
		return JSON2Answer{}, err
	}
	if status == http.StatusUnauthorized {
		c.uids.forget(keyOf(a))
		return JSON2Answer{}, fmt.Errorf("%w (%s): JSON-2 answered 401", ErrAccountRejected, a.Name)
	}
	return JSON2Answer{Status: status, Body: answer}, nil
}

// json2Result returns a JSON-2 call's result, or its error as an
// *OdooError, its message cut as decodeAnswer cuts it (CutSQL).
func json2Result(ans JSON2Answer) (json.RawMessage, error) {
	if ans.Status == http.StatusOK {
		return ans.Body, nil
	}
	var e json2Error
	if err := json.Unmarshal(ans.Body, &e); err != nil || e.Name == "" {
		return nil, fmt.Errorf("%w: JSON-2 answered %d %.60s", ErrBadGateway, ans.Status, ans.Body)
	}
	return nil, &OdooError{Name: e.Name, Message: CutSQL(e.Name, e.Message), status: ans.Status}
}

// send posts body with extra headers and returns any answer whose body is
// JSON, whatever its status (JSON-2 answers errors with real statuses).
// Transport failures, a 504 and non-JSON answers are errors, as for post.
func (u *upstream) send(ctx context.Context, url, contentType string, body []byte, h http.Header) (int, []byte, error) {
	status, mt, answer, err := u.exchange(ctx, url, contentType, body, h)
	switch {
	case err != nil:
		return 0, nil, err
	case mt != "application/json":
		return 0, nil, fmt.Errorf("%w: HTTP %d %s", ErrBadGateway, status, mt)
	}
	if err := u.fits(answer); err != nil {
		return 0, nil, err
	}
	return status, answer, nil
}

// errNotNamed: the call's positional arguments cannot be named for JSON-2
// (a method whose parameters keygate does not know).
var errNotNamed = errors.New("odoo: positional arguments of an unknown method")

// authenticateCall answers the account's uid (false when refused):
// common.authenticate, or on Odoo 19 and later the uid of
// res.users.context_get over JSON-2, whose key names the user.
func (c *Client) authenticateCall(ctx context.Context, a Account) (json.RawMessage, error) {
	major, err := c.Major(ctx, a)
	if err != nil {
		return nil, err
	}
	if major < JSON2Major {
		return c.call(ctx, a.Endpoint("/jsonrpc"), "common", "authenticate", a.DB, a.Login, a.Password.Reveal(), map[string]any{})
	}
	ans, err := c.JSON2(ctx, a, "res.users", "context_get", []byte("{}"))
	if err != nil {
		return nil, err
	}
	raw, err := json2Result(ans)
	if err != nil {
		return nil, err
	}
	var ctxv struct {
		UID json.RawMessage `json:"uid"`
	}
	if json.Unmarshal(raw, &ctxv) != nil || ctxv.UID == nil {
		return nil, fmt.Errorf("%w: context_get answered %.60s", ErrBadGateway, raw)
	}
	return ctxv.UID, nil
}

// executeJSON2 is ExecuteKW on an Odoo that speaks JSON-2: the arguments
// named, the answer in execute_kw's form (one id for a create of one
// dict). errNotNamed when the arguments cannot be named.
func (c *Client) executeJSON2(ctx context.Context, a Account, model, method string, args []any, kwargs map[string]any) (json.RawMessage, error) {
	body, err := named(model, method, args, kwargs)
	if err != nil {
		return nil, err
	}
	b, err := Marshal(body)
	if err != nil {
		return nil, err
	}
	ans, err := c.JSON2(ctx, a, model, method, b)
	if err != nil {
		return nil, err
	}
	raw, err := json2Result(ans)
	if err == nil && singleCreate(method, args, kwargs) {
		raw = firstID(raw)
	}
	return raw, err
}

// Marshal encodes v as JSON without escaping <, > and &, so that values
// reach Odoo as the client wrote them.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("odoo: encode: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
