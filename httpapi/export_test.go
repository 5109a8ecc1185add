package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"time"
)

// AccessLineForTest is an access line, encoded by hand (Hand) and by slog
// (Slog).
type AccessLineForTest struct {
	Time                             time.Time
	RequestID, Method, Route         string
	Status                           int
	Latency                          time.Duration
	RemoteIP, KeyID, Owner, Decision string
}

func (l AccessLineForTest) line() accessLine {
	return accessLine{time: l.Time, requestID: l.RequestID, method: l.Method, route: l.Route, status: l.Status,
		latency: l.Latency, remoteIP: l.RemoteIP, keyID: l.KeyID, owner: l.Owner, decision: l.Decision}
}

func (l AccessLineForTest) Hand() string { return string(appendAccessLine(nil, l.line())) }

// Slog is the line slog's JSONHandler writes for the attributes that
// AccessLog's slog path gives it.
func (l AccessLineForTest) Slog() string {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, nil)
	r := slog.NewRecord(l.Time, slog.LevelInfo, "request", 0)
	line := l.line()
	r.AddAttrs(line.attrs(nil)...)
	_ = h.Handle(context.Background(), r)
	return buf.String()
}

// AppendRFC3339Nano is appendRFC3339Nano, for the tests.
var AppendRFC3339Nano = appendRFC3339Nano
