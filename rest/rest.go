package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/proxy"
)

// The REST facade: /api/<version>/<resource> over Odoo's external API, for
// the resources of a Resources. Each request is checked by the Authorizer
// against the key's odoo:<model>:<op> scopes and rate limits, exactly as
// the gateway checks an execute_kw (list: search_read, get: read, create,
// write, unlink), then validated, then sent to Odoo as the key's service
// account. Nothing that fails validation reaches Odoo.
//
// A list is one web_search_read call, which answers the page and the
// total count from one transaction, so that total and data agree. Only a
// page past the end costs a second call (search_count), because Odoo
// answers such a page with a length of 0.

// DefaultMaxBody is Config.MaxBody's default: 1 MiB.
const DefaultMaxBody = 1 << 20

// Config configures a REST facade. Authorizer, Accounts and Client are
// required; the zero values of the others take the documented defaults.
type Config struct {
	Authorizer proxy.Authorizer
	// Accounts maps each key to its Odoo service account.
	Accounts proxy.AccountResolver
	// Client calls Odoo: share the gateway's (Gateway.Client), and with
	// it the connections and the uid of each service account.
	Client *odoo.Client
	// Resources are the resources served (default DefaultResources()).
	Resources *Resources
	// MaxBody bounds request bodies (default DefaultMaxBody); larger
	// ones are refused with 413.
	MaxBody int64
	// Logger receives the failed calls to Odoo (default: discard).
	Logger *slog.Logger
}

// Facade serves the REST facade. It is safe for concurrent use and starts
// no goroutine.
type Facade struct {
	auth      proxy.Authorizer
	accounts  proxy.AccountResolver
	client    *odoo.Client
	resources *Resources
	maxBody   int64
	log       *slog.Logger
	openapi   []byte
}

// New validates cfg and returns the REST facade.
func New(cfg Config) (*Facade, error) {
	var errs []error
	if cfg.Authorizer == nil {
		errs = append(errs, errors.New("rest: Config.Authorizer is required"))
	}
	if cfg.Accounts == nil {
		errs = append(errs, errors.New("rest: Config.Accounts is required"))
	}
	if cfg.Client == nil {
		errs = append(errs, errors.New("rest: Config.Client is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	doc, err := openAPIDocument(cfg.Resources)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("rest resources", "routes", cfg.Resources.routes())
	return &Facade{auth: cfg.Authorizer, accounts: cfg.Accounts, client: cfg.Client, resources: cfg.Resources,
		maxBody: cfg.MaxBody, log: cfg.Logger, openapi: doc}, nil
}

func (cfg *Config) setDefaults() {
	if cfg.Resources == nil {
		cfg.Resources = DefaultResources()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
}

// Register adds the REST routes to g (mounted at the root), those of the
// operations each version serves:
//
//	GET    /api/openapi.json               the OpenAPI 3.1 document (no key needed)
//	GET    /api/<version>/<resource>       list: page, limit, fields, order, filters
//	POST   /api/<version>/<resource>       create: 201 and Location
//	GET    /api/<version>/<resource>/:id   one record
//	PUT    /api/<version>/<resource>/:id   replace the writable fields
//	PATCH  /api/<version>/<resource>/:id   change the fields given
//	DELETE /api/<version>/<resource>/:id   delete: 204
func (r *Facade) Register(g *echo.Group) {
	g.GET("/api/openapi.json", r.serveOpenAPI)
	for _, res := range r.resources.list {
		for _, v := range res.versions {
			ep := &endpoint{rest: r, res: res, ver: v}
			for _, rt := range ep.routes() {
				g.Add(rt.method, rt.path, rt.handler)
			}
		}
	}
}

// route is one route of an endpoint.
type route struct {
	op, method, path string
	handler          echo.HandlerFunc
}

// routes are the routes of the operations the version serves.
func (ep *endpoint) routes() []route {
	base := "/api/" + ep.ver.name + "/" + ep.res.name
	all := []route{
		{"list", http.MethodGet, base, ep.list},
		{"create", http.MethodPost, base, ep.create},
		{"get", http.MethodGet, base + "/:id", ep.get},
		{"update", http.MethodPut, base + "/:id", ep.replace},
		{"update", http.MethodPatch, base + "/:id", ep.patch},
		{"delete", http.MethodDelete, base + "/:id", ep.remove},
	}
	var out []route
	for _, rt := range all {
		if ep.ver.ops[rt.op] {
			out = append(out, rt)
		}
	}
	return out
}

func (r *Facade) serveOpenAPI(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderAccessControlAllowOrigin, "*")
	return c.JSONBlob(http.StatusOK, r.openapi)
}

// endpoint serves one version of one resource.
type endpoint struct {
	rest *Facade
	res  *resource
	ver  *version
}

// item is the envelope of one record.
type item struct {
	Data object `json:"data"`
}

func (ep *endpoint) list(c echo.Context) error {
	d, err := ep.authorize(c, "search_read")
	if err != nil {
		return err
	}
	q, err := ep.query(c)
	if err != nil {
		return err
	}
	lq, err := ep.ver.listQuery(q)
	if err != nil {
		return err
	}
	acct, err := ep.account(c, d)
	if err != nil {
		return err
	}
	rows, total, err := ep.search(c.Request().Context(), acct, lq)
	if err != nil {
		return ep.odooError(c, acct.Account, err, 0)
	}
	return c.JSON(http.StatusOK, httpapi.NewList(rows, lq.page, lq.limit, total))
}

func (ep *endpoint) get(c echo.Context) error {
	d, err := ep.authorize(c, "read")
	if err != nil {
		return err
	}
	id, fields, err := ep.itemRequest(c)
	if err != nil {
		return err
	}
	acct, err := ep.account(c, d)
	if err != nil {
		return err
	}
	return ep.respondRecord(c, acct, id, fields)
}

// respondRecord answers 200 with the fields of record id as Odoo has it
// now, or 404 when it is gone.
func (ep *endpoint) respondRecord(c echo.Context, acct caller, id int64, fields []string) error {
	obj, err := ep.read(c.Request().Context(), acct, id, fields)
	if err != nil {
		return ep.odooError(c, acct.Account, err, id)
	}
	if obj == nil {
		return ep.notFound(id)
	}
	return c.JSON(http.StatusOK, item{obj})
}

func (ep *endpoint) create(c echo.Context) error {
	d, err := ep.authorize(c, "create")
	if err != nil {
		return err
	}
	fields, vals, err := ep.writeRequest(c, modeCreate)
	if err != nil {
		return err
	}
	acct, err := ep.account(c, d)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	raw, err := ep.execute(ctx, acct, "create", []any{vals}, nil)
	if err != nil {
		return ep.odooError(c, acct.Account, err, 0)
	}
	id, err := createdID(raw)
	if err != nil {
		return ep.odooError(c, acct.Account, err, 0)
	}
	c.Response().Header().Set(echo.HeaderLocation, strings.TrimRight(c.Request().URL.Path, "/")+"/"+strconv.FormatInt(id, 10))
	return c.JSON(http.StatusCreated, item{ep.created(ctx, acct, id, fields)})
}

// created reads a new record back. The record exists whatever happens
// next, so a failed read still answers 201, with the id alone: a client
// that retried would create it twice.
func (ep *endpoint) created(ctx context.Context, acct caller, id int64, fields []string) object {
	obj, err := ep.read(ctx, acct, id, fields)
	if err == nil && obj == nil {
		err = errors.New("read answered []")
	}
	if err != nil {
		ep.failed(ctx, acct.Account, "read", fmt.Errorf("read back created record %d: %w", id, err))
		return object{{Key: "id", Value: json.RawMessage(strconv.FormatInt(id, 10))}}
	}
	return obj
}

// createdID reads create's answer: an id (a list of one from some
// versions).
func createdID(raw json.RawMessage) (int64, error) {
	var id int64
	if json.Unmarshal(raw, &id) == nil && id > 0 {
		return id, nil
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil && len(ids) == 1 && ids[0] > 0 {
		return ids[0], nil
	}
	return 0, fmt.Errorf("%w: create answered %.40s", errBadAnswer, raw)
}

func (ep *endpoint) replace(c echo.Context) error { return ep.update(c, modeReplace) }

func (ep *endpoint) patch(c echo.Context) error { return ep.update(c, modePatch) }

func (ep *endpoint) update(c echo.Context, mode writeMode) error {
	d, err := ep.authorize(c, "write")
	if err != nil {
		return err
	}
	id, err := recordID(c)
	if err != nil {
		return err
	}
	fields, vals, err := ep.writeRequest(c, mode)
	if err != nil {
		return err
	}
	acct, err := ep.account(c, d)
	if err != nil {
		return err
	}
	if _, err := ep.execute(c.Request().Context(), acct, "write", []any{[]int64{id}, vals}, nil); err != nil {
		return ep.odooError(c, acct.Account, err, id)
	}
	return ep.respondRecord(c, acct, id, fields)
}

func (ep *endpoint) remove(c echo.Context) error {
	d, err := ep.authorize(c, "unlink")
	if err != nil {
		return err
	}
	id, err := recordID(c)
	if err != nil {
		return err
	}
	if c.Request().URL.RawQuery != "" {
		return httpapi.Errorf(http.StatusBadRequest, "DELETE takes no query parameters")
	}
	acct, err := ep.account(c, d)
	if err != nil {
		return err
	}
	if _, err := ep.execute(c.Request().Context(), acct, "unlink", []any{[]int64{id}}, nil); err != nil {
		return ep.odooError(c, acct.Account, err, id)
	}
	return c.NoContent(http.StatusNoContent)
}
