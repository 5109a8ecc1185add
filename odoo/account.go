package odoo

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Secret is a service account's password (an Odoo API key). It never
// prints, logs or marshals itself; Reveal returns it for the call upstream.
type Secret string

func (s Secret) String() string               { return "[redacted]" }
func (s Secret) GoString() string             { return `odoo.Secret("[redacted]")` }
func (s Secret) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the password, for the call to Odoo only.
func (s Secret) Reveal() string { return string(s) }

// Account is an Odoo service account: the user that keygate calls Odoo as
// on behalf of the keys mapped to it. Its uid is resolved by the Client.
type Account struct {
	// Name identifies the account in logs: "default" or "credential:<id>".
	Name string
	// URL is Odoo's base URL, such as https://odoo.example.com.
	URL string
	// DB is the database every call is pinned to.
	DB string
	// Login is the Odoo user's login.
	Login string
	// Password is the user's Odoo API key (or password).
	Password Secret
}

// LogValue shows the account without its password.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", a.Name), slog.String("url", a.URL),
		slog.String("db", a.DB), slog.String("login", a.Login))
}

// Validate reports every missing or malformed field at once.
func (a Account) Validate() error {
	var errs []error
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		errs = append(errs, fmt.Errorf("odoo url %q: want an absolute http:// or https:// URL without credentials", redactURL(u, err)))
	}
	for _, f := range []struct{ name, v string }{{"db", a.DB}, {"login", a.Login}, {"password", a.Password.Reveal()}} {
		if strings.TrimSpace(f.v) == "" {
			errs = append(errs, fmt.Errorf("odoo %s: required", f.name))
		}
	}
	return errors.Join(errs...)
}

// Endpoint joins the account's base URL and an Odoo path.
func (a Account) Endpoint(path string) string { return strings.TrimRight(a.URL, "/") + path }

// redactURL shows a parsed URL without its password, as keystore.RedactURL
// does for a string.
func redactURL(u *url.URL, err error) string {
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
