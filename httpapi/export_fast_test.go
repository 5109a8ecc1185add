package httpapi

import (
	"net"
	"net/http"
)

// HeadEnd is headEnd, for FuzzFastHead.
var HeadEnd = headEnd

// TakeHead reports whether s's fast path takes the complete request head
// b (route, then parseHead), and the request it read of it.
func (s *FastServer) TakeHead(b []byte) (*Exchange, bool) {
	r, method, ok := s.route(b)
	if !ok {
		return nil, false
	}
	x := &Exchange{Header: make(http.Header), Method: method, RequestURI: r.name}
	fc := &fastConn{s: s}
	return x, fc.parseHead(string(b), x)
}

// PipeListener accepts in-memory connections (net.Pipe) that Dial opens:
// the channel listener FastServer hands connections to net/http with.
type PipeListener struct{ chanListener }

func NewPipeListener() *PipeListener {
	return &PipeListener{chanListener{addr: pipeAddr{}, conns: make(chan net.Conn), closed: make(chan struct{})}}
}

// Dial connects to l, and returns the client's end.
func (l *PipeListener) Dial() (net.Conn, error) {
	client, server := net.Pipe()
	if !l.push(server) {
		client.Close()
		server.Close()
		return nil, net.ErrClosed
	}
	return client, nil
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
