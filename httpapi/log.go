package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Handler is keygate's log handler: slog's JSON lines into a LogWriter,
// each record written at once together with the access lines buffered
// before it. Chain's access log writes its lines straight into the same LogWriter,
// encoded by hand exactly as this handler would encode them, and leaves
// them buffered: they are the log's volume, one per request.
type Handler struct {
	json  slog.Handler
	out   *LogWriter
	level slog.Leveler
	plain bool // no attributes or groups added: the access log's own lines match
}

// NewHandler returns a Handler writing JSON lines at level and above to out.
func NewHandler(out *LogWriter, level slog.Leveler) *Handler {
	return &Handler{json: slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level}), out: out, level: level, plain: true}
}

// Enabled reports whether records at level are written.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// Handle writes r, and whatever access lines the LogWriter holds before it.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if err := h.json.Handle(ctx, r); err != nil {
		return err
	}
	return h.out.Flush()
}

// WithAttrs returns a Handler whose records carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{json: h.json.WithAttrs(attrs), out: h.out, level: h.level}
}

// WithGroup returns a Handler whose attributes are in group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{json: h.json.WithGroup(name), out: h.out, level: h.level}
}

// MaxLoggedMethodLen is the longest method an access line gives whole.
// net/http takes any token as a method, as long as the request's headers
// allow (1 MiB), and every request is logged, authenticated or not: a
// longer one is cut here, as a client's X-Request-Id is bounded
// (MaxRequestIDLen), so that no client can write huge lines to the log.
const MaxLoggedMethodLen = 32

// accessLog writes access lines: by hand into the LogWriter when log is a
// plain Handler's, through slog otherwise (a logger of tests, or one with
// attributes of its own). Both write the same line.
type accessLog struct {
	log *slog.Logger
	h   *Handler // nil: through slog
}

func newAccessLog(log *slog.Logger) *accessLog {
	if log == nil {
		return nil
	}
	a := &accessLog{log: log}
	if h, ok := log.Handler().(*Handler); ok && h.plain {
		a.h = h
	}
	return a
}

// accessFields are the values a handler set for the access line.
func accessFields(c echo.Context) (keyID, owner, decision string) {
	if f, ok := c.Response().Writer.(*fields); ok {
		return f.keyID, f.owner, f.decision
	}
	return "", "", ""
}

// fields holds what handlers say of a request for its access line. Chain
// puts it between Echo's Response and the connection's writer, so that
// handlers reach it through c.Response().Writer: Echo's context map costs
// two allocations on its first Set. Echo and net/http reach the writer
// beneath through Unwrap (http.ResponseController).
type fields struct {
	http.ResponseWriter
	keyID, owner, decision string
}

// Unwrap is the connection's writer, for http.ResponseController.
func (f *fields) Unwrap() http.ResponseWriter { return f.ResponseWriter }

var fieldsPool = sync.Pool{New: func() any { return new(fields) }}

// SetCaller names the key of c's request in its access line (Chain's: a
// request served without Chain has none).
func SetCaller(c echo.Context, keyID, owner string) {
	if f, ok := c.Response().Writer.(*fields); ok {
		f.keyID, f.owner = keyID, owner
	}
}

// SetDecision says, in the access line of c's request, what became of it.
func SetDecision(c echo.Context, decision string) {
	if f, ok := c.Response().Writer.(*fields); ok {
		f.decision = decision
	}
}

// write logs the request of c, which started at start and took elapsed,
// at level info; it builds nothing when the level drops the line.
func (a *accessLog) write(c echo.Context, id string, start time.Time, elapsed time.Duration) {
	if a == nil {
		return
	}
	ctx := c.Request().Context()
	if !a.enabled(ctx) {
		return
	}
	keyID, owner, decision := accessFields(c)
	a.emit(ctx, accessLine{
		time: start.Add(elapsed), requestID: id, method: c.Request().Method, route: c.Path(),
		status: c.Response().Status, latency: elapsed, remoteIP: c.RealIP(),
		keyID: keyID, owner: owner, decision: decision,
	})
}

// enabled reports whether access lines are written at all.
func (a *accessLog) enabled(ctx context.Context) bool {
	if a == nil {
		return false
	}
	if a.h != nil {
		return a.h.Enabled(ctx, slog.LevelInfo)
	}
	return a.log.Enabled(ctx, slog.LevelInfo)
}

// emit writes the access line l, its method cut to MaxLoggedMethodLen.
func (a *accessLog) emit(ctx context.Context, l accessLine) {
	if len(l.method) > MaxLoggedMethodLen {
		l.method = l.method[:MaxLoggedMethodLen]
	}
	if a.h != nil {
		p := linePool.Get().(*[]byte)
		*p = appendAccessLine((*p)[:0], l)
		_, _ = a.h.out.Write(*p)
		linePool.Put(p)
		return
	}
	var buf [9]slog.Attr // on the stack: room for every attribute
	a.log.LogAttrs(ctx, slog.LevelInfo, "request", l.attrs(buf[:0])...)
}

// attrs appends the line's attributes, as the access log gives them to slog.
func (l *accessLine) attrs(to []slog.Attr) []slog.Attr {
	to = append(to,
		slog.String("request_id", l.requestID),
		slog.String("method", l.method),
		slog.String("route", l.route),
		slog.Int("status", l.status),
		slog.Float64("latency_ms", latencyMillis(l.latency)),
		slog.String("remote_ip", l.remoteIP),
	)
	for _, kv := range [...][2]string{{"key_id", l.keyID}, {"owner", l.owner}, {"decision", l.decision}} {
		if kv[1] != "" {
			to = append(to, slog.String(kv[0], kv[1]))
		}
	}
	return to
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// latencyMillis is elapsed in milliseconds, to the microsecond.
func latencyMillis(elapsed time.Duration) float64 {
	return float64(elapsed.Microseconds()) / 1000
}

// accessLine is what one access line says.
type accessLine struct {
	time                             time.Time
	requestID, method, route         string
	status                           int
	latency                          time.Duration
	remoteIP, keyID, owner, decision string
}

// appendAccessLine appends l as slog's JSONHandler writes
// LogAttrs(ctx, LevelInfo, "request", ...) of the access log's attributes, byte
// for byte (TestAccessLineIsSlogs holds them equal), at a tenth of its cost.
func appendAccessLine(b []byte, l accessLine) []byte {
	b = append(b, `{"time":"`...)
	b = appendRFC3339Nano(b, l.time)
	b = append(b, `","level":"INFO","msg":"request","request_id":`...)
	b = appendJSONString(b, l.requestID)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, l.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, l.route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"latency_ms":`...)
	b = appendJSONFloat(b, latencyMillis(l.latency))
	b = append(b, `,"remote_ip":`...)
	b = appendJSONString(b, l.remoteIP)
	for _, kv := range [...][2]string{{`,"key_id":`, l.keyID}, {`,"owner":`, l.owner}, {`,"decision":`, l.decision}} {
		if kv[1] != "" {
			b = append(b, kv[0]...)
			b = appendJSONString(b, kv[1])
		}
	}
	return append(b, "}\n"...)
}

// appendJSONFloat is encoding/json's float64, which slog uses: 'f' format
// between 1e-6 and 1e21, where every latency is.
func appendJSONFloat(b []byte, f float64) []byte {
	if abs := math.Abs(f); abs == 0 || (abs >= 1e-6 && abs < 1e21) {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	j, err := json.Marshal(f)
	if err != nil { // NaN or ±Inf, which no latency is
		return append(b, '0')
	}
	return append(b, j...)
}

// appendJSONString is slog's JSON string: quoted, with '"', '\\' and
// control characters escaped, invalid UTF-8 as U+FFFD, and U+2028 and
// U+2029 escaped; '<', '>' and '&' are kept.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// second is one second's RFC 3339 text: the date and time to the second,
// and the zone ("Z" or "+01:00"). Access lines of one second share it.
type second struct {
	unix       int64
	loc        *time.Location
	text, zone []byte
}

var lastSecond atomic.Pointer[second]

// appendRFC3339Nano appends t as t.AppendFormat(b, time.RFC3339Nano) would,
// formatting only the fraction anew within a second: the general
// formatter was half of writing an access line.
func appendRFC3339Nano(b []byte, t time.Time) []byte {
	unix := t.Unix()
	s := lastSecond.Load()
	if s == nil || s.unix != unix || s.loc != t.Location() {
		s = &second{unix: unix, loc: t.Location(), text: t.AppendFormat(nil, "2006-01-02T15:04:05"), zone: t.AppendFormat(nil, "Z07:00")}
		lastSecond.Store(s)
	}
	b = append(b, s.text...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, s.zone...)
}
