package proxy_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/internal/odootest"
)

// BenchmarkJSON2AddedLatency measures what keygate adds to a JSON-2 call:
// each iteration makes the same search_read directly to the 19.0 double
// and through keygate (scope check, account, JSON-2 to the double),
// both over loopback HTTP, and the metrics are the median and p99 of
// each and their differences, in microseconds. Run it alone on a quiet
// machine for figures: both sides share the CPU.
func BenchmarkJSON2AddedLatency(b *testing.B) {
	h := newHarness(b, gatewaytest.Options{Version: "19.0"})
	h.Warm(b)
	key := h.Key(b, "default", "odoo:res.partner:read")
	body := []byte(`{"domain": [["is_company", "=", true]], "fields": ["name", "email"], "limit": 5, "order": "id"}`)
	client := &http.Client{}
	timed := func(url, bearer string) time.Duration {
		req, _ := http.NewRequest(http.MethodPost, url+"/json/2/res.partner/search_read", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "bearer "+bearer)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", url, resp.StatusCode)
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	var d, k []time.Duration
	for b.Loop() {
		d = append(d, timed(h.OdooURL, odootest.KeyGlobal))
		k = append(k, timed(h.URL, key))
	}
	us := func(t time.Duration) float64 { return float64(t) / float64(time.Microsecond) }
	b.ReportMetric(us(pct(d, 50)), "direct-p50-µs")
	b.ReportMetric(us(pct(d, 99)), "direct-p99-µs")
	b.ReportMetric(us(pct(k, 50)), "keygate-p50-µs")
	b.ReportMetric(us(pct(k, 99)), "keygate-p99-µs")
	b.ReportMetric(us(pct(k, 50)-pct(d, 50)), "added-p50-µs")
	b.ReportMetric(us(pct(k, 99)-pct(d, 99)), "added-p99-µs")
}
