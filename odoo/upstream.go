package odoo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"time"
)

// Transport defaults.
const (
	// DefaultTimeout bounds one call to Odoo, from sending the request to
	// reading the whole answer. Odoo retries a write that meets a
	// concurrent update for up to about 30 s before it answers, so the
	// default leaves room for that and for the work itself.
	DefaultTimeout = 60 * time.Second
	// DefaultDialTimeout bounds connecting to Odoo, so that an unreachable
	// Odoo fails fast (502) instead of at the end of the timeout.
	DefaultDialTimeout = 5 * time.Second
	// DefaultMaxResponse bounds an answer read from Odoo.
	DefaultMaxResponse = 64 << 20
)

// NewTransport returns the transport keygate uses by default: a dial
// timeout of DefaultDialTimeout, TLS handshake within 10 s, and keep-alive
// where the upstream allows it (Odoo's own server closes every connection;
// a proxy in front of it may not). The answer's "Connection: close" is
// honoured: such connections are closed once their body is read.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// upstream posts bodies to Odoo and reads its answers, bounded in time and
// size. It is safe for concurrent use.
type upstream struct {
	http        *http.Client
	timeout     time.Duration
	maxResponse int64
}

func newUpstream(rt http.RoundTripper, timeout time.Duration, maxResponse int64) *upstream {
	if rt == nil {
		rt = NewTransport()
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &upstream{http: &http.Client{Transport: rt, CheckRedirect: noRedirect}, timeout: timeout, maxResponse: maxResponse}
}

// post sends body to url and returns the answer's body. Anything but a 200
// with a body within maxResponse is an error: ErrGatewayTimeout when the
// timeout ran out (or Odoo's proxy said 504), ErrBadGateway otherwise, or
// the caller's own context error when the caller went away.
func (u *upstream) post(ctx context.Context, url, contentType string, body []byte) ([]byte, error) {
	status, _, answer, err := u.exchange(ctx, url, contentType, body, http.Header{})
	switch {
	case err != nil:
		return nil, err
	case status != http.StatusOK:
		return nil, fmt.Errorf("%w: HTTP %d", ErrBadGateway, status)
	}
	if err := u.fits(answer); err != nil {
		return nil, err
	}
	return answer, nil
}

// exchange posts body with headers h (which it completes) and returns the
// answer's status, media type and body, read up to one byte past
// maxResponse. A transport failure and a 504 are errors.
func (u *upstream) exchange(ctx context.Context, url, contentType string, body []byte, h http.Header) (int, string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", nil, fmt.Errorf("%w: %w", ErrBadGateway, err)
	}
	req.Header = h
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "keygate")
	resp, err := u.http.Do(req)
	if err != nil {
		return 0, "", nil, u.classify(ctx, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, u.maxResponse+1))
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case err != nil:
		return 0, "", nil, u.classify(ctx, err)
	case resp.StatusCode == http.StatusGatewayTimeout:
		return 0, "", nil, fmt.Errorf("%w: HTTP %d", ErrGatewayTimeout, resp.StatusCode)
	}
	return resp.StatusCode, mt, answer, nil
}

// fits refuses an answer past maxResponse.
func (u *upstream) fits(answer []byte) error {
	if int64(len(answer)) > u.maxResponse {
		return fmt.Errorf("%w: answer over %d bytes", ErrBadGateway, u.maxResponse)
	}
	return nil
}

// classify names a transport failure. ctx is the call's own context: it
// is canceled when the caller went away (that is the caller's business,
// returned as it is), and past its deadline when the timeout ran out.
func (u *upstream) classify(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("odoo: call to Odoo abandoned: %w", ctx.Err())
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: after %s: %w", ErrGatewayTimeout, u.timeout, err)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %w", ErrGatewayTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrBadGateway, err)
}

// closeIdle closes idle connections of the transport, when it keeps any.
func (u *upstream) closeIdle() { u.http.CloseIdleConnections() }
