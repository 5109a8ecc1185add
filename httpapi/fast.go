package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// FastServer serves a listener's simplest requests itself, and every other
// request through an http.Server.
//
// A forward-auth check is a small request with no body, answered with a
// few headers and at most a short JSON body, and a proxy sends one for
// every request it serves. net/http spends more on such a request than
// keygate's whole decision: a Request and its URL, a header map of every
// field, a response header map and its copy, deadlines set twice. FastServer
// reads the connection itself; a request whose target is exactly one of
// its routes, with one of the route's methods, that is HTTP/1.1, fits in
// FastHeadSize bytes, has no body and nothing that asks for more than a
// plain answer (Transfer-Encoding, a Content-Length other than 0,
// Connection, Upgrade, Expect) and that net/http would accept as it is
// (parseHead), it answers as the Echo route would: the same handler
// logic, Chain's request id, access line and observer, and the bytes
// net/http would write (TestFastAnswersAsNetHTTP). At the first request
// that is not such, FastServer hands the connection to the http.Server,
// with the bytes it has read, and keeps out of it for the rest of its life:
// net/http then reads that request and answers it, 400 and 431 included.
// So the fast path never decides anything net/http would refuse, and a
// request is never split differently by the two.
type FastServer struct {
	srv     *http.Server
	routes  map[string]*fastRoute
	keep    map[string]headerRule
	access  *accessLog
	observe Observer
	log     *slog.Logger // panics; nil: not logged

	readHeader, idle time.Duration

	handoff           chanListener
	served, handedOff atomic.Uint64
	closing           atomic.Bool
	mu                sync.Mutex
	ln                net.Listener
	conns             map[*fastConn]struct{}
}

// FastHeadSize is the longest request head the fast path reads: a longer
// one is handed to net/http, which accepts up to its MaxHeaderBytes.
const FastHeadSize = 4 << 10

// FastRoute is a route that FastServer answers itself.
type FastRoute struct {
	// Methods are the methods it answers; a request with another goes to
	// net/http. HEAD is never served here.
	Methods []string
	// Serve answers the request.
	Serve func(*Exchange)
}

type fastRoute struct {
	name    string
	methods []string
	serve   func(*Exchange)
}

// FastConfig configures a FastServer.
type FastConfig struct {
	// Chain is the listener's Chain configuration: its access log and
	// observer see the fast path's requests as they see Echo's.
	Chain ChainConfig
	// Routes are the fast path's routes by request target, which is also
	// the route's name in access lines and metrics (Echo's pattern).
	Routes map[string]FastRoute
	// Headers are the request fields the routes read, canonical names of
	// at most 64 bytes (NewFastServer panics at a longer one; X-Request-Id
	// is always read). Exchange.Header holds only these.
	Headers []string
}

// NewFastServer returns a FastServer handing what it does not serve to srv,
// whose ReadHeaderTimeout and IdleTimeout (else ReadTimeout) it keeps too.
func NewFastServer(srv *http.Server, cfg FastConfig) *FastServer {
	s := &FastServer{
		srv: srv, routes: make(map[string]*fastRoute, len(cfg.Routes)), keep: headerRules(cfg.Headers),
		access: newAccessLog(cfg.Chain.Log), observe: cfg.Chain.Observe, log: cfg.Chain.Log,
		readHeader: srv.ReadHeaderTimeout, idle: srv.IdleTimeout,
		handoff: chanListener{conns: make(chan net.Conn), closed: make(chan struct{})},
		conns:   make(map[*fastConn]struct{}),
	}
	if s.readHeader == 0 { // as net/http: 0 is ReadTimeout's, below 0 none
		s.readHeader = srv.ReadTimeout
	}
	if s.idle == 0 {
		s.idle = srv.ReadTimeout
	}
	for target, r := range cfg.Routes {
		methods := slices.DeleteFunc(slices.Clone(r.Methods), func(m string) bool { return m == http.MethodHead })
		s.routes[target] = &fastRoute{name: target, methods: methods, serve: r.Serve}
	}
	return s
}

// Serve accepts connections on l until Shutdown, and returns
// http.ErrServerClosed then.
func (s *FastServer) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.ln = l
	s.handoff.addr = l.Addr()
	s.mu.Unlock()
	httpDone := make(chan error, 1)
	go func() { httpDone <- s.srv.Serve(&s.handoff) }()
	var wait time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				<-httpDone
				return http.ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// As net/http does: out of file descriptors, say; try again.
			wait = min(max(2*wait, 5*time.Millisecond), time.Second)
			time.Sleep(wait)
			continue
		}
		wait = 0
		go s.serveConn(c)
	}
}

// Served is the number of requests the fast path answered; HandedOff the
// number of connections it gave to net/http.
func (s *FastServer) Served() uint64 { return s.served.Load() }

// HandedOff: see Served.
func (s *FastServer) HandedOff() uint64 { return s.handedOff.Load() }

// Shutdown stops accepting, closes the connections that wait for a
// request, lets those that serve one answer it first, and shuts the
// http.Server down; it returns when all are closed, or with ctx's error
// when ctx ends first (what is still open is closed then).
func (s *FastServer) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	var lnErr error
	if s.ln != nil {
		lnErr = s.ln.Close()
	}
	for fc := range s.conns {
		// Wakes a connection waiting to read; one that serves a request
		// sees closing before it waits again (fastConn.read).
		_ = fc.c.SetReadDeadline(aLongTimeAgo)
	}
	s.mu.Unlock()
	httpErr := s.srv.Shutdown(ctx)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for fc := range s.conns {
				fc.c.Close()
			}
			s.mu.Unlock()
			return errors.Join(httpErr, ctx.Err())
		case <-tick.C:
		}
	}
	if errors.Is(lnErr, net.ErrClosed) {
		lnErr = nil
	}
	return errors.Join(httpErr, lnErr)
}

var aLongTimeAgo = time.Unix(1, 0)

// track adds fc to the open connections, or reports false when the server
// is closing; untrack removes it.
func (s *FastServer) track(fc *fastConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[fc] = struct{}{}
	return true
}

func (s *FastServer) untrack(fc *fastConn) {
	s.mu.Lock()
	delete(s.conns, fc)
	s.mu.Unlock()
}

// fastConn is one connection while the fast path serves it.
type fastConn struct {
	s      *FastServer
	c      net.Conn
	buf    [FastHeadSize]byte
	r, w   int       // buf[r:w] is read and not yet served
	begun  time.Time // when the head in buf[r:w] began to arrive
	used   bool      // a request was answered
	skipCR int       // CR or LF bytes to skip, after a POST
	set    time.Time // the read deadline set
	out    []byte    // answers not yet written
	x      Exchange
	vals   []string // backing of x.Header's values
	keys   []string // the response's field names, sorted
	date   [len(http.TimeFormat)]byte
	dateAt int64
}

// fastConns holds the state of closed connections for new ones: a proxy
// such as Traefik opens a connection for most checks.
var fastConns = sync.Pool{New: func() any {
	return &fastConn{x: Exchange{Header: make(http.Header, 8), res: make(http.Header, 8)}}
}}

func (s *FastServer) serveConn(c net.Conn) {
	fc := fastConns.Get().(*fastConn)
	fc.s, fc.c = s, c
	if !s.track(fc) {
		c.Close()
		return
	}
	defer func() {
		// As net/http does: a panic ends the connection, not the process.
		// fc, in whatever state, is not reused.
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler && s.log != nil {
				s.log.Error("panic serving a connection", "remote", c.RemoteAddr().String(), "error", fmt.Sprint(r), "stack", panicStack())
			}
			c.Close()
			s.untrack(fc)
		}
	}()
	// The request's context: net/http's ends when the connection does,
	// which it learns by reading on; the fast path reads nothing while it
	// answers, so a connection's end could not end a check either.
	fc.x.RemoteAddr, fc.x.ctx = c.RemoteAddr().String(), context.Background()
	fc.x.remoteIP = remoteIP(fc.x.RemoteAddr)
	handed := fc.serve()
	s.untrack(fc)
	if handed {
		s.handOff(fc)
	} else {
		c.Close()
	}
	fc.reset()
	fastConns.Put(fc)
}

// reset makes fc ready for another connection.
func (fc *fastConn) reset() {
	fc.s, fc.c, fc.r, fc.w, fc.begun, fc.set, fc.used, fc.skipCR = nil, nil, 0, 0, time.Time{}, time.Time{}, false, 0
	if cap(fc.out) > maxPending {
		fc.out = nil
	}
	fc.out = fc.out[:0]
	clear(fc.x.Header)
	clear(fc.x.res)
	clear(fc.vals[:cap(fc.vals)])
	fc.vals = fc.vals[:0]
	fc.x = Exchange{Header: fc.x.Header, res: fc.x.res}
}

// serve answers the connection's requests until one is not the fast
// path's (true: hand the connection to net/http) or the connection ends.
func (fc *fastConn) serve() (handOff bool) {
	for {
		for fc.skipCR > 0 && fc.r < fc.w {
			if c := fc.buf[fc.r]; c != '\r' && c != '\n' {
				fc.skipCR = 0
				break
			}
			fc.r++
			fc.skipCR--
		}
		end := headEnd(fc.buf[fc.r:fc.w])
		if end < 0 {
			if fc.r > 0 {
				fc.w = copy(fc.buf[:], fc.buf[fc.r:fc.w])
				fc.r = 0
			}
			if fc.w == len(fc.buf) {
				return fc.flush()
			}
			if !fc.flush() || !fc.read() {
				return false
			}
			continue
		}
		fc.begun, fc.used = time.Time{}, true
		reserveStack(0) // see ReserveStack: the stack /auth needs, grown here
		if !fc.answer(fc.buf[fc.r : fc.r+end]) {
			return fc.flush()
		}
		fc.r += end
		if fc.x.Method == http.MethodPost {
			fc.skipCR = 4
		}
		if fc.r == fc.w {
			fc.r, fc.w = 0, 0
		}
		// Pipelined requests are answered together, in one write, up to
		// maxPending bytes of answers.
		if len(fc.out) >= maxPending && !fc.flush() {
			return false
		}
	}
}

// read waits for more of the next request, within the idle timeout when
// none has begun and the header timeout when one has, and reports whether
// it came.
func (fc *fastConn) read() bool {
	now := time.Now()
	var want time.Time
	switch {
	case fc.w == 0 && fc.used && fc.s.idle > 0:
		want = now.Add(fc.s.idle)
	case (fc.w > 0 || !fc.used) && fc.s.readHeader > 0:
		if fc.begun.IsZero() {
			fc.begun = now
		}
		want = fc.begun.Add(fc.s.readHeader)
	}
	// Setting a deadline takes the runtime's timer locks: on a busy
	// connection the idle deadline moves only once a second.
	if want.Before(fc.set) || want.Sub(fc.set) > time.Second || want.IsZero() != fc.set.IsZero() {
		if fc.c.SetReadDeadline(want) != nil {
			return false
		}
		fc.set = want
	}
	if fc.s.closing.Load() && fc.w == 0 {
		return false
	}
	// A head that this read does not complete began now: the next read
	// sees begun zero and sets it.
	n, err := fc.c.Read(fc.buf[fc.w:])
	fc.w += n
	return err == nil || n > 0 && !fc.s.closing.Load()
}

// maxPending is the most answers a connection holds before writing them.
const maxPending = 16 << 10

// flush writes the answers not yet written; it reports whether that went
// well.
func (fc *fastConn) flush() bool {
	if len(fc.out) == 0 {
		return true
	}
	_, err := fc.c.Write(fc.out)
	fc.out = fc.out[:0]
	return err == nil
}

// handOff gives the connection, and what was read of it and not served, to
// the http.Server.
func (s *FastServer) handOff(fc *fastConn) {
	s.handedOff.Add(1)
	c := &replayConn{Conn: fc.c, pending: bytes.Clone(fc.buf[fc.r:fc.w])}
	if fc.c.SetReadDeadline(time.Time{}) != nil || !s.handoff.push(c) {
		fc.c.Close()
	}
}

// headEnd returns the length of the request head that b begins with,
// through its empty line, or -1 when b holds no empty line yet. A line
// ends with "\n" here, as net/http reads it; parseHead takes only "\r\n".
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
}

// answer serves the request of head, or reports false when it is not the
// fast path's.
func (fc *fastConn) answer(head []byte) bool {
	s := fc.s
	x := &fc.x
	route, method, ok := s.route(head)
	if !ok {
		return false
	}
	// The method and target are the route's own strings, so that nothing
	// a check keeps of them holds on to the head, credential and all.
	x.Method, x.RequestURI = method, route.name
	clear(x.Header)
	fc.vals = fc.vals[:0]
	if !fc.parseHead(string(head), x) {
		return false
	}
	start := time.Now()
	clear(x.res)
	x.status, x.body, x.keyID, x.owner, x.decision = 0, nil, "", "", ""
	x.id = assignRequestID(x.Header, x.res)
	fc.run(route, x)
	elapsed := time.Since(start)
	if s.observe != nil {
		s.observe(route.name, x.status, elapsed)
	}
	if s.access.enabled(x.ctx) {
		s.access.emit(x.ctx, accessLine{
			time: start.Add(elapsed), requestID: x.id, method: x.Method, route: route.name,
			status: x.status, latency: elapsed, remoteIP: x.remoteIP,
			keyID: x.keyID, owner: x.owner, decision: x.decision,
		})
	}
	fc.out = fc.appendAnswer(fc.out, x, start.Add(elapsed))
	s.served.Add(1)
	return true
}

// run serves x by route, and turns a panic into a 500 as Chain does.
func (fc *fastConn) run(route *fastRoute, x *Exchange) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if r == http.ErrAbortHandler {
			fc.flush() // the answers before it; serveConn closes the connection
		}
		err := recovered(r, fc.s.log, x.id)
		if x.status != 0 {
			return // answered before it panicked: the answer stands, as Echo's
		}
		e := failed(fc.s.log, err, x.id)
		// As Echo's c.JSON, with its newline.
		body, _ := json.Marshal(e.body(x.id)) // strings, ints and e.Details, none of it from the client
		x.JSONBlob(e.Status, append(body, '\n'))
	}()
	route.serve(x)
	if x.status == 0 {
		x.NoContent(http.StatusOK)
	}
}

// remoteIP is the host of a connection's remote address, as Echo's
// ExtractIPDirect gives it.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// Exchange is one request that a FastServer serves itself, and its answer.
type Exchange struct {
	// Method, Host and RequestURI are the request's, as net/http gives
	// them; RemoteAddr the connection's peer.
	Method, Host, RequestURI, RemoteAddr string
	// Header holds the request's fields of FastConfig.Headers (and
	// X-Request-Id), as net/http would give them.
	Header http.Header

	ctx                    context.Context
	remoteIP               string // of RemoteAddr, for the access line
	id                     string
	res                    http.Header
	status                 int
	body                   []byte
	keyID, owner, decision string
}

// Context is the request's context: the background's (see serveConn).
func (x *Exchange) Context() context.Context { return x.ctx }

// ResponseHeader is the answer's header, as http.ResponseWriter's Header.
func (x *Exchange) ResponseHeader() http.Header { return x.res }

// RequestID is the request's id (Chain's: the client's, or a new one).
func (x *Exchange) RequestID() string { return x.id }

// SetCaller names the request's key in its access line, as SetCaller does.
func (x *Exchange) SetCaller(keyID, owner string) { x.keyID, x.owner = keyID, owner }

// SetDecision says in the access line what became of the request.
func (x *Exchange) SetDecision(decision string) { x.decision = decision }

// NoContent answers status with no body, as Echo's NoContent.
func (x *Exchange) NoContent(status int) { x.status, x.body = status, nil }

// JSONBlob answers status with body, Content-Type application/json unless
// the handler set one, as Echo's JSONBlob.
func (x *Exchange) JSONBlob(status int, body []byte) {
	if len(x.res[echo.HeaderContentType]) == 0 || x.res[echo.HeaderContentType][0] == "" {
		x.res[echo.HeaderContentType] = jsonType
	}
	x.status, x.body = status, body
}

var jsonType = []string{echo.MIMEApplicationJSON}[:1:1]

// replayConn is a connection handed to net/http: what the fast path read
// of it and did not serve comes first.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes a TCP connection, which net/http does before it
// closes one it answered with an error.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// chanListener is the listener of the http.Server: its connections are
// those the fast path hands over.
type chanListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) push(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.closed:
		return false
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
