package xmlrpc

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// appendPythonFloat appends f as Python's repr does: the shortest text that
// reads back as f, with ".0" on integral values, and exponent notation
// when the decimal exponent is below -4 or at least 16 ("1e-05", "1e+16").
func appendPythonFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("%w: float %v", ErrUnsupported, f)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'e', -1, 64)
	e := bytes.IndexByte(b[start:], 'e')
	exp, _ := strconv.Atoi(string(b[start+e+1:]))
	if exp < -4 || exp >= 16 {
		return b, nil
	}
	b = strconv.AppendFloat(b[:start], f, 'f', -1, 64)
	if bytes.IndexByte(b[start:], '.') < 0 {
		b = append(b, ".0"...)
	}
	return b, nil
}
