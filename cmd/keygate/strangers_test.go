package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/odootest"
)

// Bounds of TestStrangersCannotHoldMemory: a small budget, so that the
// hostile load stays small; the README states the same rule for the
// default budget.
const (
	strangerBudget = 8 << 20 // KEYGATE_UNAUTH_BODY_BUDGET
	strangerConns  = 12      // slow ones, and as many large-body ones
	strangerBody   = 2 << 20 // each large body: 24 MiB in all, 3 × the budget
	strangerHeld   = 10      // bytes of each large body kept back
	// heapBound is what the server may hold above its idle heap: twice the
	// budget (a body being read sits in a buffer that grows by doubling)
	// and 64 KiB per hostile connection (buffers, goroutine stacks).
	heapBound = 2*strangerBudget + 2*strangerConns*(64<<10)
)

// TestStrangersCannotHoldMemory opens slow and large-body connections
// with bad keys in the body, as strangers would, and checks that the
// server's heap stays under heapBound while a valid client (its key in
// the Authorization header) is still served.
func TestStrangersCannotHoldMemory(t *testing.T) {
	_, srv := odootest.NewServer(t, odootest.Config{})
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_ODOO_URL="+srv.URL, "KEYGATE_ODOO_DB=odoo_test",
		"KEYGATE_ODOO_LOGIN=admin", "KEYGATE_ODOO_PASSWORD="+odootest.KeyGlobal,
		"KEYGATE_UNAUTH_BODY_BUDGET="+strconv.Itoa(strangerBudget), "KEYGATE_FAILED_AUTH_LIMIT=100000/1m")
	key := adminKey(t, k, `{"name":"shop","scopes":["odoo:res.partner:read","route:GET:/**"]}`)
	idle := heapInuse()
	addr := strings.TrimPrefix(k.public, "http://")

	h := newHostile(t, addr)
	for range strangerConns {
		h.slow()
	}
	for i := range strangerConns {
		h.large(i)
	}
	h.wg.Wait() // every large body sent (bar strangerHeld bytes) or refused
	refused := func() int64 {
		return metricValue(t, k, `keygate_http_requests_total{listener="public",route="/jsonrpc",status="503"}`)
	}
	// The slow ones hold one byte each, within the bytes read free of
	// charge; each large one admitted holds all it sent but those.
	h.waitCharged(t, k, func() int64 {
		return (strangerConns - refused()) * (strangerBody - strangerHeld - httpapi.DefaultGrace)
	})

	held := heapInuse() - idle
	t.Logf("idle heap %d MiB; held under load %d MiB (bound %d MiB); %d of %d large bodies refused with 503",
		idle>>20, held>>20, heapBound>>20, refused(), strangerConns)
	if held > heapBound {
		t.Errorf("the server holds %d bytes for strangers, over the bound of %d", held, heapBound)
	}
	if refused() == 0 {
		t.Error("no large body was refused: the budget did not bind")
	}
	if n, got := h.refused(), h.retryAfter(); n > 0 && got != "1" {
		t.Errorf("503 Retry-After %q, want 1", got)
	}
	checkValidClientServed(t, k, key)
}

// checkValidClientServed: while strangers hold the whole budget, a partner
// is served with its key in the header, and with its key as the password
// (found as the body streams) even when its body is far larger than what
// the budget has left.
func checkValidClientServed(t *testing.T, k *instance, key string) {
	t.Helper()
	big := []any{[]any{"name", "not ilike", strings.Repeat("z", 256<<10)}}
	for name, tc := range map[string]struct {
		header, password string
	}{
		"key_in_the_header": {header: key, password: "x"},
		"key_as_password":   {password: key},
	} {
		t.Run(name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": map[string]any{
				"service": "object", "method": "execute_kw", "args": []any{"x", 2, tc.password, "res.partner", "search_count", []any{big}}}})
			served(t, k, body, tc.header)
		})
	}
}

func served(t *testing.T, k *instance, body []byte, header string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, k.public+"/jsonrpc", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set("Authorization", "Bearer "+header)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || out["result"] == nil {
		t.Fatalf("valid client during the attack: %d %v (%v)", res.StatusCode, out, err)
	}
}

func heapInuse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// hostile drives the strangers' connections; they close with the test.
type hostile struct {
	tb       testing.TB
	addr     string
	wg       sync.WaitGroup
	mu       sync.Mutex
	n503     int
	retry503 string
}

func newHostile(tb testing.TB, addr string) *hostile { return &hostile{tb: tb, addr: addr} }

func (h *hostile) dial() net.Conn {
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		h.tb.Fatal(err)
	}
	h.tb.Cleanup(func() { c.Close() })
	return c
}

// slow announces a large body and sends its first byte only (its read
// deadline, over a minute, outlasts the test).
func (h *hostile) slow() {
	c := h.dial()
	fmt.Fprintf(c, "POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", strangerBody)
}

// large sends a JSON-RPC call with a bad key as its password, all of it
// but its last strangerHeld bytes, streamed from a small buffer so that
// the test's own heap does not grow; and notes a 503 answer.
func (h *hostile) large(i int) {
	c := h.dial()
	head := fmt.Sprintf(`{"jsonrpc":"2.0","method":"call","params":{"service":"object","method":"execute_kw",`+
		`"args":["db",2,"kg_stranger%d","res.partner","search_count",[[["name","=","`, i)
	fmt.Fprintf(c, "POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", strangerBody, head)
	pad := io.LimitReader(repeatA{}, int64(strangerBody-len(head)-strangerHeld))
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil && res.StatusCode == http.StatusServiceUnavailable {
			h.mu.Lock()
			h.n503, h.retry503 = h.n503+1, res.Header.Get("Retry-After")
			h.mu.Unlock()
		}
	}()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if _, err := io.Copy(c, pad); err != nil {
			<-answered // refused: the server closed the connection after its 503
		}
	}()
}

func (h *hostile) refused() int       { h.mu.Lock(); defer h.mu.Unlock(); return h.n503 }
func (h *hostile) retryAfter() string { h.mu.Lock(); defer h.mu.Unlock(); return h.retry503 }

// waitCharged waits until the server holds want() unauthenticated bytes,
// as its /metrics say: every byte sent has then been read or refused.
func (h *hostile) waitCharged(t testing.TB, k *instance, want func() int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got int64
	for time.Now().Before(deadline) {
		if got = metricValue(t, k, "keygate_unauthenticated_body_bytes"); got == want() {
			return
		}
		time.Sleep(20 * time.Millisecond) // polling real sockets, not a unit test
	}
	t.Fatalf("unauthenticated bytes held: %d, want %d", got, want())
}

func metricValue(t testing.TB, k *instance, name string) int64 {
	t.Helper()
	res, err := http.Get(k.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if !strings.Contains(name, "{") {
		name += " "
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name); ok && (strings.HasPrefix(v, " ") || strings.HasSuffix(name, " ")) {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f)
		}
	}
	return 0 // a counter not yet incremented
}

// repeatA reads as an endless run of 'A'.
type repeatA struct{}

func (repeatA) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}

// TestHeaderSizeLimit: both listeners take a request whose headers fit
// maxHeaderBytes and answer 431 to one whose headers do not, instead of
// holding up to net/http's default of 1 MiB for each connection.
func TestHeaderSizeLimit(t *testing.T) {
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t))
	for _, base := range []string{k.public, k.admin} {
		for _, c := range []struct {
			size, want int
		}{{maxHeaderBytes / 2, http.StatusOK}, {maxHeaderBytes + 8<<10, http.StatusRequestHeaderFieldsTooLarge}} {
			req, err := http.NewRequest("GET", base+"/healthz", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Padding", strings.Repeat("a", c.size))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != c.want {
				t.Errorf("%s/healthz with a %d-byte header: %d, want %d", base, c.size, res.StatusCode, c.want)
			}
		}
	}
}
