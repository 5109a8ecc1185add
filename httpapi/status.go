package httpapi

import (
	"net/http"

	"github.com/keygate/keygate/keystore"
)

// statusTable maps the storage errors that handlers pass through to what a
// client sees. Order matters: the first match wins.
var statusTable = []struct {
	err     error
	status  int
	message string
}{
	{keystore.ErrNotFound, http.StatusNotFound, "not found"},
	{keystore.ErrConflict, http.StatusConflict, "the key's state does not allow this"},
	{keystore.ErrInvalid, http.StatusUnprocessableEntity, "validation failed"},
	{keystore.ErrUnavailable, http.StatusServiceUnavailable, "storage unavailable, try again"},
}
