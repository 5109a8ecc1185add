package admin

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/keygate/keygate/keystore"
)

// patchRequest is the body of PATCH /keys/{id}. Each field is kept raw so
// that "absent" (leave alone) differs from null (clear).
type patchRequest struct {
	Name         json.RawMessage `json:"name"`
	Owner        json.RawMessage `json:"owner"`
	Scopes       json.RawMessage `json:"scopes"`
	RateLimits   json.RawMessage `json:"rate_limits"`
	IPAllowlist  json.RawMessage `json:"ip_allowlist"`
	ExpiresAt    json.RawMessage `json:"expires_at"`
	Metadata     json.RawMessage `json:"metadata"`
	CredentialID json.RawMessage `json:"credential_id"`
	Credits      json.RawMessage `json:"credits"`
}

func (r *patchRequest) patch() (keystore.Patch, error) {
	var (
		p keystore.Patch
		v keystore.ValidationError
	)
	field(&v, "name", r.Name, &p.Name, false)
	field(&v, "owner", r.Owner, &p.Owner, true)
	field(&v, "scopes", r.Scopes, &p.Scopes, true)
	field(&v, "rate_limits", r.RateLimits, &p.RateLimits, true)
	field(&v, "ip_allowlist", r.IPAllowlist, &p.IPAllowlist, true)
	field[*time.Time](&v, "expires_at", r.ExpiresAt, &p.ExpiresAt, true)
	field(&v, "credential_id", r.CredentialID, &p.CredentialID, true)
	creditsField(&v, r.Credits, &p.Credits)
	if r.Metadata != nil {
		p.Metadata = keystore.Some(r.Metadata)
	}
	if len(v.Fields) > 0 {
		return p, &v
	}
	return p, nil
}

// field decodes one raw JSON field into an Optional, strictly (an object
// with a member its type does not have is the wrong type); null means the
// zero value when nullable, else it is an error.
func field[T any](v *keystore.ValidationError, name string, raw json.RawMessage, dst *keystore.Optional[T], nullable bool) {
	if raw == nil {
		return
	}
	var val T
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if !nullable {
			addField(v, name, "must not be null")
			return
		}
		*dst = keystore.Some(val)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&val); err != nil {
		addField(v, name, "has the wrong type")
		return
	}
	*dst = keystore.Some(val)
}

func addField(v *keystore.ValidationError, name, msg string) {
	if v.Fields == nil {
		v.Fields = map[string]string{}
	}
	v.Fields[name] = msg
}
