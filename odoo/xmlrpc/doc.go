// Package xmlrpc is a small, strict XML-RPC codec for Odoo's /xmlrpc
// endpoints.
//
// keygate's gateway decodes a partner's call, checks it, encodes it again
// with other credentials and forwards it to Odoo; it then decodes Odoo's
// answer (to strip tracebacks from faults) and encodes it again. The Odoo
// test double encodes its answers with the same functions. So the encoders
// write byte for byte what the real peers write: EncodeCall writes the
// layout of Python's xmlrpc.client (allow_none=True), and EncodeResponse and
// EncodeFault write the layout of Odoo's server (odoo/addons/base/
// controllers/rpc.py). Every recorded Odoo exchange in
// internal/odootest/testdata/odoo survives a decode and encode unchanged.
//
// # Types
//
//	XML-RPC                      decoded as     also encoded from
//	<nil/>                       nil
//	<boolean>                    bool
//	<int>, <i4>, <i8>            int64          int, int32 (always written as <int>)
//	<double>                     float64        (written as Python's repr)
//	<string>, untyped <value>    string         (written as <string>)
//	<dateTime.iso8601>           DateTime       (raw text, not parsed)
//	<base64>                     Base64         []byte
//	<struct>                     Struct         map[string]any (keys sorted)
//	<array>                      []any          []string, []int64, []int
//	<fault>                      *Fault         Fault, *Fault (EncodeResponse)
//
// The decoder never returns nil slices: empty params, arrays, structs and
// base64 values are empty and non-nil. Any other Go type is refused by the
// encoder with ErrUnsupported.
//
// Strings are escaped as Python does (&, < and >; quotes are left alone),
// except that a carriage return is written as &#13;, because XML turns a
// raw one into a line feed and the value would change on its way through
// the gateway. Odoo's server deletes control characters from strings, and
// so does EncodeResponse; EncodeCall refuses them, as XML cannot carry them.
// Odoo never sends <nil/> (a None result is a fault), but EncodeResponse
// writes it if asked, as Python does with allow_none.
//
// # Strictness
//
// Input is untrusted. Decoding reads an encoding/xml token stream and
// refuses: anything but white space outside the root element, a second
// root, DOCTYPE and other directives (so no entity expansion and no
// external entities), comments, processing instructions other than the XML
// declaration, encodings other than UTF-8, namespaces, attributes, unknown
// value types, method names outside the specification's characters,
// integers outside int64, NaN, infinities and hexadecimal doubles,
// malformed base64, and duplicate struct member names (Python keeps the
// last one, a checker might look at the first). Limits bounds nesting and
// the number of values; the package-level functions use DefaultMaxDepth
// and DefaultMaxValues. Callers bound the size of the body themselves.
//
// # Concurrency
//
// The package holds no state: every function may be called from any number
// of goroutines at once.
//
// # Errors
//
// Decoding returns errors wrapping ErrSyntax for malformed input and
// ErrLimit for input over the Limits; a failed read of the reader (such as
// *http.MaxBytesError) is wrapped as itself, not as ErrSyntax. A fault
// answer is returned by DecodeResponse as a *Fault error. Encoding returns
// ErrUnsupported for a value it cannot represent, and then writes nothing.
// Compare with errors.Is and errors.As.
package xmlrpc
