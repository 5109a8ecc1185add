package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// rejectTTL is how long a refused service account is not asked again:
// each refused authenticate costs Odoo ~0.4 s of CPU.
const rejectTTL = 10 * time.Second

// ClientConfig configures a Client. Zero values take the documented
// defaults.
type ClientConfig struct {
	// Transport carries the calls (default NewTransport()).
	Transport http.RoundTripper
	// Timeout bounds each call (default DefaultTimeout).
	Timeout time.Duration
	// MaxResponse bounds each answer read (default DefaultMaxResponse).
	MaxResponse int64
	// Logger receives refused service accounts (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MetadataTTL is how long a model's fields are kept (default
	// odoo.DefaultMetadataTTL); MetadataEntries bounds the (account,
	// model) entries (default odoo.DefaultMetadataEntries).
	MetadataTTL     time.Duration
	MetadataEntries int
}

// Client calls Odoo's JSON-RPC API as service accounts. It resolves each
// account's uid once, with common.authenticate, and keeps it until Odoo
// answers AccessDenied for that account. It is safe for concurrent use.
type Client struct {
	up     *upstream
	log    *slog.Logger
	now    func() time.Time
	nextID atomic.Int64
	uids   uidCache
	majors majorCache
	meta   *Metadata[Account]
}

// NewClient returns a Client.
func NewClient(cfg ClientConfig) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponse <= 0 {
		cfg.MaxResponse = DefaultMaxResponse
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{up: newUpstream(cfg.Transport, cfg.Timeout, cfg.MaxResponse), log: cfg.Logger, now: cfg.Now,
		uids: uidCache{m: map[uidKey]uidEntry{}}, majors: majorCache{m: map[string]int{}}}
	meta, err := NewMetadata(MetadataConfig[Account]{Fetch: c.fetchFields, TTL: cfg.MetadataTTL,
		MaxEntries: cfg.MetadataEntries, Timeout: cfg.Timeout})
	if err != nil {
		panic(err) // Fetch is set and the other settings defaulted: it cannot fail
	}
	c.meta = meta
	return c
}

// Close closes the idle connections of the transport and stops the
// metadata cache's maintenance goroutine. The Client stays usable.
func (c *Client) Close() {
	c.up.closeIdle()
	c.meta.Close()
}

// ExecuteKW calls model.method(*args, **kwargs) as account a and returns
// the raw JSON result ("null" for a method that returns None). Odoo's
// exceptions are *OdooError; transport failures ErrBadGateway or
// ErrGatewayTimeout; a refused account ErrAccountRejected.
func (c *Client) ExecuteKW(ctx context.Context, a Account, model, method string, args []any, kwargs map[string]any) (json.RawMessage, error) {
	major, err := c.Major(ctx, a)
	if err != nil {
		return nil, err
	}
	if major >= JSON2Major {
		raw, err := c.executeJSON2(ctx, a, model, method, args, kwargs)
		if !errors.Is(err, errNotNamed) {
			return raw, err
		}
	}
	uid, err := c.UID(ctx, a)
	if err != nil {
		return nil, err
	}
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	raw, err := c.call(ctx, a.Endpoint("/jsonrpc"), "object", "execute_kw", a.DB, uid, a.Password.Reveal(), model, method, args, kwargs)
	c.checkDenied(a, err)
	return raw, err
}

// Version returns common.version of the Odoo at baseURL.
func (c *Client) Version(ctx context.Context, baseURL string) (json.RawMessage, error) {
	return c.call(ctx, Account{URL: baseURL}.Endpoint("/jsonrpc"), "common", "version")
}

// checkDenied forgets the account's uid when Odoo no longer accepts its
// credentials, so that the next call authenticates again.
func (c *Client) checkDenied(a Account, err error) {
	var oe *OdooError
	if errors.As(err, &oe) && oe.Kind() == KindAccessDenied {
		c.uids.forget(keyOf(a))
	}
}

type rpcRequest struct {
	JSONRPC string    `json:"jsonrpc"`
	Method  string    `json:"method"`
	Params  rpcParams `json:"params"`
	ID      int64     `json:"id"`
}

type rpcParams struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Args    []any  `json:"args"`
}

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
		Data    struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"data"`
	} `json:"error"`
}

func (c *Client) call(ctx context.Context, url, service, method string, args ...any) (json.RawMessage, error) {
	if args == nil {
		args = []any{}
	}
	body, err := json.Marshal(rpcRequest{JSONRPC: "2.0", Method: "call", ID: c.nextID.Add(1),
		Params: rpcParams{Service: service, Method: method, Args: args}})
	if err != nil {
		return nil, fmt.Errorf("odoo: encode %s.%s: %w", service, method, err)
	}
	answer, err := c.up.post(ctx, url, "application/json", body)
	if err != nil {
		return nil, err
	}
	return decodeAnswer(answer)
}

// decodeAnswer returns a JSON-RPC answer's result, or its error as an
// *OdooError without the traceback.
func decodeAnswer(b []byte) (json.RawMessage, error) {
	var r rpcResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: the answer is not JSON-RPC: %w", ErrBadGateway, err)
	}
	if r.Error != nil {
		e := &OdooError{Name: r.Error.Data.Name, Message: CutSQL(r.Error.Data.Name, r.Error.Data.Message)}
		if e.Name == "" && e.Message == "" {
			e.Message = r.Error.Message
		}
		return nil, e
	}
	if r.Result == nil {
		return json.RawMessage("null"), nil
	}
	return r.Result, nil
}

// UID returns the uid of account a, authenticating it with Odoo the first
// time (concurrent first calls share one authenticate; on Odoo 19 and
// later, res.users.context_get over JSON-2). A refusal is remembered for
// rejectTTL; transport errors are not remembered.
func (c *Client) UID(ctx context.Context, a Account) (int64, error) {
	k := keyOf(a)
	if e, ok := c.uids.get(k, c.now()); ok {
		return e.result(a)
	}
	v, err, _ := c.uids.group.Do(k.flight(), func() (any, error) {
		return c.authenticate(context.WithoutCancel(ctx), a, k)
	})
	if err != nil {
		return 0, err
	}
	return v.(uidEntry).result(a)
}

func (c *Client) authenticate(ctx context.Context, a Account, k uidKey) (uidEntry, error) {
	raw, err := c.authenticateCall(ctx, a)
	if errors.Is(err, ErrAccountRejected) {
		raw, err = json.RawMessage("false"), nil
	}
	if err != nil {
		return uidEntry{}, fmt.Errorf("odoo: authenticate %s: %w", a.Name, err)
	}
	var uid int64
	if json.Unmarshal(raw, &uid) != nil || uid <= 0 {
		c.log.Error("odoo refused the service account", "account", a, "retry_in", rejectTTL.String())
		e := uidEntry{until: c.now().Add(rejectTTL)}
		c.uids.put(k, e)
		return e, nil
	}
	e := uidEntry{uid: uid}
	c.uids.put(k, e)
	return e, nil
}

// uidKey identifies an account by everything that decides its uid.
type uidKey struct{ url, db, login, password string }

func keyOf(a Account) uidKey { return uidKey{a.URL, a.DB, a.Login, a.Password.Reveal()} }

func (k uidKey) flight() string {
	return strconv.Quote(k.url) + strconv.Quote(k.db) + strconv.Quote(k.login) + strconv.Quote(k.password)
}

// uidEntry is a resolved uid, or a refusal (uid 0) valid until until.
type uidEntry struct {
	uid   int64
	until time.Time
}

func (e uidEntry) result(a Account) (int64, error) {
	if e.uid == 0 {
		return 0, fmt.Errorf("%w (%s)", ErrAccountRejected, a.Name)
	}
	return e.uid, nil
}

// maxCachedUIDs bounds the memory of the uid cache.
const maxCachedUIDs = 10_000

type uidCache struct {
	mu    sync.Mutex
	m     map[uidKey]uidEntry
	group singleflight.Group
}

func (c *uidCache) get(k uidKey, now time.Time) (uidEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if ok && e.uid == 0 && !now.Before(e.until) {
		delete(c.m, k)
		return uidEntry{}, false
	}
	return e, ok
}

func (c *uidCache) put(k uidKey, e uidEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedUIDs {
		clear(c.m)
	}
	c.m[k] = e
}

func (c *uidCache) forget(k uidKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// Fields returns model's fields as account a sees them: fields_get,
// cached per account and model (Metadata).
func (c *Client) Fields(ctx context.Context, a Account, model string) (Fields, error) {
	return c.meta.Fields(ctx, a, model)
}

// fetchFields is the Client's FetchFunc: fields_get with the
// attributes the check needs.
func (c *Client) fetchFields(ctx context.Context, a Account, model string) (Fields, error) {
	raw, err := c.ExecuteKW(ctx, a, model, "fields_get", nil, map[string]any{"attributes": Attributes})
	if err != nil {
		return nil, err
	}
	return ParseFields(raw)
}

// Post sends body to url (an Odoo endpoint of an account) and returns
// its answer as it came: the gateway relays a partner's call this way.
// Errors are ErrBadGateway and ErrGatewayTimeout.
func (c *Client) Post(ctx context.Context, url, contentType string, body []byte) ([]byte, error) {
	return c.up.post(ctx, url, contentType, body)
}

// ForgetAccount drops the uid resolved for account a: the next call
// authenticates it again.
func (c *Client) ForgetAccount(a Account) { c.uids.forget(keyOf(a)) }
