package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/keygate/keygate/httpapi"
)

// bodyGuard bounds what strangers' request bodies may hold on both
// listeners: one budget of unauthenticated bytes (KEYGATE_UNAUTH_BODY_BUDGET)
// shared by them, and a read deadline in proportion to each body's length
// (KEYGATE_READ_TIMEOUT for a body of KEYGATE_MAX_BODY bytes). The bytes
// held are exported as keygate_unauthenticated_body_bytes.
func (a *app) bodyGuard() *httpapi.BodyGuard {
	budget := httpapi.NewBudget(a.cfg.UnauthBodyBudget)
	a.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "keygate_unauthenticated_body_bytes",
		Help: "Bytes of request bodies read and held by requests not yet authenticated.",
	}, func() float64 { return float64(budget.Used()) }))
	return httpapi.NewBodyGuard(httpapi.BodyConfig{Budget: budget, ReadTimeout: a.cfg.ReadTimeout, MaxBody: a.cfg.MaxBody})
}
