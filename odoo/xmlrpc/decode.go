package xmlrpc

import (
	"encoding/xml"
	"fmt"
	"io"
)

// Default limits, used for every zero field of Limits.
const (
	DefaultMaxDepth  = 64
	DefaultMaxValues = 100_000
)

// Limits bounds what a decoder accepts. The zero value uses the defaults.
// Limits do not bound the size of the input: callers wrap the body in an
// io.LimitReader or http.MaxBytesReader.
type Limits struct {
	// MaxDepth is how deeply arrays and structs may nest (a top-level
	// array is depth 1). Zero means DefaultMaxDepth.
	MaxDepth int
	// MaxValues is how many <value> elements a document may hold, counted
	// at every level. Zero means DefaultMaxValues.
	MaxValues int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxValues <= 0 {
		l.MaxValues = DefaultMaxValues
	}
	return l
}

// DecodeCall decodes a <methodCall> with the default Limits.
func DecodeCall(r io.Reader) (Call, error) {
	return Limits{}.DecodeCall(r)
}

// DecodeResponse decodes a <methodResponse> with the default Limits. A fault
// answer returns (nil, *Fault).
func DecodeResponse(r io.Reader) (any, error) {
	return Limits{}.DecodeResponse(r)
}

// DecodeCall decodes a <methodCall>. Params is never nil.
func (l Limits) DecodeCall(r io.Reader) (Call, error) {
	p := newParser(r, l)
	c, err := p.call()
	if err != nil {
		return Call{}, fmt.Errorf("xmlrpc: decode call: %w", err)
	}
	return c, nil
}

// DecodeResponse decodes a <methodResponse>. A fault answer returns
// (nil, *Fault); any other error means the document was refused.
func (l Limits) DecodeResponse(r io.Reader) (any, error) {
	p := newParser(r, l)
	v, f, err := p.response()
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: decode response: %w", err)
	}
	if f != nil {
		return nil, f
	}
	return v, nil
}

// parser reads one document from an encoding/xml token stream.
type parser struct {
	d      *xml.Decoder
	src    *sourceReader
	lim    Limits
	depth  int
	values int
}

func newParser(r io.Reader, l Limits) *parser {
	src := &sourceReader{r: r}
	d := xml.NewDecoder(src)
	d.Strict = true
	return &parser{d: d, src: src, lim: l.withDefaults()}
}

func (p *parser) call() (Call, error) {
	if err := p.prolog("methodCall"); err != nil {
		return Call{}, err
	}
	method, err := p.methodName()
	if err != nil {
		return Call{}, err
	}
	params, err := p.callParams()
	if err != nil {
		return Call{}, err
	}
	if err := p.epilog(); err != nil {
		return Call{}, err
	}
	return Call{Method: method, Params: params}, nil
}

func (p *parser) methodName() (string, error) {
	if err := p.expectStart("methodName"); err != nil {
		return "", err
	}
	name, err := p.text()
	if err != nil {
		return "", err
	}
	if !validMethod(name) {
		return "", fmt.Errorf("%w: bad method name %q", ErrSyntax, clip(name))
	}
	return name, nil
}

// callParams reads an optional <params> and the </methodCall> after it.
func (p *parser) callParams() ([]any, error) {
	params := []any{}
	tok, err := p.element()
	if err != nil {
		return nil, err
	}
	if _, ok := tok.(xml.EndElement); ok {
		return params, nil
	}
	if err := isStart(tok, "params"); err != nil {
		return nil, err
	}
	for {
		v, more, err := p.param()
		if err != nil {
			return nil, err
		}
		if !more {
			return params, nil
		}
		params = append(params, v)
	}
}

// param reads one <param> or the </params> that ends the list; more is
// false after </params> and the end of the enclosing element.
func (p *parser) param() (v any, more bool, err error) {
	tok, err := p.element()
	if err != nil {
		return nil, false, err
	}
	if _, ok := tok.(xml.EndElement); ok {
		return nil, false, p.ends(1)
	}
	if err := isStart(tok, "param"); err != nil {
		return nil, false, err
	}
	if v, err = p.wrappedValue(); err != nil {
		return nil, false, err
	}
	return v, true, p.ends(1)
}

func (p *parser) response() (any, *Fault, error) {
	if err := p.prolog("methodResponse"); err != nil {
		return nil, nil, err
	}
	tok, err := p.element()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case isStart(tok, "params") == nil:
		v, err := p.responseParams()
		return v, nil, err
	case isStart(tok, "fault") == nil:
		f, err := p.fault()
		return nil, f, err
	}
	return nil, nil, unexpected(tok, "<params> or <fault>")
}

// responseParams reads exactly one <param> and the rest of the document.
func (p *parser) responseParams() (any, error) {
	if err := p.expectStart("param"); err != nil {
		return nil, err
	}
	v, err := p.wrappedValue()
	if err != nil {
		return nil, err
	}
	if err := p.ends(3); err != nil {
		return nil, err
	}
	return v, p.epilog()
}

func (p *parser) fault() (*Fault, error) {
	v, err := p.wrappedValue()
	if err != nil {
		return nil, err
	}
	if err := p.ends(2); err != nil {
		return nil, err
	}
	if err := p.epilog(); err != nil {
		return nil, err
	}
	return faultOf(v)
}

// faultOf checks that v is a fault struct: faultCode (int or string) and
// faultString, in either order, and nothing else.
func faultOf(v any) (*Fault, error) {
	s, _ := v.(Struct)
	code, _ := s.Get("faultCode")
	text, ok := s.Get("faultString")
	str, isString := text.(string)
	switch code.(type) {
	case int64, string:
		if ok && isString && len(s) == 2 {
			return &Fault{Code: code, String: str}, nil
		}
	}
	return nil, fmt.Errorf("%w: fault is not a struct of faultCode and faultString", ErrSyntax)
}

// validMethod reports whether name uses only the characters the XML-RPC
// specification allows: letters, digits, '_', '.', ':' and '/'.
func validMethod(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == ':' || c == '/'
		if !ok {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
