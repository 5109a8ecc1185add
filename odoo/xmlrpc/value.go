package xmlrpc

import (
	"errors"
	"fmt"
)

// Struct is an XML-RPC <struct>: its members in the order they were sent.
type Struct []Member

// Member is one named member of a Struct.
type Member struct {
	Name  string
	Value any
}

// Get returns the value of the member called name, and whether there is one.
func (s Struct) Get(name string) (any, bool) {
	for _, m := range s {
		if m.Name == name {
			return m.Value, true
		}
	}
	return nil, false
}

// DateTime is the raw text of a <dateTime.iso8601> value, such as
// "20260101T10:00:00". It is kept as sent: XML-RPC gives it no time zone.
type DateTime string

// Base64 holds the decoded bytes of a <base64> value.
type Base64 []byte

// Fault is an XML-RPC fault answer. Code is an int64 on Odoo's /xmlrpc/2/*
// paths and a string on the legacy /xmlrpc/* paths.
type Fault struct {
	Code   any
	String string
}

// Error reports the fault code and string.
func (f *Fault) Error() string {
	return fmt.Sprintf("xmlrpc: fault %v: %s", f.Code, f.String)
}

// Call is an XML-RPC <methodCall>.
type Call struct {
	Method string
	Params []any
}

var (
	// ErrSyntax reports input that is not a well-formed XML-RPC document
	// as this package accepts it: bad XML, an unknown value type, a bad
	// number, a duplicate struct member, a DOCTYPE, trailing data, and so on.
	ErrSyntax = errors.New("syntax error")
	// ErrLimit reports input that nests deeper, or holds more values, than
	// the Limits allow.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsupported reports a Go value the encoder cannot represent: an
	// unknown type, a NaN or infinite float, a string that is not valid
	// UTF-8 or holds characters XML forbids, a bad method name or fault code.
	ErrUnsupported = errors.New("unsupported value")
)
