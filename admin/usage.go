package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
)

// overviewAnswer is the body of GET /usage: the keys that were allowed the
// most requests, and those refused the most, since a time.
type overviewAnswer struct {
	Since      time.Time             `json:"since"`
	Busiest    []keystore.UsageTotal `json:"busiest"`
	MostDenied []keystore.UsageTotal `json:"most_denied"`
}

// usageOverview serves GET /usage?since=&limit= (since as for a key's
// usage, default 24h; limit 1 to 100, default 10).
func (a *API) usageOverview(c echo.Context) error {
	since, err := sinceParam(c.QueryParam("since"), a.now())
	if err != nil {
		return err
	}
	limit := 10
	if s := c.QueryParam("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 100 {
			return httpapi.Errorf(http.StatusBadRequest, "limit must be an integer from 1 to 100")
		}
	}
	ans := overviewAnswer{Since: since}
	ctx := c.Request().Context()
	if ans.Busiest, err = a.store.TopUsage(ctx, since, keystore.ByAllowed, limit); err != nil {
		return err
	}
	if ans.MostDenied, err = a.store.TopUsage(ctx, since, keystore.ByDenied, limit); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ans)
}
