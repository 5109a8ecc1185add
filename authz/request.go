package authz

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
)

// Canonical names of the request headers read (http.CanonicalHeaderKey
// forms, so that map lookups need no conversion).
const (
	hdrAuthorization    = "Authorization"
	hdrAPIKey           = "X-Api-Key"
	hdrForwardedMethod  = "X-Forwarded-Method"
	hdrForwardedHost    = "X-Forwarded-Host"
	hdrForwardedURI     = "X-Forwarded-Uri"
	hdrForwardedFor     = "X-Forwarded-For"
	hdrForwardedProto   = "X-Forwarded-Proto"
	hdrOriginalMethod   = "X-Original-Method"
	hdrOriginalURI      = "X-Original-Uri"
	defaultProto        = "http"
	maxForwardedEntries = 64
)

// DefaultTrustedProxies are the peers whose forwarded headers are believed
// when Config.TrustedProxies is nil: the loopback networks.
var DefaultTrustedProxies = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

// Request is what the decision needs to know about one request: the
// target the client asked the proxy for, the client's address and the
// credential it presented. Credential is "" when none was presented. It
// never logs the credential.
type Request struct {
	Method     string
	Host       string
	URI        string // as the client sent it: path, query and all
	Proto      string // "http" or "https", as the proxy saw it
	ClientIP   netip.Addr
	Credential string
}

// LogValue shows the request without its credential.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("method", r.Method), slog.String("host", r.Host), slog.String("uri", r.URI),
		slog.String("client_ip", r.ClientIP.String()), slog.Bool("credential", r.Credential != ""))
}

// FromHTTP extracts the Request from an HTTP request that keygate received.
//
// The credential comes from "Authorization: Bearer <key>" or
// "Authorization: ApiKey <key>" (scheme case-insensitive), else from
// "X-API-Key: <key>".
//
// When the direct peer (r.RemoteAddr) is in trusted, the target comes from
// Traefik's X-Forwarded-Method, -Host, -Uri and -Proto or, where those are
// absent, nginx's X-Original-Method and X-Original-URI; and the client
// address is the rightmost address of X-Forwarded-For that is not in
// trusted. Otherwise, or for what the headers do not say, the request
// itself is the target and the peer is the client. A nil trusted trusts no
// one. FromHTTP does not allocate, except for an address with an IPv6 zone
// and for an X-Forwarded-For entry that is not an address (its parse error).
func FromHTTP(r *http.Request, trusted []netip.Prefix) Request {
	uri := r.RequestURI
	if uri == "" && r.URL != nil {
		uri = r.URL.RequestURI()
	}
	return fromHeader(r.Method, r.Host, uri, r.RemoteAddr, r.TLS != nil, r.Header, trusted)
}

// RequestHeaders are the fields FromHTTP reads, canonical names: what a
// server that reads requests itself must keep for it (httpapi.FastServer).
var RequestHeaders = []string{
	hdrAuthorization, hdrAPIKey, hdrForwardedMethod, hdrForwardedHost, hdrForwardedURI,
	hdrForwardedFor, hdrForwardedProto, hdrOriginalMethod, hdrOriginalURI,
}

// fromHeader is FromHTTP of a request's parts.
func fromHeader(method, host, uri, remoteAddr string, tls bool, h http.Header, trusted []netip.Prefix) Request {
	peer := peerAddr(remoteAddr)
	req := Request{
		Method: method, Host: host, URI: uri, Proto: defaultProto,
		ClientIP: peer, Credential: credential(h),
	}
	if tls {
		req.Proto = "https"
	}
	if inAny(peer, trusted) {
		forwarded(&req, h, trusted)
	}
	return req
}

// forwarded applies the headers of a trusted proxy to req.
func forwarded(req *Request, h http.Header, trusted []netip.Prefix) {
	req.Method = firstOf(h, hdrForwardedMethod, hdrOriginalMethod, req.Method)
	req.URI = firstOf(h, hdrForwardedURI, hdrOriginalURI, req.URI)
	req.Host = firstOf(h, hdrForwardedHost, "", req.Host)
	req.Proto = firstOf(h, hdrForwardedProto, "", req.Proto)
	req.ClientIP = clientIP(h[hdrForwardedFor], req.ClientIP, trusted)
}

// firstOf returns the first non-empty value of header a, else of header b,
// else def.
func firstOf(h http.Header, a, b, def string) string {
	if v := h[a]; len(v) > 0 && v[0] != "" {
		return strings.TrimSpace(v[0])
	}
	if v := h[b]; b != "" && len(v) > 0 && v[0] != "" {
		return strings.TrimSpace(v[0])
	}
	return def
}

// credential returns the key the request presents, or "".
func credential(h http.Header) string {
	if v := h[hdrAuthorization]; len(v) > 0 {
		if tok := fromAuthorization(v[0]); tok != "" {
			return tok
		}
	}
	if v := h[hdrAPIKey]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// fromAuthorization returns the token of a Bearer or ApiKey Authorization
// value, or "" for any other scheme.
func fromAuthorization(v string) string {
	v = strings.TrimSpace(v)
	i := strings.IndexAny(v, " \t")
	if i < 0 {
		return ""
	}
	if scheme := v[:i]; !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "ApiKey") {
		return ""
	}
	return strings.TrimSpace(v[i+1:])
}

// peerAddr parses http.Request.RemoteAddr ("ip:port"); the zero Addr when
// it is not an IP address (a unix socket).
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

func inAny(a netip.Addr, nets []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP walks X-Forwarded-For from the right, past the trusted proxies,
// and returns the first address that is not one: the client as the last
// trusted proxy saw it. It stops at an entry that is not an address and
// returns the last address it accepted; when every entry is trusted, the
// leftmost one.
func clientIP(xff []string, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	client, seen := peer, 0
	for i := len(xff) - 1; i >= 0; i-- {
		for rest := xff[i]; rest != ""; {
			var elem string
			rest, elem = lastElement(rest)
			if elem == "" {
				continue
			}
			a, ok := parseForwardedAddr(elem)
			if !ok || seen == maxForwardedEntries {
				return client
			}
			client, seen = a, seen+1
			if !inAny(a, trusted) {
				return a
			}
		}
	}
	return client
}

// lastElement splits a comma-separated list before its last element.
func lastElement(list string) (rest, elem string) {
	i := strings.LastIndexByte(list, ',')
	if i < 0 {
		return "", strings.TrimSpace(list)
	}
	return list[:i], strings.TrimSpace(list[i+1:])
}

// parseForwardedAddr accepts "ip", "ip:port", "[ipv6]" and "[ipv6]:port".
// It picks the one parser that can take s by its shape, since a failed
// parse allocates its error: a bracket opens the IPv6 forms, one colon is
// "ipv4:port" (an IPv6 address has at least two), anything else an address.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	switch {
	case len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']':
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.Unmap(), true
		}
	case strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1:
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap(), true
		}
	default:
		if a, err := netip.ParseAddr(s); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
