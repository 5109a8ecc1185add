package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/labstack/echo/v4"
	"golang.org/x/net/http/httpguts"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/testenv"
)

// The fixture: one Echo application, served by a FastServer in front of
// its http.Server, or by the http.Server alone (plain net/http). Each
// route's logic is shared by its Echo handler and its fast one; the fast
// handlers count their runs (fastRuns) and the Echo ones theirs (echoRuns),
// so that a test knows which path answered.

// keygate's public listener (cmd/keygate's newServer).
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

// longField is a request field /long reads, with a name longer than
// FastServer's lower-casing buffer (32 bytes).
const longField = "X-Forwarded-Client-Certificate-Chain-Hash"

// checkHeaders are the request fields the routes read.
var checkHeaders = []string{"X-Api-Key", longField}

// checkMethods are /check's fast methods: authz.FastMethods, and HEAD, which
// a FastServer never serves even when a route lists it.
var checkMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodHead}

// verdict is what a route's logic answers, and what the access line says.
type verdict struct {
	status                 int
	body                   []byte
	keyID, owner, decision string
}

// logic is a route's logic: it reads the request's fields h and its id,
// and sets the answer's fields res.
type logic func(h http.Header, requestID string, res http.Header) verdict

// check is /check: 200 with no body to the key "good", 401 with a JSON
// error to any other. Its fields exercise what net/http does to a
// handler's: sorted by bytes (a name set without its canonical form sorts
// after the others), several values of one name, CR and LF written as
// spaces and the value trimmed, an invalid name left out.
func check(h http.Header, requestID string, res http.Header) verdict {
	keys := h.Values("X-Api-Key")
	key := ""
	if len(keys) > 0 {
		key = keys[0]
	}
	res.Set("X-Keygate-Owner", "owner of "+key)
	res.Set("Cache-Control", "no-store")
	for _, k := range keys {
		res.Add("X-Check-Key", k)
	}
	res["X-Check-Note"] = []string{" a note\non two\r\nlines "}
	res["x-check-raw"] = []string{"set without its canonical name"}
	res["Bad Name"] = []string{"never written"}
	if key == "good" {
		return verdict{status: http.StatusOK, keyID: "k1", owner: "owner of good", decision: "allowed"}
	}
	body := []byte(`{"error":"bad key","code":401,"request_id":"` + requestID + "\"}\n")
	return verdict{status: http.StatusUnauthorized, body: body, decision: "denied"}
}

// long is /long: it answers the value of longField.
func long(h http.Header, _ string, res http.Header) verdict {
	res.Set("X-Long", h.Get(longField))
	return verdict{status: http.StatusOK}
}

func health(http.Header, string, http.Header) verdict {
	return verdict{status: http.StatusOK, body: []byte(`{"status":"ok"}` + "\n")}
}

// panicLate panics after it set fields of the answer.
func panicLate(_ http.Header, _ string, res http.Header) verdict {
	res.Set("X-Keygate-Owner", "set before the panic")
	res.Set(echo.HeaderContentType, "text/plain")
	panic("late")
}

// siteOptions configure a site.
type siteOptions struct {
	fast             bool     // a FastServer in front of the http.Server
	headers          []string // FastConfig.Headers; nil: checkHeaders
	readHeader, idle time.Duration
	log              *slog.Logger // nil: JSON lines into site.logs
}

// site is the fixture served one way.
type site struct {
	fast     *httpapi.FastServer // nil: plain net/http
	srv      *http.Server
	dial     func() (net.Conn, error)
	served   chan error // what Serve returned
	fastRuns atomic.Int64
	echoRuns atomic.Int64
	logs     testenv.LockedBuffer

	mu   sync.Mutex
	seen []observed

	entered, release chan struct{} // /wait's
}

func newSite(o siteOptions) *site {
	s := &site{served: make(chan error, 1), entered: make(chan struct{}), release: make(chan struct{})}
	log := o.log
	if log == nil {
		log = slog.New(slog.NewJSONHandler(&s.logs, nil))
	}
	chain := httpapi.ChainConfig{Log: log, Observe: s.observe}
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = httpapi.ErrorHandler(log)
	e.Use(httpapi.Chain(chain))
	routes := s.routes(e)
	s.srv = &http.Server{Handler: e, ReadHeaderTimeout: o.readHeader, IdleTimeout: o.idle, MaxHeaderBytes: maxHeaderBytes}
	if o.fast {
		headers := o.headers
		if headers == nil {
			headers = checkHeaders
		}
		s.fast = httpapi.NewFastServer(s.srv, httpapi.FastConfig{Chain: chain, Routes: routes, Headers: headers})
	}
	return s
}

// routes adds the routes to e, and returns them as the fast path's.
func (s *site) routes(e *echo.Echo) map[string]httpapi.FastRoute {
	logics := map[string]logic{
		"/check": check, "/long": long, "/health": health,
		"/panic":      func(http.Header, string, http.Header) verdict { panic(errors.New("boom")) },
		"/panic-late": panicLate,
		"/abort":      func(http.Header, string, http.Header) verdict { panic(http.ErrAbortHandler) },
		"/wait":       s.wait,
	}
	routes := make(map[string]httpapi.FastRoute, len(logics)+1)
	// A handler that answers, then panics: its answer stands.
	e.GET("/panic-answered", func(c echo.Context) error {
		s.echoRuns.Add(1)
		_ = c.NoContent(http.StatusAccepted)
		panic("after the answer")
	})
	routes["/panic-answered"] = httpapi.FastRoute{Methods: []string{http.MethodGet}, Serve: func(x *httpapi.Exchange) {
		s.fastRuns.Add(1)
		x.NoContent(http.StatusAccepted)
		panic("after the answer")
	}}
	for path, f := range logics {
		methods := []string{http.MethodGet}
		if path == "/check" {
			methods = checkMethods
			e.Any(path, s.echoHandler(f))
		} else {
			e.GET(path, s.echoHandler(f))
		}
		routes[path] = httpapi.FastRoute{Methods: methods, Serve: s.fastHandler(f)}
	}
	return routes
}

// wait is /wait: it tells entered, and answers once release is closed.
func (s *site) wait(http.Header, string, http.Header) verdict {
	s.entered <- struct{}{}
	<-s.release
	return verdict{status: http.StatusOK}
}

func (s *site) echoHandler(f logic) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.echoRuns.Add(1)
		v := f(c.Request().Header, httpapi.RequestID(c), c.Response().Header())
		httpapi.SetCaller(c, v.keyID, v.owner)
		httpapi.SetDecision(c, v.decision)
		if v.body == nil {
			return c.NoContent(v.status)
		}
		return c.JSONBlob(v.status, v.body)
	}
}

func (s *site) fastHandler(f logic) func(*httpapi.Exchange) {
	return func(x *httpapi.Exchange) {
		s.fastRuns.Add(1)
		v := f(x.Header, x.RequestID(), x.ResponseHeader())
		x.SetCaller(v.keyID, v.owner)
		x.SetDecision(v.decision)
		if v.body == nil {
			x.NoContent(v.status)
			return
		}
		x.JSONBlob(v.status, v.body)
	}
}

func (s *site) observe(route string, status int, _ time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, observed{route, status})
}

func (s *site) observations() []observed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// logLines are the site's log records, without what differs between two
// runs (time, latency, stack, new request ids).
func (s *site) logLines(t *testing.T) []map[string]any {
	t.Helper()
	out := lines(t, s.logs.String())
	for _, m := range out {
		if id, ok := m["request_id"].(string); ok {
			m["request_id"] = normalise(id)
		}
	}
	return out
}

func (s *site) serve(l net.Listener) {
	go func() {
		if s.fast != nil {
			s.served <- s.fast.Serve(l)
			return
		}
		s.served <- s.srv.Serve(l)
	}()
}

func (s *site) shutdown(ctx context.Context) error {
	if s.fast != nil {
		return s.fast.Shutdown(ctx)
	}
	return s.srv.Shutdown(ctx)
}

// stop shuts s down, and checks that Serve returned http.ErrServerClosed.
func (s *site) stop(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.shutdown(ctx); err != nil {
		tb.Errorf("Shutdown: %v", err)
	}
	if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
		tb.Errorf("Serve returned %v, want http.ErrServerClosed", err)
	}
}

// startTCP serves a site on a loopback TCP listener until the test ends;
// its connections have a deadline of 10 s, which no test waits for.
func startTCP(tb testing.TB, o siteOptions) *site {
	tb.Helper()
	if o.readHeader == 0 && o.idle == 0 {
		o.readHeader, o.idle = readHeaderTimeout, idleTimeout
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := newSite(o)
	s.dial = func() (net.Conn, error) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			err = c.SetDeadline(time.Now().Add(10 * time.Second))
		}
		return c, err
	}
	s.serve(l)
	tb.Cleanup(func() { s.stop(tb) })
	return s
}

// startPipes serves a site on in-memory connections (net.Pipe), for a
// testing/synctest bubble: their deadlines run on the bubble's clock, and
// a goroutine that waits on one is durably blocked. Stop it with stop.
// Its clients' ends have a deadline of an hour on the bubble's clock, so
// that a test waiting on a server that never answers fails rather than
// deadlocks.
func startPipes(o siteOptions) *site {
	l := httpapi.NewPipeListener()
	s := newSite(o)
	s.dial = func() (net.Conn, error) {
		c, err := l.Dial()
		if err == nil {
			err = c.SetDeadline(time.Now().Add(time.Hour))
		}
		return c, err
	}
	s.serve(l)
	return s
}

// connect opens a connection to s, closed when the test ends.
func (s *site) connect(tb testing.TB) net.Conn {
	tb.Helper()
	c, err := s.dial()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// exchange writes raw on a new TCP connection to s, closes the
// connection's writing half, and returns all s wrote until it closed the
// connection.
func (s *site) exchange(tb testing.TB, raw string) string {
	tb.Helper()
	c := s.connect(tb)
	if _, err := io.WriteString(c, raw); err != nil {
		tb.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		tb.Fatalf("reading the answer: %v, after %q", err, b)
	}
	return string(b)
}

// roundTrips writes each of reqs on one connection to s, reading the
// answer to each before it writes the next, and returns the answers.
func (s *site) roundTrips(tb testing.TB, reqs []string) []string {
	tb.Helper()
	c := s.connect(tb)
	br := bufio.NewReader(c)
	answers := make([]string, 0, len(reqs))
	for _, req := range reqs {
		if _, err := io.WriteString(c, req); err != nil {
			tb.Fatal(err)
		}
		a, err := readAnswer(br)
		if err != nil {
			tb.Fatalf("reading the answer to %.60q: %v, after %q", req, err, a)
		}
		answers = append(answers, a)
	}
	return answers
}

// readAnswer reads one answer: its head, and a body of its Content-Length.
func readAnswer(br *bufio.Reader) (string, error) {
	var b strings.Builder
	length := 0
	for {
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String(), err
		}
		if line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, length)
	n, err := io.ReadFull(br, body)
	b.Write(body[:n])
	return b.String(), err
}

var (
	dateLine    = regexp.MustCompile(`\r\nDate: [^\r]*\r\n`)
	generatedID = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
)

// normalise replaces what differs between two answers to one request, the
// Date and new request ids.
func normalise(answer string) string {
	answer = dateLine.ReplaceAllString(answer, "\r\nDate: (date)\r\n")
	return generatedID.ReplaceAllString(answer, "(new id)")
}

// statusOf is the status of the answer a begins with, 0 for none.
func statusOf(a string) int {
	line, _, _ := strings.Cut(a, "\r\n")
	if f := strings.Fields(line); len(f) > 1 {
		n, _ := strconv.Atoi(f[1])
		return n
	}
	return 0
}

// answersAlike sends c's request to fast and to plain (sameAnswer), checks
// net/http's status, and that fast's fast path answered fastRuns requests.
func answersAlike(t *testing.T, fast, plain *site, c rawCase, fastRuns int64) {
	t.Helper()
	before := fast.fastRuns.Load()
	got := sameAnswer(t, fast, plain, c.raw)
	if s := statusOf(got); s != c.status {
		t.Errorf("status %d, want %d", s, c.status)
	}
	if n := fast.fastRuns.Load() - before; n != fastRuns {
		t.Errorf("the fast path answered %d requests, want %d", n, fastRuns)
	}
}

// sameAnswer sends raw to fast and to plain, each on a new connection,
// fails unless they answered the same bytes (but for the Date and new
// request ids), and returns fast's answer.
func sameAnswer(t *testing.T, fast, plain *site, raw string) string {
	t.Helper()
	want := plain.exchange(t, raw)
	got := fast.exchange(t, raw)
	if d := cmp.Diff(normalise(want), normalise(got)); d != "" {
		t.Errorf("answer to %.80q (-net/http +FastServer):\n%s", raw, d)
	}
	return got
}

// head is a request head of lines.
func head(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

// paddedHead is a head of lines and a field X-Pad, size bytes long.
func paddedHead(size int, lines ...string) string {
	n := size - len(head(append(lines, "X-Pad: ")...))
	return head(append(lines, "X-Pad: "+strings.Repeat("p", n))...)
}

const (
	getCheck = "GET /check HTTP/1.1"
	host     = "Host: keygate"
	goodKey  = "X-Api-Key: good"
)

// rawCase is a request, and the status net/http answers it with.
type rawCase struct {
	name   string
	raw    string
	status int
}

// fastCases are requests the fast path answers.
var fastCases = []rawCase{
	{"good_key", head(getCheck, host, goodKey), 200},
	{"bad_key", head(getCheck, host, "X-Api-Key: bad"), 401},
	{"no_key", head(getCheck, host), 401},
	{"empty_key", head(getCheck, host, "X-Api-Key:"), 401},
	{"key_with_obs_text", head(getCheck, host, "X-Api-Key: caf\xe9"), 401},
	{"client_request_id", head(getCheck, host, goodKey, "X-Request-Id: req-1.A_b"), 200},
	{"client_request_id_in_an_error", head(getCheck, host, "X-Request-Id: req-2"), 401},
	{"invalid_request_id", head(getCheck, host, goodKey, "X-Request-Id: bad id!"), 200},
	{"request_id_too_long", head(getCheck, host, "X-Request-Id: "+strings.Repeat("r", httpapi.MaxRequestIDLen+1)), 401},
	{"empty_request_id", head(getCheck, host, "X-Request-Id:"), 401},
	{"two_request_ids", head(getCheck, host, "X-Request-Id: first", "X-Request-Id: second"), 401},
	{"names_in_odd_case", head(getCheck, "hOSt: keygate", "x-API-kEY: good", "x-request-ID: odd-1"), 200},
	{"duplicate_keys", head(getCheck, host, goodKey, "x-api-key: bad", "X-API-KEY: third"), 200},
	{"whitespace_around_values", head(getCheck, "Host:keygate \t", "X-Api-Key:\t good \t"), 200},
	{"content_length_0", head("POST /check HTTP/1.1", host, "Content-Length: 0", goodKey), 200},
	{"content_length_0_twice", head("PUT /check HTTP/1.1", host, "Content-Length: 0", "content-length: 0"), 401},
	{"extra_fields", head(getCheck, host, "User-Agent: curl/8.5", "Accept: */*", "X-Forwarded-For: 192.0.2.1",
		"X-Odd!#$%&'*+.^_`|~: a token", "X-A-Field-Name-Longer-Than-Any-Rule: v", "X-Empty:", "X-Latin: caf\xe9", goodKey), 200},
	{"host_with_port", head(getCheck, "Host: 127.0.0.1:8080", goodKey), 200},
	{"ipv6_host", head(getCheck, "Host: [::1]:8080"), 401},
	{"empty_host", head(getCheck, "Host:", goodKey), 200},
	{"post", head("POST /check HTTP/1.1", host, goodKey), 200},
	{"put", head("PUT /check HTTP/1.1", host, goodKey), 200},
	{"patch", head("PATCH /check HTTP/1.1", host, "X-Api-Key: bad"), 401},
	{"delete", head("DELETE /check HTTP/1.1", host, goodKey), 200},
	{"options", head("OPTIONS /check HTTP/1.1", host, goodKey), 200},
	{"health", head("GET /health HTTP/1.1", host), 200},
	{"head_of_FastHeadSize", paddedHead(httpapi.FastHeadSize, getCheck, host, goodKey), 200},
	{"kept_field_with_a_long_name", head("GET /long HTTP/1.1", host, longField+": abc"), 200},
}

// smuggled is a request in another's body.
var smuggled = head(getCheck, host, goodKey, "X-Request-Id: smuggled")

// handOffCases are requests the fast path leaves to net/http.
var handOffCases = []rawCase{
	{"http_1_0", "GET /check HTTP/1.0\r\nHost: keygate\r\nX-Api-Key: good\r\n\r\n", 200},
	{"head_method", head("HEAD /check HTTP/1.1", host, goodKey), 200},
	{"method_not_the_routes", head("PROPFIND /check HTTP/1.1", host, goodKey), 200},
	{"method_in_lower_case", head("get /check HTTP/1.1", host, goodKey), 405},
	{"method_of_another_route", head("POST /health HTTP/1.1", host), 405},
	{"query", head("GET /check?x=1 HTTP/1.1", host, goodKey), 200},
	{"double_slash", head("GET //check HTTP/1.1", host, goodKey), 404},
	{"absolute_form", head("GET http://keygate/check HTTP/1.1", host, goodKey), 200},
	{"no_route", head("GET /nowhere HTTP/1.1", host), 404},
	{"two_spaces_in_request_line", head("GET  /check HTTP/1.1", host, goodKey), 400},
	{"leading_empty_line", "\r\n" + head(getCheck, host, goodKey), 400},
	{"lf_only", "GET /check HTTP/1.1\nHost: keygate\nX-Api-Key: good\n\n", 200},
	{"one_line_ends_in_lf", "GET /check HTTP/1.1\r\nHost: keygate\nX-Api-Key: good\r\n\r\n", 200},
	{"folded_line", head(getCheck, host, goodKey, " folded"), 401},
	{"space_before_colon", head(getCheck, host, "X-Api-Key : good"), 400},
	{"control_byte_in_value", head(getCheck, host, "X-Api-Key: go\x01od"), 400},
	{"no_host", head(getCheck, goodKey), 400},
	{"two_hosts", head(getCheck, host, "Host: other", goodKey), 400},
	{"invalid_host", head(getCheck, "Host: key gate", goodKey), 400},
	{"chunked_body", head("POST /check HTTP/1.1", host, goodKey, "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n", 200},
	{"body", head("POST /check HTTP/1.1", host, goodKey, "Content-Length: "+strconv.Itoa(len(smuggled))) + smuggled, 200},
	{"content_length_00", head("POST /check HTTP/1.1", host, goodKey, "Content-Length: 00"), 200},
	{"connection_close", head(getCheck, host, goodKey, "Connection: close"), 200},
	{"connection_keep_alive", head(getCheck, host, goodKey, "Connection: keep-alive"), 200},
	{"expect_100_continue", head(getCheck, host, goodKey, "Expect: 100-continue"), 200},
	{"expect_other", head(getCheck, host, goodKey, "Expect: coffee"), 417},
	{"upgrade", head(getCheck, host, goodKey, "Upgrade: websocket"), 200},
	{"head_over_FastHeadSize", paddedHead(httpapi.FastHeadSize+1, getCheck, host, goodKey), 200},
	{"head_of_6_KiB", paddedHead(6<<10, getCheck, host, goodKey), 200},
	{"head_over_MaxHeaderBytes", paddedHead(80<<10, getCheck, host, goodKey), 431},
}

// TestFastAnswersAsNetHTTP: the fast path answers its requests with the
// bytes net/http answers them with, and Chain's access lines and
// observations are the same.
func TestFastAnswersAsNetHTTP(t *testing.T) {
	fast, plain := startTCP(t, siteOptions{fast: true}), startTCP(t, siteOptions{})
	for _, c := range fastCases {
		t.Run(c.name, func(t *testing.T) { answersAlike(t, fast, plain, c, 1) })
	}
	if n := fast.echoRuns.Load(); n != 0 {
		t.Errorf("Echo's handlers answered %d requests, want none", n)
	}
	if d := cmp.Diff(plain.logLines(t), fast.logLines(t)); d != "" {
		t.Errorf("log (-net/http +FastServer):\n%s", d)
	}
	if d := cmp.Diff(plain.observations(), fast.observations(), cmp.AllowUnexported(observed{})); d != "" {
		t.Errorf("observed (-net/http +FastServer):\n%s", d)
	}
}

// TestFastHandsOffWhatItDoesNotTake: what the fast path does not take,
// valid or not, net/http answers, as it would alone. The fast path takes
// the same requests when its routes read the fields that decide which it
// takes.
func TestFastHandsOffWhatItDoesNotTake(t *testing.T) {
	plain := startTCP(t, siteOptions{})
	for _, v := range []struct {
		name    string
		headers []string
	}{
		{"fast", checkHeaders},
		{"routes_read_refused_fields", append(slices.Clone(checkHeaders),
			"Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "Expect")},
	} {
		fast := startTCP(t, siteOptions{fast: true, headers: v.headers})
		t.Run(v.name, func(t *testing.T) {
			for _, c := range handOffCases {
				t.Run(c.name, func(t *testing.T) { answersAlike(t, fast, plain, c, 0) })
			}
		})
	}
}

// TestFastKeepsConnectionAcrossHandOff: a connection whose first request
// the fast path answers and whose second goes to net/http keeps going, in
// net/http, whether the client waits for each answer or not.
func TestFastKeepsConnectionAcrossHandOff(t *testing.T) {
	fast, plain := startTCP(t, siteOptions{fast: true}), startTCP(t, siteOptions{})
	first := head(getCheck, host, goodKey, "X-Request-Id: first")
	third := head(getCheck, host, "X-Api-Key: bad", "X-Request-Id: third")
	post := head("POST /check HTTP/1.1", host, goodKey, "Content-Length: 0")
	for _, c := range []struct {
		name    string
		reqs    []string
		anyPath bool // the fast path may answer the later requests too
	}{
		{"query_between", []string{first, head("GET /check?x=1 HTTP/1.1", host, goodKey), third}, false},
		{"no_route_between", []string{first, head("GET /nowhere HTTP/1.1", host), third}, false},
		{"body_between", []string{first, head("POST /check HTTP/1.1", host, "Content-Length: 2") + "{}", third}, false},
		// net/http skips the empty lines an old client sends after a
		// POST's body (RFC 9112, section 2.2), after the fast path's too.
		{"empty_line_after_a_post", []string{post, "\r\n" + third, first}, true},
	} {
		checkRuns := func(t *testing.T, before int64) {
			t.Helper()
			if n := fast.fastRuns.Load() - before; n != 1 && !(c.anyPath && n > 1) {
				t.Errorf("the fast path answered %d requests, want 1", n)
			}
		}
		t.Run(c.name+"/one_at_a_time", func(t *testing.T) {
			before := fast.fastRuns.Load()
			want, got := plain.roundTrips(t, c.reqs), fast.roundTrips(t, c.reqs)
			for i := range want {
				if d := cmp.Diff(normalise(want[i]), normalise(got[i])); d != "" {
					t.Errorf("answer %d (-net/http +FastServer):\n%s", i+1, d)
				}
			}
			checkRuns(t, before)
		})
		t.Run(c.name+"/pipelined", func(t *testing.T) {
			before := fast.fastRuns.Load()
			sameAnswer(t, fast, plain, strings.Join(c.reqs, ""))
			checkRuns(t, before)
		})
	}
}

// TestFastPipelines: requests written at once, more than FastHeadSize of
// them, are answered in order, each as net/http answers it.
func TestFastPipelines(t *testing.T) {
	fast, plain := startTCP(t, siteOptions{fast: true}), startTCP(t, siteOptions{})
	const n = 50
	var raw strings.Builder
	for i := range n {
		key := "good"
		if i%3 == 0 {
			key = "bad"
		}
		raw.WriteString(head(getCheck, host, "X-Api-Key: "+key, fmt.Sprintf("X-Request-Id: req-%02d", i),
			"X-Pad: "+strings.Repeat("p", 100)))
	}
	if raw.Len() <= httpapi.FastHeadSize {
		t.Fatalf("%d bytes of requests, want more than FastHeadSize", raw.Len())
	}
	got := sameAnswer(t, fast, plain, raw.String())
	br := bufio.NewReader(strings.NewReader(got))
	for i := range n {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		if id, want := res.Header.Get(echo.HeaderXRequestID), fmt.Sprintf("req-%02d", i); id != want {
			t.Errorf("answer %d is for %s, want %s", i, id, want)
		}
	}
	if _, err := br.Peek(1); err != io.EOF {
		t.Errorf("more than %d answers", n)
	}
	if runs := fast.fastRuns.Load(); runs != n {
		t.Errorf("the fast path answered %d requests, want %d", runs, n)
	}
}

// TestFastPanicIs500: a fast handler's panic is answered 500, as Chain and
// ErrorHandler answer an Echo handler's, logged alike, and the connection
// goes on.
func TestFastPanicIs500(t *testing.T) {
	fast, plain := startTCP(t, siteOptions{fast: true}), startTCP(t, siteOptions{})
	after := head(getCheck, host, goodKey, "X-Request-Id: after")
	for path, status := range map[string]int{"/panic": 500, "/panic-late": 500, "/panic-answered": 202} {
		t.Run(path[1:], func(t *testing.T) {
			before := fast.fastRuns.Load()
			reqs := []string{head("GET "+path+" HTTP/1.1", host, "X-Request-Id: panicked"), after}
			want, got := plain.roundTrips(t, reqs), fast.roundTrips(t, reqs)
			if statusOf(want[0]) != status || statusOf(want[1]) != 200 {
				t.Fatalf("net/http answered %q", want)
			}
			for i := range want {
				if d := cmp.Diff(normalise(want[i]), normalise(got[i])); d != "" {
					t.Errorf("answer %d (-net/http +FastServer):\n%s", i+1, d)
				}
			}
			if n := fast.fastRuns.Load() - before; n != 2 {
				t.Errorf("the fast path answered %d requests, want 2", n)
			}
		})
	}
	if d := cmp.Diff(plain.logLines(t), fast.logLines(t)); d != "" {
		t.Errorf("log (-net/http +FastServer):\n%s", d)
	}
}

// abortChild names the variable that makes TestFastAbortHandler the child.
const abortChild = "KEYGATE_FAST_ABORT_CHILD"

// TestFastAbortHandler: a fast handler's http.ErrAbortHandler closes the
// connection without an answer, as net/http does, and the server goes on.
// A panic that nothing recovers ends the process: the servers run in a
// child, this test binary run again for this test alone.
func TestFastAbortHandler(t *testing.T) {
	if os.Getenv(abortChild) == "1" {
		abortThenServe(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFastAbortHandler$", "-test.count=1")
	cmd.Env = append(os.Environ(), abortChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) > 2000 {
			out = out[:2000]
		}
		t.Fatalf("the process serving an aborted request failed (%v):\n%s", err, out)
	}
}

func abortThenServe(t *testing.T) {
	fast, plain := startTCP(t, siteOptions{fast: true}), startTCP(t, siteOptions{})
	abort, good := head("GET /abort HTTP/1.1", host), head(getCheck, host, goodKey)
	if got := sameAnswer(t, fast, plain, abort); got != "" {
		t.Errorf("answered %q to an aborted request, want nothing", got)
	}
	// The answers to the requests before it are written (net/http writes
	// each before it reads the next).
	if got := sameAnswer(t, fast, plain, good+abort+good); statusOf(got) != 200 {
		t.Errorf("answered %q to a request before an aborted one", got)
	}
	if got := fast.exchange(t, good); statusOf(got) != 200 {
		t.Errorf("after the abort, answered %q", got)
	}
	if n := fast.fastRuns.Load(); n != 4 {
		t.Errorf("the fast path served %d requests, want 4", n)
	}
}

// client is a connection in a synctest bubble, and what it saw when.
type client struct {
	c      net.Conn
	br     *bufio.Reader
	start  time.Time
	events []string
}

func (cl *client) note(format string, args ...any) {
	cl.events = append(cl.events, time.Since(cl.start).String()+": "+fmt.Sprintf(format, args...))
}

// step is what a client does next.
type step func(*client)

func sleep(d time.Duration) step { return func(*client) { time.Sleep(d) } }

func send(raw string) step {
	return func(cl *client) {
		if _, err := io.WriteString(cl.c, raw); err != nil {
			cl.note("write failed: %v", err)
		}
	}
}

func answer(cl *client) {
	a, err := readAnswer(cl.br)
	if err != nil {
		cl.note("no answer: %v", err)
		return
	}
	cl.note("answer %d", statusOf(a))
}

func closed(cl *client) {
	rest, err := io.ReadAll(cl.br)
	cl.note("closed after %q, %v", rest, err)
}

// timeline runs steps on a new connection to a site with keygate's
// timeouts, in a synctest bubble, and returns what the client saw.
func timeline(t *testing.T, fast bool, steps []step) (events []string) {
	synctest.Test(t, func(t *testing.T) {
		s := startPipes(siteOptions{fast: fast, readHeader: readHeaderTimeout, idle: idleTimeout})
		c, err := s.dial()
		if err != nil {
			t.Fatal(err)
		}
		cl := &client{c: c, br: bufio.NewReader(c), start: time.Now()}
		for _, st := range steps {
			st(cl)
		}
		c.Close()
		s.stop(t)
		events = cl.events
	})
	return events
}

// TestFastTimeouts: the fast path closes a connection when net/http would,
// by the http.Server's ReadHeaderTimeout and IdleTimeout, on the clock of
// a synctest bubble.
func TestFastTimeouts(t *testing.T) {
	// The parts end at line ends: net/http answers 400 to a request line
	// cut short by the timeout (bufio gives it the part as a line), which
	// a pipe's writer would wait on.
	parts := []string{getCheck + "\r\n", host + "\r\n", goodKey + "\r\n\r\n"}
	good := strings.Join(parts, "")
	half, rest := parts[0]+parts[1], parts[2]
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"nothing_sent", []step{closed}},
		{"half_a_head", []step{send(half), closed}},
		{"head_in_parts_within_the_timeout", []step{send(parts[0]), sleep(4 * time.Second), send(parts[1]),
			sleep(4 * time.Second), send(rest), answer, closed}},
		{"head_in_parts_beyond_the_timeout", []step{send(parts[0]), sleep(6 * time.Second), send(parts[1]),
			sleep(6 * time.Second), send(rest), closed}},
		{"idle_after_an_answer", []step{send(good), answer, closed}},
		{"idle_after_a_hand_off", []step{send(head("GET /check?x=1 HTTP/1.1", host)), answer, closed}},
		{"request_after_an_idle_time", []step{send(good), answer, sleep(100 * time.Second), send(good), answer, closed}},
		{"half_a_head_after_an_answer", []step{send(good), answer, sleep(5 * time.Second), send(half), closed}},
		{"head_in_two_parts_after_an_idle_time", []step{send(good), answer, sleep(30 * time.Second), send(half),
			sleep(time.Second), send(rest), answer, closed}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, got := timeline(t, false, c.steps), timeline(t, true, c.steps)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("what the client saw (-net/http +FastServer):\n%s", d)
			}
		})
	}
}

// TestFastShutdown: Shutdown closes the idle connections, the fast path's
// and those handed to net/http, at once; lets a request being served be
// answered; returns nil when all are closed, or ctx's error first when ctx
// ends (closing what is left); and Serve returns http.ErrServerClosed.
func TestFastShutdown(t *testing.T) {
	good := head(getCheck, host, goodKey)
	wait := head("GET /wait HTTP/1.1", host)
	t.Run("all_close", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := startPipes(siteOptions{fast: true, readHeader: readHeaderTimeout, idle: idleTimeout})
			idleFast, idleNet, busy := s.connect(t), s.connect(t), s.connect(t)
			roundTrip(t, idleFast, good)
			roundTrip(t, idleNet, head("GET /check?x=1 HTTP/1.1", host, goodKey))
			write(t, busy, wait)
			<-s.entered
			start := time.Now()
			done := make(chan error, 1)
			go func() { done <- s.fast.Shutdown(context.Background()) }()
			synctest.Wait()
			select {
			case err := <-done:
				t.Fatalf("Shutdown returned %v while a request was served", err)
			default:
			}
			for name, c := range map[string]net.Conn{"fast": idleFast, "handed-off": idleNet} {
				if b, err := io.ReadAll(c); err != nil || len(b) > 0 || time.Since(start) > 0 {
					t.Errorf("idle %s connection: read %q, %v after %v; want it closed at once", name, b, err, time.Since(start))
				}
			}
			if _, err := s.dial(); err == nil {
				t.Error("a connection was accepted after Shutdown")
			}
			close(s.release)
			if a := readOne(t, busy); statusOf(a) != 200 {
				t.Errorf("the request being served was answered %q", a)
			}
			if err := <-done; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
			}
		})
	})
	t.Run("ctx_ends_first", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := startPipes(siteOptions{fast: true, readHeader: readHeaderTimeout, idle: idleTimeout})
			busy := s.connect(t)
			write(t, busy, wait)
			<-s.entered
			// Between two of Shutdown's polls (every 10 ms).
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second+5*time.Millisecond)
			defer cancel()
			if err := s.fast.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown: %v, want context.DeadlineExceeded", err)
			}
			if b, err := io.ReadAll(busy); err != nil || len(b) > 0 {
				t.Errorf("the connection still serving: read %q, %v; want it closed", b, err)
			}
			busy.Close()
			close(s.release)
			if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
			}
		})
	})
}

// roundTrip writes req on c and reads one answer.
func roundTrip(tb testing.TB, c net.Conn, req string) string {
	tb.Helper()
	write(tb, c, req)
	return readOne(tb, c)
}

func write(tb testing.TB, c net.Conn, raw string) {
	tb.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		tb.Fatal(err)
	}
}

// readOne reads one answer on c, which has nothing buffered.
func readOne(tb testing.TB, c net.Conn) string {
	tb.Helper()
	a, err := readAnswer(bufio.NewReader(c))
	if err != nil {
		tb.Fatalf("reading an answer: %v, after %q", err, a)
	}
	return a
}

// FuzzFastHead: a head the fast path takes is one net/http reads as the
// same request, and accepts as it is: the same method, target and Host,
// no body, nothing asking for more than a plain answer, every field valid,
// one Host, and the fields the routes read with the same values; net/http
// reads all of it as that one request. Each input is a head, and the
// fields of one after a fast request line, which random bytes seldom keep.
func FuzzFastHead(f *testing.F) {
	for _, c := range slices.Concat(fastCases, handOffCases) {
		f.Add([]byte(c.raw))
		_, fields, _ := strings.Cut(c.raw, "\n")
		f.Add([]byte(fields))
	}
	s := newSite(siteOptions{fast: true}).fast
	f.Fuzz(func(t *testing.T, b []byte) {
		checkHead(t, s, b)
		checkHead(t, s, append([]byte(getCheck+"\r\n"), b...))
	})
}

// checkHead checks the head b begins with, if s's fast path takes it.
func checkHead(t *testing.T, s *httpapi.FastServer, b []byte) {
	t.Helper()
	end := httpapi.HeadEnd(b)
	if end < 0 || end > httpapi.FastHeadSize {
		return
	}
	b = b[:end]
	x, ok := s.TakeHead(b)
	if !ok {
		return
	}
	br := bufio.NewReader(bytes.NewReader(b))
	req, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("the fast path takes %q, which net/http refuses: %v", b, err)
	}
	if _, err := br.Peek(1); err != io.EOF {
		t.Errorf("net/http reads %q as a shorter request", b)
	}
	checkTaken(t, b, x, req)
}

// checkTaken checks that the head b, which the fast path read as x, is
// the request net/http read as req, and one its server accepts as it is.
func checkTaken(t *testing.T, b []byte, x *httpapi.Exchange, req *http.Request) {
	t.Helper()
	type request struct {
		Method, RequestURI, Host, Proto string
		ContentLength                   int64
		TransferEncoding                []string
		Close                           bool
	}
	want := request{req.Method, req.RequestURI, req.Host, req.Proto, req.ContentLength, req.TransferEncoding, req.Close}
	got := request{x.Method, x.RequestURI, x.Host, "HTTP/1.1", 0, nil, false}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("head %q (-net/http +fast path):\n%s", b, d)
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	_, _ = tp.ReadLine()
	fields, err := tp.ReadMIMEHeader() // with Host, which ReadRequest leaves out
	if err != nil {
		t.Fatalf("head %q: %v", b, err)
	}
	if n := len(fields["Host"]); n != 1 || !httpguts.ValidHostHeader(req.Host) {
		t.Errorf("head %q: %d Host fields, the first %q", b, n, req.Host)
	}
	for name, values := range fields {
		if !httpguts.ValidHeaderFieldName(name) || slices.ContainsFunc(values, func(v string) bool { return !httpguts.ValidHeaderFieldValue(v) }) {
			t.Errorf("head %q: field %q: %q is not valid", b, name, values)
		}
	}
	for _, name := range []string{"Connection", "Upgrade", "Expect"} {
		if _, ok := fields[name]; ok {
			t.Errorf("head %q has %s", b, name)
		}
	}
	kept := append(slices.Clone(checkHeaders), echo.HeaderXRequestID)
	for _, name := range kept {
		if d := cmp.Diff(fields[name], x.Header[name], cmpopts.EquateEmpty()); d != "" {
			t.Errorf("head %q: field %s (-net/http +fast path):\n%s", b, name, d)
		}
	}
	for name := range x.Header {
		if !slices.Contains(kept, name) {
			t.Errorf("head %q: the fast path kept %s, which no route reads", b, name)
		}
	}
}

// BenchmarkFastServe is one connection's round trips through a FastServer
// (compare BenchmarkNetHTTPServe), logging access lines as keygate does.
func BenchmarkFastServe(b *testing.B) { benchServe(b, true) }

// BenchmarkNetHTTPServe is BenchmarkFastServe through the plain
// http.Server.
func BenchmarkNetHTTPServe(b *testing.B) { benchServe(b, false) }

func benchServe(b *testing.B, fast bool) {
	for _, c := range []struct{ name, raw string }{
		{"check", head(getCheck, host, goodKey, "X-Request-Id: bench-1")},
		{"health", head("GET /health HTTP/1.1", host)},
	} {
		b.Run(c.name, func(b *testing.B) {
			out := httpapi.NewLogWriter(io.Discard, time.Hour)
			b.Cleanup(func() { _ = out.Close() })
			s := startTCP(b, siteOptions{fast: fast, log: slog.New(httpapi.NewHandler(out, slog.LevelInfo))})
			conn := s.connect(b)
			if err := conn.SetDeadline(time.Time{}); err != nil {
				b.Fatal(err)
			}
			br := bufio.NewReader(conn)
			raw := []byte(c.raw)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.Write(raw); err != nil {
					b.Fatal(err)
				}
				if err := skipAnswer(br); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// skipAnswer reads one answer of 200 as readAnswer does, allocating
// nothing.
func skipAnswer(br *bufio.Reader) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("answer %q", line)
	}
	length := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) == 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			for _, d := range bytes.TrimSpace(v) {
				length = 10*length + int(d-'0')
			}
		}
	}
	_, err = br.Discard(length)
	return err
}

// TestFastRefusesLongHeaderNames: a field name the fast path could not
// match (longer than it lowers) is refused when the server is built, not
// silently never kept.
func TestFastRefusesLongHeaderNames(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewFastServer took a 65-byte field name")
		}
	}()
	httpapi.NewFastServer(&http.Server{}, httpapi.FastConfig{Headers: []string{"X-" + strings.Repeat("a", 63)}})
}
