package admin

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
)

// Store is what the admin API needs of keystore.
type Store interface {
	Create(ctx context.Context, actor string, spec keystore.Spec) (*keystore.Record, keystore.Key, error)
	Get(ctx context.Context, id string) (*keystore.Record, error)
	List(ctx context.Context, f keystore.Filter) ([]*keystore.Record, int64, error)
	Update(ctx context.Context, actor, id string, p keystore.Patch) (*keystore.Record, error)
	Revoke(ctx context.Context, actor, id string) (*keystore.Record, error)
	Rotate(ctx context.Context, actor, id string, grace time.Duration) (*keystore.Record, keystore.Key, error)
	Audit(ctx context.Context, f keystore.AuditFilter) ([]keystore.AuditEvent, int64, error)
	Usage(ctx context.Context, id string, since time.Time) ([]keystore.UsageHour, error)
	TopUsage(ctx context.Context, since time.Time, by keystore.UsageOrder, limit int) ([]keystore.UsageTotal, error)
	Verify(ctx context.Context, presented string) (*keystore.Verified, error)
}

// AdminScope is the scope that opens the admin API.
const AdminScope = "admin"

// MinTokenLen is the shortest bootstrap token accepted.
const MinTokenLen = 32

// Config configures the API. Store is required; zero values of the rest
// take the documented defaults.
type Config struct {
	Store Store
	// AdminToken is the bootstrap credential (KEYGATE_ADMIN_TOKEN); empty
	// disables it. It must be at least MinTokenLen characters.
	AdminToken string
	// Authorizer, when set, decides admin keys as /auth does (allowlist,
	// rate limits) and counts failed admin credentials against the
	// failed-auth limit of the client. Nil: only the admin scope is
	// checked (for tests of the API alone); serve always sets it.
	Authorizer Authorizer
	// Logger (default: discard). Now is the clock (default time.Now).
	Logger *slog.Logger
	Now    func() time.Time
}

// API serves /admin/v1.
type API struct {
	store     Store
	tokenHash *[sha256.Size]byte
	authz     Authorizer
	log       *slog.Logger
	now       func() time.Time
}

// New validates cfg and returns the API.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil {
		return nil, errors.New("admin: Config.Store is required")
	}
	a := &API{store: cfg.Store, authz: cfg.Authorizer, log: cfg.Logger, now: cfg.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if cfg.AdminToken != "" {
		if len(cfg.AdminToken) < MinTokenLen {
			return nil, errors.New("admin: the admin token must be at least 32 characters")
		}
		h := sha256.Sum256([]byte(cfg.AdminToken))
		a.tokenHash = &h
	}
	return a, nil
}

// Register adds every admin route to g, which is mounted at /admin/v1.
func (a *API) Register(g *echo.Group) {
	g.Use(a.authenticate)
	g.POST("/keys", a.createKey)
	g.GET("/keys", a.listKeys)
	g.GET("/keys/:id", a.getKey)
	g.PATCH("/keys/:id", a.updateKey)
	g.POST("/keys/:id/revoke", a.revokeKey)
	g.POST("/keys/:id/rotate", a.rotateKey)
	g.GET("/keys/:id/usage", a.keyUsage)
	g.GET("/usage", a.usageOverview)
	g.GET("/audit", a.audit)
}

const actorKey = "admin.actor"

// authenticate admits the bootstrap token or a key with the admin scope and
// records who is acting, for the audit log.
func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		cred, ok := bearer(c.Request().Header.Get(echo.HeaderAuthorization))
		if !ok {
			return a.unauthorized(c, "missing bearer credential")
		}
		actor, err := a.actor(c, cred)
		if err != nil {
			return err
		}
		c.Set(actorKey, actor)
		return next(c)
	}
}

func (a *API) actor(c echo.Context, cred string) (string, error) {
	if a.authz != nil {
		return a.checkedActor(c, cred)
	}
	if a.isToken(cred) {
		return "admin-token", nil
	}
	ctx := c.Request().Context()
	key, err := a.store.Verify(ctx, cred)
	switch {
	case errors.Is(err, keystore.ErrUnavailable):
		return "", err
	case err != nil:
		return "", &httpapi.Error{Status: http.StatusUnauthorized, Message: "invalid credential", Cause: err}
	}
	// The verified key holds its compiled policy, not its scopes, and
	// that policy is authz's: read them (tests alone come this way).
	rec, err := a.store.Get(ctx, key.ID)
	switch {
	case err != nil:
		return "", err
	case !slices.Contains(rec.Scopes, AdminScope):
		return "", httpapi.Errorf(http.StatusForbidden, "the key lacks the admin scope")
	}
	return "key:" + rec.ID, nil
}

func (a *API) unauthorized(c echo.Context, msg string) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="keygate-admin"`)
	return httpapi.Errorf(http.StatusUnauthorized, "%s", msg)
}

func bearer(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	return cred, cred != ""
}

func actorOf(c echo.Context) string {
	s, _ := c.Get(actorKey).(string)
	return s
}
