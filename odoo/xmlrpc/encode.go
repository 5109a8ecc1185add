package xmlrpc

import (
	"fmt"
	"io"
)

const (
	callHeader     = "<?xml version='1.0'?>\n<methodCall>\n<methodName>"
	responseHeader = "<?xml version=\"1.0\"?>\n<methodResponse>\n"
	responseFooter = "\n</methodResponse>\n"
	// maxEncodeDepth stops the encoder on a slice that contains itself.
	maxEncodeDepth = 1000
)

// EncodeCall writes c as Python's xmlrpc.client writes a call (with
// allow_none=True). Nothing is written if c cannot be encoded.
func EncodeCall(w io.Writer, c Call) error {
	if !validMethod(c.Method) {
		return fmt.Errorf("xmlrpc: encode call: %w: bad method name %q", ErrUnsupported, clip(c.Method))
	}
	e := encoder{buf: make([]byte, 0, 512)}
	e.str(callHeader)
	e.str(c.Method)
	e.str("</methodName>\n<params>\n")
	for i, v := range c.Params {
		e.str("<param>\n")
		if err := e.value(v); err != nil {
			return fmt.Errorf("xmlrpc: encode call %s: param %d: %w", c.Method, i, err)
		}
		e.str("</param>\n")
	}
	e.str("</params>\n</methodCall>\n")
	return e.flush(w)
}

// EncodeResponse writes v as Odoo's server writes a successful answer. A
// Fault or *Fault is written as EncodeFault writes it. Nothing is written
// if v cannot be encoded.
func EncodeResponse(w io.Writer, v any) error {
	switch f := v.(type) {
	case Fault:
		return EncodeFault(w, f)
	case *Fault:
		if f != nil {
			return EncodeFault(w, *f)
		}
	}
	e := encoder{buf: make([]byte, 0, 1024), odoo: true}
	e.str(responseHeader + "<params>\n<param>\n")
	if err := e.value(v); err != nil {
		return fmt.Errorf("xmlrpc: encode response: %w", err)
	}
	e.str("</param>\n</params>\n" + responseFooter)
	return e.flush(w)
}

// EncodeFault writes f as Odoo's server writes a fault. f.Code must be an
// integer or a string.
func EncodeFault(w io.Writer, f Fault) error {
	code, err := faultCode(f.Code)
	if err != nil {
		return fmt.Errorf("xmlrpc: encode fault: %w", err)
	}
	e := encoder{buf: make([]byte, 0, 256+len(f.String)), odoo: true}
	e.str(responseHeader + "<fault>\n")
	s := Struct{{Name: "faultCode", Value: code}, {Name: "faultString", Value: f.String}}
	if err := e.value(s); err != nil {
		return fmt.Errorf("xmlrpc: encode fault: %w", err)
	}
	e.str("</fault>\n" + responseFooter)
	return e.flush(w)
}

func faultCode(code any) (any, error) {
	switch c := code.(type) {
	case int64, string:
		return c, nil
	case int:
		return int64(c), nil
	case int32:
		return int64(c), nil
	}
	return nil, fmt.Errorf("%w: fault code of type %T", ErrUnsupported, code)
}
