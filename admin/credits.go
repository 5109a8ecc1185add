package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
)

// CreditStore is what the credits route needs of keystore
// (*keystore.Store).
type CreditStore interface {
	AdjustCredits(ctx context.Context, actor, id, op string, value int64) (*keystore.Record, error)
}

// creditsRequest is the body of POST /keys/{id}/credits.
type creditsRequest struct {
	Op    string `json:"op"`
	Value *int64 `json:"value"`
}

// RegisterCredits adds POST /keys/{id}/credits to g, which must be the
// group that Register set up (its authentication runs first):
//
//	POST /keys/{id}/credits {"op": "set"|"increment"|"decrement", "value": N}
//
// changes the key's balance atomically (decrement stops at 0), audited as
// key.credits, and answers the key object with its new balance.
func (a *API) RegisterCredits(g *echo.Group, store CreditStore) {
	g.POST("/keys/:id/credits", func(c echo.Context) error { return adjustCredits(c, store) })
}

func adjustCredits(c echo.Context, store CreditStore) error {
	if err := requireActor(c); err != nil {
		return err
	}
	var req creditsRequest
	if err := httpapi.Bind(c, &req, httpapi.DefaultBodyLimit); err != nil {
		return err
	}
	if req.Value == nil {
		return invalid("value", "is required")
	}
	rec, err := store.AdjustCredits(c.Request().Context(), actorOf(c), c.Param("id"), req.Op, *req.Value)
	switch {
	case errors.Is(err, keystore.ErrConflict):
		return &httpapi.Error{Status: http.StatusConflict, Message: "the key has no credits (unlimited); give it credits with PATCH first", Cause: err}
	case errors.Is(err, keystore.ErrUnavailable):
		return &httpapi.Error{Status: http.StatusServiceUnavailable, Message: "credits cannot be changed now: storage or limiter unavailable, try again", Cause: err}
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

// creditsField decodes the credits of a PATCH as field does (null clears
// them: the key becomes unlimited), naming their shape when they are wrong.
func creditsField(v *keystore.ValidationError, raw json.RawMessage, dst *keystore.Optional[*keystore.Credits]) {
	field(v, "credits", raw, dst, true)
	if _, bad := v.Fields["credits"]; bad {
		v.Fields["credits"] = `must be {"remaining": N, "refill": null or {"interval": "daily"|"monthly", "amount": N, "day": 1..31}}`
	}
}

// createCredits is the credits field of POST /keys.
type createCredits struct {
	Credits *keystore.Credits `json:"credits"`
}
