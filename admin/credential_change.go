package admin

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
)

// credentialPatchRequest is the body of PATCH /credentials/{id}: each field
// kept raw, so that an absent field stays as it is; none may be null.
type credentialPatchRequest struct {
	Name     json.RawMessage `json:"name"`
	URL      json.RawMessage `json:"url"`
	DB       json.RawMessage `json:"db"`
	Login    json.RawMessage `json:"login"`
	Password json.RawMessage `json:"password"`
}

func (r *credentialPatchRequest) patch() (keystore.CredentialPatch, error) {
	var (
		p keystore.CredentialPatch
		v keystore.ValidationError
	)
	field(&v, "name", r.Name, &p.Name, false)
	field(&v, "url", r.URL, &p.URL, false)
	field(&v, "db", r.DB, &p.DB, false)
	field(&v, "login", r.Login, &p.Login, false)
	field(&v, "password", r.Password, &p.Password, false)
	if len(v.Fields) > 0 {
		return p, &v
	}
	return p, nil
}

// update serves PATCH /credentials/{id}: the credential object as it now
// is. Every replica drops the account's cached uid and metadata.
func (r *credentialRoutes) update(c echo.Context) error {
	if err := requireActor(c); err != nil {
		return err
	}
	var req credentialPatchRequest
	if err := httpapi.Bind(c, &req, httpapi.DefaultBodyLimit); err != nil {
		return err
	}
	p, err := req.patch()
	if err != nil {
		return err
	}
	cred, err := r.store.UpdateCredential(c.Request().Context(), actorOf(c), c.Param("id"), p)
	if err != nil {
		return credentialErr(err)
	}
	return c.JSON(http.StatusOK, cred)
}

// delete serves DELETE /credentials/{id}: 204, or 409 while keys that are
// not revoked use the credential (details name them).
func (r *credentialRoutes) delete(c echo.Context) error {
	if err := requireActor(c); err != nil {
		return err
	}
	if err := r.store.DeleteCredential(c.Request().Context(), actorOf(c), c.Param("id")); err != nil {
		return credentialErr(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// credentialErr maps the vault's errors that the common table does not.
func credentialErr(err error) error {
	var inUse *keystore.InUseError
	switch {
	case errors.As(err, &inUse):
		return &httpapi.Error{Status: http.StatusConflict, Message: "the service account is used by keys: revoke them or move them to another credential first",
			Details: map[string]any{"keys": inUse.Keys, "key_ids": inUse.KeyIDs}, Cause: err}
	case errors.Is(err, keystore.ErrNoSecretKey):
		return &httpapi.Error{Status: http.StatusServiceUnavailable, Message: "credentials cannot be stored: KEYGATE_SECRET_KEY is not set", Cause: err}
	}
	return err
}
