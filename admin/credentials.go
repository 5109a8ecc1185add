package admin

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
)

// Credentials is what the admin API needs of keystore's credential vault
// (*keystore.Vault).
type Credentials interface {
	CreateCredential(ctx context.Context, actor string, spec keystore.CredentialSpec, secret string) (*keystore.Credential, error)
	ListCredentials(ctx context.Context, f keystore.CredentialFilter) ([]*keystore.Credential, int64, error)
	UpdateCredential(ctx context.Context, actor, id string, p keystore.CredentialPatch) (*keystore.Credential, error)
	DeleteCredential(ctx context.Context, actor, id string) error
}

// credentialRequest is the body of POST /credentials. Password is the
// service account's Odoo API key; it is sealed and never answered.
type credentialRequest struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	DB       string `json:"db"`
	Login    string `json:"login"`
	Password string `json:"password"`
}

// credentialRoutes serves /credentials.
type credentialRoutes struct {
	store Credentials
}

// RegisterCredentials adds the credential routes to g, which must be the
// group that Register set up (its authentication runs first). As a second
// guard, a request that reaches them without an authenticated actor is
// refused.
func (a *API) RegisterCredentials(g *echo.Group, creds Credentials) {
	r := &credentialRoutes{store: creds}
	g.POST("/credentials", r.create)
	g.GET("/credentials", r.list)
	g.PATCH("/credentials/:id", r.update)
	g.DELETE("/credentials/:id", r.delete)
}

func (r *credentialRoutes) create(c echo.Context) error {
	if err := requireActor(c); err != nil {
		return err
	}
	var req credentialRequest
	if err := httpapi.Bind(c, &req, httpapi.DefaultBodyLimit); err != nil {
		return err
	}
	spec := keystore.CredentialSpec{Name: req.Name, URL: req.URL, DB: req.DB, Login: req.Login}
	cred, err := r.store.CreateCredential(c.Request().Context(), actorOf(c), spec, req.Password)
	if err != nil {
		return credentialErr(err)
	}
	return c.JSON(http.StatusCreated, cred)
}

func (r *credentialRoutes) list(c echo.Context) error {
	if err := requireActor(c); err != nil {
		return err
	}
	page, limit, err := httpapi.PageParams(c, 20)
	if err != nil {
		return err
	}
	creds, total, err := r.store.ListCredentials(c.Request().Context(), keystore.CredentialFilter{Page: page, Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, httpapi.NewList(creds, page, limit, total))
}

// requireActor fails closed when the routes were mounted without the
// admin authentication.
func requireActor(c echo.Context) error {
	if actorOf(c) == "" {
		return httpapi.Errorf(http.StatusUnauthorized, "missing bearer credential")
	}
	return nil
}
