package keystore

import (
	"errors"
	"sort"
	"strings"
)

// Verification outcomes. Verify returns exactly one of these (or a wrapped
// storage error when it could not decide).
var (
	ErrMalformed = errors.New("keystore: malformed key")
	ErrUnknown   = errors.New("keystore: unknown key")
	ErrRevoked   = errors.New("keystore: key revoked")
	ErrExpired   = errors.New("keystore: key expired")
)

// Errors of the management calls.
var (
	ErrNotFound    = errors.New("keystore: not found")
	ErrInvalid     = errors.New("keystore: invalid input")
	ErrUnavailable = errors.New("keystore: storage unavailable")
)

// ValidationError lists what is wrong with an input, one message per field.
// It matches ErrInvalid with errors.Is.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + e.Fields[n]
	}
	return "keystore: invalid input: " + strings.Join(parts, "; ")
}

func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// add records a problem with field; the first message for a field wins.
func (e *ValidationError) add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// err returns e as an error when it holds a problem, else nil.
func (e *ValidationError) err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// ErrConflict reports a call that the key's state does not allow, such as
// rotating a revoked key.
var ErrConflict = errors.New("keystore: conflict")
