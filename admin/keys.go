package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
)

// createRequest is the body of POST /keys: the writable fields of the key
// object, with ttl as an alternative to expires_at.
type createRequest struct {
	Name         string          `json:"name"`
	Owner        string          `json:"owner"`
	Scopes       []string        `json:"scopes"`
	RateLimits   []string        `json:"rate_limits"`
	IPAllowlist  []string        `json:"ip_allowlist"`
	ExpiresAt    *time.Time      `json:"expires_at"`
	TTL          string          `json:"ttl"`
	Metadata     json.RawMessage `json:"metadata"`
	CredentialID *string         `json:"credential_id"`
	createCredits
}

// Created is a key object with its plaintext, as the 201 of create and
// rotate answer it (and `keygate keys create --json` prints it).
type Created struct {
	*keystore.Record
	Key string `json:"key"`
}

func (a *API) createKey(c echo.Context) error {
	var req createRequest
	if err := httpapi.Bind(c, &req, httpapi.DefaultBodyLimit); err != nil {
		return err
	}
	spec, err := req.spec(a.now())
	if err != nil {
		return err
	}
	rec, key, err := a.store.Create(c.Request().Context(), actorOf(c), spec)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/admin/v1/keys/"+rec.ID)
	return c.JSON(http.StatusCreated, Created{Record: rec, Key: key.Reveal()})
}

func (r *createRequest) spec(now time.Time) (keystore.Spec, error) {
	exp, err := expiry(r.ExpiresAt, r.TTL, now)
	return keystore.Spec{
		Name: r.Name, Owner: r.Owner, Scopes: r.Scopes, RateLimits: r.RateLimits, IPAllowlist: r.IPAllowlist,
		ExpiresAt: exp, Metadata: r.Metadata, CredentialID: r.CredentialID, Credits: r.Credits,
	}, err
}

// expiry resolves expires_at or ttl (not both) to a time.
func expiry(at *time.Time, ttl string, now time.Time) (*time.Time, error) {
	if ttl == "" {
		return at, nil
	}
	if at != nil {
		return nil, invalid("ttl", "give expires_at or ttl, not both")
	}
	d, err := time.ParseDuration(ttl)
	if err != nil || d <= 0 {
		return nil, invalid("ttl", `must be a positive duration such as "720h"`)
	}
	t := now.Add(d).UTC()
	return &t, nil
}

func invalid(field, msg string) error {
	return &keystore.ValidationError{Fields: map[string]string{field: msg}}
}

// maxQuery bounds the ?q= search of GET /keys.
const maxQuery = 200

func (a *API) listKeys(c echo.Context) error {
	page, limit, err := httpapi.PageParams(c, 20)
	if err != nil {
		return err
	}
	f := keystore.Filter{Owner: c.QueryParam("owner"), Status: keystore.Status(c.QueryParam("status")), Query: c.QueryParam("q"), Page: page, Limit: limit}
	if len(f.Query) > maxQuery {
		return invalid("q", fmt.Sprintf("must be at most %d bytes", maxQuery))
	}
	if f.Status != "" && !f.Status.Valid() {
		return httpapi.Errorf(http.StatusBadRequest, "status must be active, revoked or expired")
	}
	recs, total, err := a.store.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, httpapi.NewList(recs, page, limit, total))
}

func (a *API) getKey(c echo.Context) error {
	rec, err := a.store.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (a *API) updateKey(c echo.Context) error {
	var req patchRequest
	if err := httpapi.Bind(c, &req, httpapi.DefaultBodyLimit); err != nil {
		return err
	}
	p, err := req.patch()
	if err != nil {
		return err
	}
	rec, err := a.store.Update(c.Request().Context(), actorOf(c), c.Param("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (a *API) revokeKey(c echo.Context) error {
	var req struct{}
	if err := httpapi.Bind(c, &req, httpapi.DefaultBodyLimit); err != nil {
		return err
	}
	rec, err := a.store.Revoke(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (a *API) rotateKey(c echo.Context) error {
	var req struct {
		Grace *string `json:"grace"`
	}
	if err := httpapi.Bind(c, &req, httpapi.DefaultBodyLimit); err != nil {
		return err
	}
	grace := keystore.DefaultGrace
	if req.Grace != nil {
		d, err := time.ParseDuration(*req.Grace)
		if err != nil {
			return invalid("grace", `must be a duration such as "24h" or "0s"`)
		}
		grace = d
	}
	rec, key, err := a.store.Rotate(c.Request().Context(), actorOf(c), c.Param("id"), grace)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/admin/v1/keys/"+rec.ID)
	return c.JSON(http.StatusCreated, Created{Record: rec, Key: key.Reveal()})
}

// usageAnswer is the body of GET /keys/{id}/usage.
type usageAnswer struct {
	KeyID string               `json:"key_id"`
	Since time.Time            `json:"since"`
	Hours []keystore.UsageHour `json:"hours"`
}

func (a *API) keyUsage(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, err := a.store.Get(ctx, id); err != nil {
		return err
	}
	since, err := sinceParam(c.QueryParam("since"), a.now())
	if err != nil {
		return err
	}
	hours, err := a.store.Usage(ctx, id, since)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, usageAnswer{KeyID: id, Since: since, Hours: hours})
}

// sinceParam reads ?since= as RFC 3339 or a duration back from now
// (default 24h).
func sinceParam(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now.Add(-24 * time.Hour).UTC().Truncate(time.Hour), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC().Truncate(time.Hour), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, httpapi.Errorf(http.StatusBadRequest, `since must be RFC 3339 or a duration such as "48h"`)
	}
	return t.UTC(), nil
}

func (a *API) audit(c echo.Context) error {
	page, limit, err := httpapi.PageParams(c, 50)
	if err != nil {
		return err
	}
	events, total, err := a.store.Audit(c.Request().Context(), keystore.AuditFilter{KeyID: c.QueryParam("key_id"), Page: page, Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, httpapi.NewList(events, page, limit, total))
}
