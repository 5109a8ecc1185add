package authz_test

import (
	"os"
	"strings"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/keygate/keygate/authz"
)

// TestTraefikConfig renders deploy/traefik/dynamic.yml as Traefik does (a
// Go template with an env function) and checks the forwardAuth
// middleware: keygate's address, and every identity header keygate sets.
func TestTraefikConfig(t *testing.T) {
	b, err := os.ReadFile("../deploy/traefik/dynamic.yml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KEYGATE_ADDR": "keygate:8080", "UPSTREAM_URL": "http://app:80", "PROTECTED_HOST": "api.example.com"}
	tmpl, err := template.New("dynamic").Funcs(template.FuncMap{"env": func(k string) string { return env[k] }}).Parse(string(b))
	if err != nil {
		t.Fatalf("template: %v", err)
	}
	var out strings.Builder
	if err := tmpl.Execute(&out, nil); err != nil {
		t.Fatalf("render: %v", err)
	}
	var cfg struct {
		HTTP struct {
			Middlewares map[string]struct {
				ForwardAuth *struct {
					Address             string   `yaml:"address"`
					TrustForwardHeader  bool     `yaml:"trustForwardHeader"`
					AuthResponseHeaders []string `yaml:"authResponseHeaders"`
				} `yaml:"forwardAuth"`
			} `yaml:"middlewares"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal([]byte(out.String()), &cfg); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	fa := cfg.HTTP.Middlewares["keygate"].ForwardAuth
	if fa == nil {
		t.Fatal("no forwardAuth middleware named keygate")
	}
	want := []string{authz.HeaderKeyID, authz.HeaderOwner, authz.HeaderScopes}
	if diff := cmp.Diff(want, fa.AuthResponseHeaders); diff != "" {
		t.Errorf("authResponseHeaders (-want +got):\n%s", diff)
	}
	if fa.Address != "http://keygate:8080/auth" || fa.TrustForwardHeader {
		t.Errorf("address %q, trustForwardHeader %v; want http://keygate:8080/auth, false", fa.Address, fa.TrustForwardHeader)
	}
}
