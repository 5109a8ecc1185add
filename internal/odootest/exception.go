package odootest

import (
	"strings"
)

// Python exception classes the double raises, named as Odoo names them in
// a JSON-RPC error's data.name.
const (
	clsAccessDenied    = "odoo.exceptions.AccessDenied"
	clsAccessError     = "odoo.exceptions.AccessError"
	clsMissingError    = "odoo.exceptions.MissingError"
	clsValidationError = "odoo.exceptions.ValidationError"
	clsUserError       = "odoo.exceptions.UserError"
	clsValueError      = "builtins.ValueError"
	clsTypeError       = "builtins.TypeError"
	clsKeyError        = "builtins.KeyError"
	clsIndexError      = "builtins.IndexError"
	clsNameError       = "builtins.NameError"
	clsAttributeError  = "builtins.AttributeError"
	clsException       = "builtins.Exception"
	clsNotImplemented  = "builtins.NotImplementedError"
	clsOperationalErr  = "psycopg2.OperationalError"
	clsExpatError      = "xml.parsers.expat.ExpatError"
)

// exception is a Python exception on its way out of the double: its
// class, its args, and the traceback frames from dispatch_rpc's callee down
// to where it was raised. Each layer of the dispatcher prepends the frame
// of its own call as the exception passes through it (under), which is how
// the tracebacks come out as Odoo prints them.
type exception struct {
	class  string
	args   []any
	frames []frame
	// cause is the text of a chained traceback ("The above exception was
	// the direct cause of the following exception").
	cause string
	// integrity is set while a database constraint violation travels up
	// to the retrying frame, which turns it into a ValidationError.
	integrity *integrityError
	// entry, when set, replaces the transport's frames above the
	// exception (for errors raised before dispatch_rpc).
	entry []frame
}

// integrityError is a psycopg2 IntegrityError: what Postgres said, and the
// message of the ValidationError Odoo makes of it.
type integrityError struct {
	class      string // psycopg2.errors.CheckViolation
	pgMessage  string // ends with a newline, as psycopg2's str() does
	validation string
}

func newException(class string, msg string, frames ...frame) *exception {
	return &exception{class: class, args: []any{msg}, frames: frames}
}

// under records that the exception passed through the given frames (the
// outermost first).
func (e *exception) under(fs ...frame) *exception {
	e.frames = append(append([]frame{}, fs...), e.frames...)
	return e
}

// message is the text Odoo sends as data.message and as the faultCode of
// a legacy XML-RPC application error: the args, joined.
func (e *exception) message() string {
	parts := make([]string, len(e.args))
	for i, a := range e.args {
		if s, ok := a.(string); ok {
			parts[i] = s
		} else {
			parts[i] = pyRepr(a)
		}
	}
	return strings.Join(parts, "\n")
}

// str is Python's str(exception).
func (e *exception) str() string {
	if e.class == clsKeyError && len(e.args) == 1 {
		return pyRepr(e.args[0])
	}
	if len(e.args) == 1 {
		return e.message()
	}
	if len(e.args) == 0 {
		return ""
	}
	return pyReprTuple(e.args)
}

// lastLine is the final line of the traceback: "ValueError: ...".
func (e *exception) lastLine() string {
	name := strings.TrimPrefix(e.class, "builtins.")
	if s := e.str(); s != "" {
		return name + ": " + s
	}
	return name
}

const chainSeparator = "\nThe above exception was the direct cause of the following exception:\n\n"

// traceback renders the exception as traceback.format_exc() does, entry
// being the frames of the transport above dispatch_rpc.
func (e *exception) traceback(entry []frame) string {
	var b strings.Builder
	if e.cause != "" {
		b.WriteString(e.cause + chainSeparator)
	}
	b.WriteString("Traceback (most recent call last):\n")
	if e.entry != nil {
		entry = e.entry
	}
	for _, f := range entry {
		f.render(&b)
	}
	for _, f := range e.frames {
		f.render(&b)
	}
	b.WriteString(e.lastLine() + "\n")
	return b.String()
}

// isUserError reports whether Odoo treats the exception as a UserError
// (its subclasses AccessError, MissingError and ValidationError included).
func (e *exception) isUserError() bool {
	switch e.class {
	case clsUserError, clsAccessError, clsMissingError, clsValidationError:
		return true
	}
	return false
}

// Constructors for the exceptions Odoo raises with fixed texts.

func accessDenied(frames ...frame) *exception {
	return newException(clsAccessDenied, "Access Denied", frames...)
}

func missingRecord(model string, ids []int64, uid int64, frames ...frame) *exception {
	return newException(clsMissingError, "Record does not exist or has been deleted.\n(Record: "+
		recordsetRepr(model, ids)+", User: "+itoa(uid)+")", frames...)
}

// recordsetRepr is Python's repr of a recordset: res.partner(1, 2) or
// res.partner(999999,).
func recordsetRepr(model string, ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = itoa(id)
	}
	s := strings.Join(parts, ", ")
	if len(ids) == 1 {
		s += ","
	}
	return model + "(" + s + ")"
}

func valueError(msg string, frames ...frame) *exception {
	return newException(clsValueError, msg, frames...)
}

func typeError(msg string, frames ...frame) *exception {
	return newException(clsTypeError, msg, frames...)
}

// notModelled is raised for what real Odoo does but the double does not:
// it says so instead of pretending.
func notModelled(what string) *exception {
	return newException(clsNotImplemented, "odootest: "+what+" is not modelled by the Odoo double")
}
