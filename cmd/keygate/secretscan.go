package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/keygate/keygate/secretscan"
)

// registerSecretScanning mounts GitHub's secret scanning endpoint on the
// public listener and its counters on /metrics.
func (a *app) registerSecretScanning() error {
	h, err := secretscan.New(secretscan.Config{Keys: a.store, KeysURL: a.cfg.GitHubKeysURL, Logger: a.log})
	if err != nil {
		return err
	}
	h.Register(a.public.Group(""))
	a.metrics.reg.MustRegister(secretScanCollectors(h)...)
	return nil
}

func secretScanCollectors(h *secretscan.Handler) []prometheus.Collector {
	counter := func(name, help string, labels prometheus.Labels, f func(secretscan.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(f(h.Stats())) })
	}
	const alerts, tokens = "keygate_secret_scanning_alerts_total", "keygate_secret_scanning_tokens_total"
	alertsHelp := "GitHub secret scanning requests: accepted (signature verified) or rejected (signature or body)."
	tokensHelp := "Tokens GitHub reported, by label: true_positive (a key of this keygate) or false_positive."
	return []prometheus.Collector{
		counter(alerts, alertsHelp, prometheus.Labels{"result": "accepted"}, func(s secretscan.Stats) uint64 { return s.Alerts }),
		counter(alerts, alertsHelp, prometheus.Labels{"result": "rejected"}, func(s secretscan.Stats) uint64 { return s.Rejected }),
		counter(tokens, tokensHelp, prometheus.Labels{"label": secretscan.TruePositive}, func(s secretscan.Stats) uint64 { return s.TruePositives }),
		counter(tokens, tokensHelp, prometheus.Labels{"label": secretscan.FalsePositive}, func(s secretscan.Stats) uint64 { return s.FalsePositives }),
		counter("keygate_secret_scanning_revocations_total", "Keys revoked because GitHub found them leaked.", nil,
			func(s secretscan.Stats) uint64 { return s.Revoked }),
		counter("keygate_secret_scanning_key_fetches_total", "Fetches of GitHub's secret scanning public keys.", nil,
			func(s secretscan.Stats) uint64 { return s.KeyFetches }),
	}
}
