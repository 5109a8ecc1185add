package deploy_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Paths are relative to this package's folder, where go test runs.
const (
	repoRoot      = ".."
	rootCompose   = "../docker-compose.yml"
	nginxCompose  = "nginx/docker-compose.yml"
	envExample    = "../.env.example"
	dockerfile    = "../Dockerfile"
	dockerignore  = "../.dockerignore"
	nginxTemplate = "nginx/keygate.conf.template"
	frontSubnet   = "172.30.80.0/24" // the default of FRONT_SUBNET
)

var composeFiles = []string{rootCompose, nginxCompose}

// requiredEnv gives a value to every variable the compose files require
// (${VAR:?…}); TestRequiredVariables keeps the list complete.
func requiredEnv() map[string]string {
	return map[string]string{
		"POSTGRES_PASSWORD":     "pg-test-password",
		"KEYGATE_DB_PASSWORD":   "kgdbtestpassword",
		"KEYGATE_ODOO_DB":       "odoo-test",
		"KEYGATE_ODOO_LOGIN":    "svc@example.com",
		"KEYGATE_ODOO_PASSWORD": "odoo-api-key-test",
		"KEYGATE_SECRET_KEY":    base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"KEYGATE_ADMIN_TOKEN":   strings.Repeat("t", 40),
	}
}

// loadProject loads a compose file as docker compose does, with env as the
// whole environment (neither the process's nor a .env file) unless opts
// add one.
func loadProject(ctx context.Context, file string, env map[string]string, opts ...cli.ProjectOptionsFn) (*types.Project, error) {
	vars := make([]string, 0, len(env))
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	o, err := cli.NewProjectOptions([]string{file}, append([]cli.ProjectOptionsFn{cli.WithEnv(vars)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return o.LoadProject(ctx)
}

func mustLoad(t testing.TB, file string) *types.Project {
	t.Helper()
	p, err := loadProject(t.Context(), file, requiredEnv())
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return p
}

func service(t testing.TB, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("%s: no service %q", p.Name, name)
	}
	return s
}

func abs(t testing.TB, path string) string {
	t.Helper()
	a, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// variant is what differs between the Traefik and the nginx stacks.
type variant struct {
	file  string
	proxy string
	// service → image, or its prefix where the tag may move on (postgres:16.x)
	images    map[string]string
	dependsOn map[string]map[string]string
	networks  map[string][]string
	// service → "host_ip:published->target"
	ports map[string][]string
}

func variants() []variant {
	deps := map[string]map[string]string{
		"db":      {},
		"redis":   {},
		"odoo":    {"db": types.ServiceConditionHealthy},
		"keygate": {"db": types.ServiceConditionHealthy, "redis": types.ServiceConditionHealthy},
	}
	nets := map[string][]string{
		"db":      {"back"},
		"redis":   {"back"},
		"odoo":    {"back", "front"},
		"keygate": {"back", "front"},
	}
	ports := map[string][]string{
		"db":      nil,
		"redis":   nil,
		"odoo":    {"127.0.0.1:8069->8069"},
		"keygate": {"127.0.0.1:8081->8081"},
	}
	images := map[string]string{
		"db":      "postgres:16",
		"redis":   "redis:7",
		"odoo":    "odoo:18.0",
		"keygate": "keygate:dev",
	}
	with := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	withDeps := func(k string, v map[string]string) map[string]map[string]string {
		out := map[string]map[string]string{k: v}
		for k, v := range deps {
			out[k] = v
		}
		return out
	}
	withList := func(m map[string][]string, k string, v []string) map[string][]string {
		out := map[string][]string{k: v}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return []variant{
		{
			file:      rootCompose,
			proxy:     "traefik",
			images:    with(images, "traefik", "traefik:v3."),
			dependsOn: withDeps("traefik", map[string]string{"keygate": types.ServiceConditionHealthy}),
			networks:  withList(nets, "traefik", []string{"front"}),
			ports:     withList(ports, "traefik", []string{":80->80"}),
		},
		{
			file:      nginxCompose,
			proxy:     "nginx",
			images:    with(images, "nginx", "nginx:1.27"),
			dependsOn: withDeps("nginx", map[string]string{"keygate": types.ServiceConditionHealthy, "odoo": types.ServiceConditionStarted}),
			networks:  withList(nets, "nginx", []string{"front"}),
			ports:     withList(ports, "nginx", []string{":80->80"}),
		},
	}
}

func TestCompose(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.proxy, func(t *testing.T) {
			p := mustLoad(t, v.file)

			t.Run("services", func(t *testing.T) {
				want := []string{"db", "keygate", "odoo", "redis", v.proxy}
				sort.Strings(want)
				if diff := cmp.Diff(want, p.ServiceNames()); diff != "" {
					t.Errorf("services (-want +got):\n%s", diff)
				}
			})

			t.Run("images", func(t *testing.T) {
				for name, want := range v.images {
					if got := service(t, p, name).Image; !strings.HasPrefix(got, want) {
						t.Errorf("%s: image %q, want %q…", name, got, want)
					}
				}
			})

			t.Run("keygate_is_built_from_the_Dockerfile", func(t *testing.T) {
				b := service(t, p, "keygate").Build
				if b == nil {
					t.Fatal("keygate: no build section")
				}
				got := [2]string{b.Context, b.Dockerfile}
				want := [2]string{abs(t, repoRoot), "Dockerfile"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("keygate build context, dockerfile (-want +got):\n%s", diff)
				}
				if _, ok := b.Args["VERSION"]; !ok {
					t.Errorf("keygate build: no VERSION argument for -X main.version")
				}
				for name, s := range p.Services {
					if name != "keygate" && s.Build != nil {
						t.Errorf("%s is built; only keygate should be", name)
					}
				}
			})

			t.Run("every_service_has_a_healthcheck", func(t *testing.T) {
				for name, s := range p.Services {
					if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
						t.Errorf("%s: no healthcheck", name)
					}
				}
				// distroless has no shell: exec form, the binary probes itself
				got := []string(service(t, p, "keygate").HealthCheck.Test)
				if diff := cmp.Diff([]string{"CMD", "/keygate", "healthcheck"}, got); diff != "" {
					t.Errorf("keygate healthcheck (-want +got):\n%s", diff)
				}
			})

			t.Run("depends_on", func(t *testing.T) {
				got := map[string]map[string]string{}
				for name, s := range p.Services {
					got[name] = map[string]string{}
					for dep, d := range s.DependsOn {
						got[name][dep] = d.Condition
					}
				}
				if diff := cmp.Diff(v.dependsOn, got); diff != "" {
					t.Errorf("depends_on conditions (-want +got):\n%s", diff)
				}
			})

			t.Run("networks", func(t *testing.T) {
				got := map[string][]string{}
				for name, s := range p.Services {
					got[name] = slices.Sorted(maps.Keys(s.Networks))
				}
				if diff := cmp.Diff(v.networks, got); diff != "" {
					t.Errorf("networks (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{frontSubnet}, subnets(p, "front")); diff != "" {
					t.Errorf("front subnet (-want +got):\n%s", diff)
				}
			})

			t.Run("only_the_proxy_listens_beyond_loopback", func(t *testing.T) {
				got := map[string][]string{}
				for name, s := range p.Services {
					got[name] = nil
					for _, port := range s.Ports {
						got[name] = append(got[name], fmt.Sprintf("%s:%s->%d", port.HostIP, port.Published, port.Target))
					}
				}
				if diff := cmp.Diff(v.ports, got); diff != "" {
					t.Errorf("published ports (-want +got):\n%s", diff)
				}
			})

			t.Run("keygate_environment", func(t *testing.T) {
				testKeygateEnvironment(t, p)
			})

			t.Run("bind_mounts_exist", func(t *testing.T) {
				root := abs(t, repoRoot)
				for name, s := range p.Services {
					for _, vol := range s.Volumes {
						if vol.Type != types.VolumeTypeBind || !strings.HasPrefix(vol.Source, root+string(filepath.Separator)) {
							continue
						}
						if _, err := os.Stat(vol.Source); err != nil {
							t.Errorf("%s: mounts %s, which is missing", name, vol.Source)
						}
						if !vol.ReadOnly {
							t.Errorf("%s: mounts %s read-write, want read-only", name, vol.Source)
						}
					}
				}
			})
		})
	}
}

// testKeygateEnvironment checks keygate's KEYGATE_* settings and that each
// names something the stack really has.
func testKeygateEnvironment(t *testing.T, p *types.Project) {
	env := requiredEnv()
	want := map[string]string{
		"KEYGATE_LISTEN":          ":8080",
		"KEYGATE_ADMIN_LISTEN":    ":8081",
		"KEYGATE_DATABASE_URL":    "postgres://keygate:" + env["KEYGATE_DB_PASSWORD"] + "@db:5432/keygate?sslmode=disable",
		"KEYGATE_REDIS_URL":       "redis://redis:6379/0",
		"KEYGATE_ODOO_URL":        "http://odoo:8069",
		"KEYGATE_ODOO_DB":         env["KEYGATE_ODOO_DB"],
		"KEYGATE_ODOO_LOGIN":      env["KEYGATE_ODOO_LOGIN"],
		"KEYGATE_ODOO_PASSWORD":   env["KEYGATE_ODOO_PASSWORD"],
		"KEYGATE_SECRET_KEY":      env["KEYGATE_SECRET_KEY"],
		"KEYGATE_ADMIN_TOKEN":     env["KEYGATE_ADMIN_TOKEN"],
		"KEYGATE_TRUSTED_PROXIES": frontSubnet,
		"KEYGATE_LOG_LEVEL":       "info",
	}
	kg := service(t, p, "keygate")
	got := map[string]string{}
	for k, v := range kg.Environment {
		if strings.HasPrefix(k, "KEYGATE_") && v != nil {
			got[k] = *v
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keygate environment (-want +got):\n%s", diff)
	}

	// The URLs name services keygate shares a network with.
	for _, k := range []string{"KEYGATE_DATABASE_URL", "KEYGATE_REDIS_URL", "KEYGATE_ODOO_URL"} {
		u, err := url.Parse(got[k])
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if !shareNetwork(p, "keygate", u.Hostname()) {
			t.Errorf("%s names %q, which shares no network with keygate", k, u.Hostname())
		}
	}

	// Postgres creates the role and database of KEYGATE_DATABASE_URL, with
	// its password, from the init script.
	u, _ := url.Parse(got["KEYGATE_DATABASE_URL"])
	pass, _ := u.User.Password()
	if got := envOf(service(t, p, "db"), "KEYGATE_DB_PASSWORD"); got != pass {
		t.Errorf("db: KEYGATE_DB_PASSWORD %q, the URL's password %q", got, pass)
	}
	script := readFile(t, "compose/initdb/10-keygate.sh")
	for _, stmt := range []string{
		"CREATE ROLE " + u.User.Username() + " LOGIN PASSWORD :'keygate_password'",
		"CREATE DATABASE " + strings.TrimPrefix(u.Path, "/") + " OWNER " + u.User.Username(),
		`--set=keygate_password="$KEYGATE_DB_PASSWORD"`,
	} {
		if !strings.Contains(script, stmt) {
			t.Errorf("compose/initdb/10-keygate.sh lacks %q", stmt)
		}
	}
	if !mounts(service(t, p, "db"), abs(t, "compose/initdb"), "/docker-entrypoint-initdb.d") {
		t.Errorf("db: compose/initdb is not mounted on /docker-entrypoint-initdb.d")
	}

	// Odoo serves the database keygate calls.
	if cmd := service(t, p, "odoo").Command; !slices.Contains(cmd, "--database="+env["KEYGATE_ODOO_DB"]) {
		t.Errorf("odoo command %q does not serve --database=%s", cmd, env["KEYGATE_ODOO_DB"])
	}

	// The proxy is on the trusted network, and nothing outside the
	// compose networks is trusted.
	_, trusted, err := net.ParseCIDR(got["KEYGATE_TRUSTED_PROXIES"])
	if err != nil {
		t.Fatalf("KEYGATE_TRUSTED_PROXIES: %v", err)
	}
	for _, s := range subnets(p, "front") {
		if trusted.String() != s {
			t.Errorf("KEYGATE_TRUSTED_PROXIES %s, front network %s", trusted, s)
		}
	}
}

func envOf(s types.ServiceConfig, k string) string {
	if v := s.Environment[k]; v != nil {
		return *v
	}
	return ""
}

func mounts(s types.ServiceConfig, source, target string) bool {
	for _, v := range s.Volumes {
		if v.Source == source && v.Target == target {
			return true
		}
	}
	return false
}

func shareNetwork(p *types.Project, a, b string) bool {
	sa, oka := p.Services[a]
	sb, okb := p.Services[b]
	if !oka || !okb {
		return false
	}
	for n := range sa.Networks {
		if _, ok := sb.Networks[n]; ok {
			return true
		}
	}
	return false
}

func subnets(p *types.Project, network string) []string {
	var out []string
	for _, pool := range p.Networks[network].Ipam.Config {
		out = append(out, pool.Subnet)
	}
	return out
}

// label is one Traefik label and the service that carries it.
type label struct{ service, value string }

// traefikLabels gathers the traefik.* labels of every service. Traefik's
// names (routers, services, middlewares) are global, so a traefik.http.*
// key set on two services is an error.
func traefikLabels(t testing.TB, p *types.Project) map[string]label {
	t.Helper()
	out := map[string]label{}
	for name, s := range p.Services {
		for k, v := range s.Labels {
			if !strings.HasPrefix(k, "traefik.") {
				continue
			}
			if prev, ok := out[k]; ok && strings.HasPrefix(k, "traefik.http.") {
				t.Errorf("label %s set on both %s and %s", k, prev.service, name)
			}
			out[k] = label{name, v}
		}
	}
	return out
}

func TestTraefikForwardAuth(t *testing.T) {
	p := mustLoad(t, rootCompose)
	labels := traefikLabels(t, p)
	get := func(k string) label {
		t.Helper()
		l, ok := labels[k]
		if !ok {
			t.Fatalf("no label %s", k)
		}
		return l
	}

	// The forwardAuth middleware: keygate's /auth on its public listener,
	// and exactly the identity headers keygate answers with.
	var auth string
	for k, l := range labels {
		if name, ok := strings.CutSuffix(k, ".forwardauth.address"); ok {
			if auth != "" {
				t.Fatalf("two forwardAuth middlewares")
			}
			auth = strings.TrimPrefix(name, "traefik.http.middlewares.")
			u, err := url.Parse(l.value)
			if err != nil {
				t.Fatalf("forwardAuth address: %v", err)
			}
			_, port, _ := net.SplitHostPort(envOf(service(t, p, "keygate"), "KEYGATE_LISTEN"))
			got := []string{u.Scheme, u.Hostname(), u.Port(), u.Path}
			if diff := cmp.Diff([]string{"http", "keygate", port, "/auth"}, got); diff != "" {
				t.Errorf("forwardAuth address %s (-want +got):\n%s", l.value, diff)
			}
		}
	}
	if auth == "" {
		t.Fatal("no forwardAuth middleware")
	}
	headers := strings.Split(get("traefik.http.middlewares."+auth+".forwardauth.authResponseHeaders").value, ",")
	for i := range headers {
		headers[i] = strings.TrimSpace(headers[i])
	}
	sort.Strings(headers)
	if diff := cmp.Diff([]string{"X-Keygate-Key-Id", "X-Keygate-Owner", "X-Keygate-Scopes"}, headers); diff != "" {
		t.Errorf("authResponseHeaders (-want +got):\n%s", diff)
	}

	routers := map[string]string{} // router → rule
	for k, l := range labels {
		if r, ok := strings.CutSuffix(strings.TrimPrefix(k, "traefik.http.routers."), ".rule"); ok && r != k {
			routers[r] = l.value
		}
	}
	cases := []struct {
		name, host, service, port string
		paths                     []string
		checked                   bool // behind forwardAuth
	}{
		{name: "odoo_is_behind_forwardAuth", host: "Host(`odoo.localhost`)", service: "odoo", port: "8069", checked: true},
		{name: "the_gateway_checks_keys_itself", host: "Host(`api.localhost`)", service: "keygate", port: "8080",
			paths: []string{"Path(`/jsonrpc`)", "PathPrefix(`/xmlrpc/`)", "PathPrefix(`/api/`)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var router string
			for r, rule := range routers {
				if strings.Contains(rule, c.host) {
					router = r
				}
			}
			if router == "" {
				t.Fatalf("no router for %s among %v", c.host, routers)
			}
			for _, path := range c.paths {
				if !strings.Contains(routers[router], path) {
					t.Errorf("router %s: rule %q lacks %s", router, routers[router], path)
				}
			}
			prefix := "traefik.http.routers." + router
			if got := get(prefix + ".entrypoints").value; got != "web" {
				t.Errorf("router %s: entrypoints %q, want web", router, got)
			}
			svc := get(prefix + ".service")
			lb := get("traefik.http.services." + svc.value + ".loadbalancer.server.port")
			if got := []string{lb.service, lb.value}; !slices.Equal(got, []string{c.service, c.port}) {
				t.Errorf("router %s goes to %v, want service %s port %s", router, got, c.service, c.port)
			}
			mw := strings.Split(labels[prefix+".middlewares"].value, ",")
			checked := slices.Contains(mw, auth+"@docker")
			if checked != c.checked {
				t.Errorf("router %s: middlewares %q; forwardAuth %q in it: %v, want %v", router, mw, auth, checked, c.checked)
			}
			if checked && mw[0] != auth+"@docker" {
				t.Errorf("router %s: middlewares %q; keygate must decide first", router, mw)
			}
		})
	}

	t.Run("the_key_never_reaches_odoo", func(t *testing.T) {
		mw := strings.Split(get("traefik.http.routers.odoo.middlewares").value, ",")
		var removed []string
		for _, m := range mw {
			name := strings.TrimSuffix(m, "@docker")
			for _, h := range []string{"Authorization", "X-API-Key"} {
				if l, ok := labels["traefik.http.middlewares."+name+".headers.customrequestheaders."+h]; ok && l.value == "" {
					removed = append(removed, h)
				}
			}
		}
		if diff := cmp.Diff([]string{"Authorization", "X-API-Key"}, removed); diff != "" {
			t.Errorf("headers removed before Odoo (-want +got):\n%s", diff)
		}
	})

	t.Run("traefik_sees_only_what_is_labelled_on_the_front_network", func(t *testing.T) {
		tr := service(t, p, "traefik")
		for _, flag := range []string{
			"--entrypoints.web.address=:80",
			"--providers.docker=true",
			"--providers.docker.exposedbydefault=false",
			"--providers.docker.network=" + p.Networks["front"].Name,
			"--ping=true",
		} {
			if !slices.Contains(tr.Command, flag) {
				t.Errorf("traefik command %q lacks %s", tr.Command, flag)
			}
		}
		if diff := cmp.Diff([]string{"CMD", "traefik", "healthcheck", "--ping"}, []string(tr.HealthCheck.Test)); diff != "" {
			t.Errorf("traefik healthcheck (-want +got):\n%s", diff)
		}
		if !mountsReadOnly(tr, "/var/run/docker.sock") {
			t.Errorf("traefik: the Docker socket is not mounted read-only")
		}
		for name, s := range p.Services {
			if s.Labels["traefik.enable"] == "true" && !shareNetwork(p, "traefik", name) {
				t.Errorf("%s is routed by Traefik but not on its network", name)
			}
		}
	})
}

func mountsReadOnly(s types.ServiceConfig, target string) bool {
	for _, v := range s.Volumes {
		if v.Target == target {
			return v.ReadOnly
		}
	}
	return false
}

var templateVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func TestNginx(t *testing.T) {
	p := mustLoad(t, nginxCompose)
	ng := service(t, p, "nginx")

	t.Run("renders_the_shipped_template", func(t *testing.T) {
		want := map[string]string{"KEYGATE_ADDR": "keygate:8080", "UPSTREAM_ADDR": "odoo:8069", "LISTEN_PORT": "80", "API_HOST": "api.localhost"}
		got := map[string]string{}
		for k := range want {
			got[k] = envOf(ng, k)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("nginx environment (-want +got):\n%s", diff)
		}
		if !mounts(ng, abs(t, nginxTemplate), "/etc/nginx/templates/keygate.conf.template") {
			t.Errorf("nginx: %s is not mounted into /etc/nginx/templates", nginxTemplate)
		}
		// The image's default.conf would be the default server on port 80.
		if !slices.Contains(ng.Tmpfs, "/etc/nginx/conf.d") {
			t.Errorf("nginx: /etc/nginx/conf.d is not emptied (tmpfs)")
		}
	})

	t.Run("every_template_variable_is_set", func(t *testing.T) {
		for _, v := range ng.Volumes {
			if !strings.HasPrefix(v.Target, "/etc/nginx/templates/") {
				continue
			}
			if !strings.HasSuffix(v.Target, ".template") {
				t.Errorf("nginx: %s is not rendered (no .template suffix)", v.Target)
			}
			for _, m := range templateVar.FindAllStringSubmatch(readFile(t, v.Source), -1) {
				if _, ok := ng.Environment[m[1]]; !ok {
					t.Errorf("%s uses ${%s}, which the nginx service does not set", v.Source, m[1])
				}
			}
		}
	})

	t.Run("no_traefik_labels", func(t *testing.T) {
		if l := traefikLabels(t, p); len(l) != 0 {
			t.Errorf("traefik labels in the nginx stack: %v", l)
		}
	})
}

var (
	requiredRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):\?`)
	defaultRef  = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):-`)
	exampleLine = regexp.MustCompile(`(?m)^(#?)([A-Za-z_][A-Za-z0-9_]*)=`)
)

// refs lists the variables that re matches in the compose files.
func refs(t testing.TB, re *regexp.Regexp) []string {
	t.Helper()
	set := map[string]bool{}
	for _, f := range composeFiles {
		for _, m := range re.FindAllStringSubmatch(readFile(t, f), -1) {
			set[m[1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestRequiredVariables(t *testing.T) {
	required := refs(t, requiredRef)
	var known []string
	for k := range requiredEnv() {
		known = append(known, k)
	}
	sort.Strings(known)
	if diff := cmp.Diff(known, required); diff != "" {
		t.Fatalf("required variables of the compose files (-requiredEnv +files):\n%s", diff)
	}

	for _, file := range composeFiles {
		for _, name := range required {
			t.Run(filepath.Base(filepath.Dir(abs(t, file)))+"/missing_"+name, func(t *testing.T) {
				for _, value := range []string{"unset", ""} {
					env := requiredEnv()
					delete(env, name)
					if value == "" {
						env[name] = ""
					}
					_, err := loadProject(t.Context(), file, env)
					if err == nil {
						t.Fatalf("%s loads with %s %s", file, name, value)
					}
					msg := err.Error()
					if !strings.Contains(msg, name) || !strings.Contains(msg, "set it in .env") {
						t.Errorf("error %q names neither %s nor the fix", msg, name)
					}
				}
			})
		}
	}
}

func TestEnvExample(t *testing.T) {
	text := readFile(t, envExample)
	declared := map[string]bool{} // name → set (not commented out)
	for _, m := range exampleLine.FindAllStringSubmatch(text, -1) {
		declared[m[2]] = declared[m[2]] || m[1] == ""
	}
	for _, name := range refs(t, requiredRef) {
		if !declared[name] {
			t.Errorf(".env.example does not set %s, which the compose files require", name)
		}
	}
	for _, name := range refs(t, defaultRef) {
		if _, ok := declared[name]; !ok {
			t.Errorf(".env.example does not mention %s, which the compose files read", name)
		}
	}

	// Copied unchanged, it stops docker compose at the first blank secret.
	for _, file := range composeFiles {
		_, err := loadProject(t.Context(), file, nil, cli.WithEnvFiles(envExample), cli.WithDotEnv)
		if err == nil || !strings.Contains(err.Error(), "set it in .env") {
			t.Errorf("%s with .env.example as it is: error %v, want a required variable missing", file, err)
		}
	}

	// Filled in, it is all docker compose needs.
	example, err := dotenv.GetEnvFromFile(nil, []string{envExample})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range requiredEnv() {
		if example[k] == "" {
			example[k] = v
		}
	}
	for _, file := range composeFiles {
		if _, err := loadProject(t.Context(), file, example); err != nil {
			t.Errorf("%s with a filled-in .env.example: %v", file, err)
		}
	}
}

// dockerfileStages parses the Dockerfile with BuildKit's parser and linter;
// parse and lint warnings fail the test.
func dockerfileStages(t testing.TB) []instructions.Stage {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile: %s", w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		t.Errorf("Dockerfile lint %s at %v: %s", rule, loc, msg)
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("Dockerfile instructions: %v", err)
	}
	return stages
}

func commands[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if v, ok := c.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func last[T any](t testing.TB, what string, xs []T) T {
	t.Helper()
	if len(xs) == 0 {
		t.Fatalf("Dockerfile: no %s in the final stage", what)
	}
	return xs[len(xs)-1]
}

func TestDockerfile(t *testing.T) {
	stages := dockerfileStages(t)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s), want a build stage and a final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	t.Run("builds_a_static_binary_with_go_1.26", func(t *testing.T) {
		if build.BaseName != "golang:1.26" {
			t.Errorf("build stage FROM %s, want golang:1.26", build.BaseName)
		}
		var buildLine string
		for _, r := range commands[*instructions.RunCommand](build) {
			if line := strings.Join(r.CmdLine, " "); strings.Contains(line, "go build") {
				buildLine = line
			}
		}
		for _, want := range []string{"CGO_ENABLED=0 go build", "-trimpath", `-ldflags "-s -w -X main.version=${VERSION}"`, "-o /out/keygate", "./cmd/keygate"} {
			if !strings.Contains(buildLine, want) {
				t.Errorf("go build line %q lacks %s", buildLine, want)
			}
		}
		// go mod download reads the go.mod of every module go.mod
		// replaces with a directory, so those are copied before it.
		download := slices.IndexFunc(build.Commands, func(c instructions.Command) bool {
			r, ok := c.(*instructions.RunCommand)
			return ok && strings.Contains(strings.Join(r.CmdLine, " "), "go mod download")
		})
		if download < 0 {
			t.Errorf("build stage has no go mod download")
			download = len(build.Commands)
		}
		for _, dir := range localReplacements(t) {
			copied := slices.ContainsFunc(build.Commands[:download], func(c instructions.Command) bool {
				cp, ok := c.(*instructions.CopyCommand)
				return ok && cp.From == "" && slices.ContainsFunc(cp.SourcePaths, func(src string) bool {
					return strings.TrimSuffix(src, "/") == dir || strings.HasPrefix(dir, strings.TrimSuffix(src, "/")+"/")
				})
			})
			if !copied {
				t.Errorf("build stage does not COPY %s (a replacement in go.mod) before go mod download", dir)
			}
		}
		args := commands[*instructions.ArgCommand](build)
		if !slices.ContainsFunc(args, func(a *instructions.ArgCommand) bool {
			return slices.ContainsFunc(a.Args, func(kv instructions.KeyValuePairOptional) bool { return kv.Key == "VERSION" })
		}) {
			t.Errorf("build stage has no ARG VERSION")
		}
	})

	t.Run("final_image_is_distroless_and_shell_free", func(t *testing.T) {
		if final.BaseName != "gcr.io/distroless/static-debian12:nonroot" {
			t.Errorf("final stage FROM %s, want gcr.io/distroless/static-debian12:nonroot", final.BaseName)
		}
		if runs := commands[*instructions.RunCommand](final); len(runs) > 0 {
			t.Errorf("final stage RUNs %q: the image has no shell", runs[0].CmdLine)
		}
		copied := slices.ContainsFunc(commands[*instructions.CopyCommand](final), func(c *instructions.CopyCommand) bool {
			return c.From == build.Name && c.DestPath == "/keygate" && slices.Equal(c.SourcePaths, []string{"/out/keygate"})
		})
		if !copied {
			t.Errorf("final stage does not COPY --from=%s /out/keygate /keygate", build.Name)
		}
	})

	t.Run("runs_as_a_non_root_user", func(t *testing.T) {
		user := last(t, "USER", commands[*instructions.UserCommand](final)).User
		uid, _, _ := strings.Cut(user, ":")
		if uid == "" || uid == "0" || uid == "root" {
			t.Errorf("final USER %q is root", user)
		}
	})

	t.Run("entrypoint_cmd_ports_healthcheck", func(t *testing.T) {
		ep := last(t, "ENTRYPOINT", commands[*instructions.EntrypointCommand](final))
		cmd := last(t, "CMD", commands[*instructions.CmdCommand](final))
		hc := last(t, "HEALTHCHECK", commands[*instructions.HealthCheckCommand](final))
		var ports []string
		for _, e := range commands[*instructions.ExposeCommand](final) {
			ports = append(ports, e.Ports...)
		}
		type image struct {
			Entrypoint, Cmd, Healthcheck, Expose []string
			ShellForm                            bool
		}
		got := image{ep.CmdLine, cmd.CmdLine, hc.Health.Test, ports, ep.PrependShell || cmd.PrependShell}
		want := image{[]string{"/keygate"}, []string{"serve"}, []string{"CMD", "/keygate", "healthcheck"}, []string{"8080", "8081"}, false}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("final image (-want +got):\n%s", diff)
		}
	})
}

// TestDockerignore checks that the build context holds every file that
// `go build ./cmd/keygate` reads, and none of the secrets or local builds.
func TestDockerignore(t *testing.T) {
	f, err := os.Open(dockerignore)
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(path string) bool {
		t.Helper()
		ok, err := pm.MatchesOrParentMatches(path)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	for _, path := range buildInputs(t) {
		if excluded(path) {
			t.Errorf(".dockerignore leaves out %s, which go build ./cmd/keygate reads", path)
		}
	}
	for _, path := range []string{".git/config", ".env", "keygate", "keygate.db", "deploy/deploy_test.go", "cmd/keygate/main_test.go"} {
		if !excluded(path) {
			t.Errorf(".dockerignore lets %s into the build context", path)
		}
	}
}

// buildInputs lists, relative to the repository, go.mod, go.sum and the
// Go and embedded files of this module's packages that cmd/keygate needs.
func buildInputs(t testing.TB) []string {
	t.Helper()
	out := goMain(t, "list", "-e", "-deps", "-json=Dir,GoFiles,EmbedFiles,Module", "./cmd/keygate")
	root := abs(t, repoRoot)
	inputs := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var pkg struct {
			Dir                 string
			GoFiles, EmbedFiles []string
			Module              *struct {
				Main    bool
				Replace *struct{ Dir string }
			}
		}
		if err := dec.Decode(&pkg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if pkg.Module == nil || !pkg.Module.Main && (pkg.Module.Replace == nil || pkg.Module.Replace.Dir == "") {
			continue
		}
		for _, name := range slices.Concat(pkg.GoFiles, pkg.EmbedFiles) {
			rel, err := filepath.Rel(root, filepath.Join(pkg.Dir, name))
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, filepath.ToSlash(rel))
		}
	}
	if len(inputs) < 10 {
		t.Fatalf("go list found only %v", inputs)
	}
	for _, dir := range localReplacements(t) {
		inputs = append(inputs, dir+"/go.mod")
	}
	return inputs
}

// localReplacements lists, relative to the repository, the directories
// that keygate's go.mod replaces modules with.
func localReplacements(t testing.TB) []string {
	t.Helper()
	out := goMain(t, "mod", "edit", "-json")
	var mod struct {
		Replace []struct {
			New struct{ Path, Version string }
		}
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, r := range mod.Replace {
		if r.New.Version == "" { // a directory, not a module version
			dirs = append(dirs, filepath.ToSlash(filepath.Clean(r.New.Path)))
		}
	}
	return dirs
}

// goMain runs the go command in keygate's own module (the repository root,
// not this nested module) with cgo off, as the Dockerfile builds, and
// returns its standard output.
func goMain(t testing.TB, args ...string) []byte {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to inspect keygate's module: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), goTool, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TestParsersStayOutOfKeygatesModule: compose-go, BuildKit and
// patternmatcher, which only these checks use, are required by this nested
// module alone, so that they are in neither keygate's go.mod nor its build
// list (a keygate package importing one would bring it back on go mod tidy).
func TestParsersStayOutOfKeygatesModule(t *testing.T) {
	all := strings.Fields(string(goMain(t, "list", "-m", "-f", "{{.Path}}", "all")))
	if !slices.Contains(all, "github.com/keygate/keygate") {
		t.Fatalf("go list -m all in %s does not list keygate's module: %v", repoRoot, all)
	}
	for _, m := range []string{"github.com/compose-spec/compose-go/v2", "github.com/moby/buildkit", "github.com/moby/patternmatcher"} {
		if slices.Contains(all, m) {
			t.Errorf("keygate's module graph holds %s, which only the deploy checks need", m)
		}
	}
}

// TestServiceAccountSetup: both stacks can make keygate's Odoo service
// account, a dedicated internal user that is never admin
// (deploy/compose/odoo/keygate_service_account.py, run by the one-off
// odoo-setup service of the "setup" profile), and .env.example names that
// user, not admin.
func TestServiceAccountSetup(t *testing.T) {
	const script = "keygate_service_account.py"
	for _, file := range composeFiles {
		t.Run(filepath.Base(filepath.Dir(abs(t, file))), func(t *testing.T) {
			p, err := loadProject(t.Context(), file, requiredEnv(), cli.WithProfiles([]string{"setup"}))
			if err != nil {
				t.Fatalf("load %s with the setup profile: %v", file, err)
			}
			s := service(t, p, "odoo-setup")
			if s.Image != service(t, p, "odoo").Image {
				t.Errorf("odoo-setup runs %q, want Odoo's own image %q", s.Image, service(t, p, "odoo").Image)
			}
			if d := s.DependsOn["odoo"]; d.Condition != types.ServiceConditionHealthy {
				t.Errorf("odoo-setup depends on odoo %q, want healthy (its database exists then)", d.Condition)
			}
			if got := s.Environment["KEYGATE_ODOO_LOGIN"]; got == nil || *got != requiredEnv()["KEYGATE_ODOO_LOGIN"] {
				t.Errorf("odoo-setup KEYGATE_ODOO_LOGIN = %v, want keygate's own setting", got)
			}
			mounted := false
			for _, v := range s.Volumes {
				if v.Target == "/setup" && v.ReadOnly {
					_, err := os.Stat(filepath.Join(v.Source, script))
					mounted = err == nil
				}
			}
			if !mounted {
				t.Errorf("odoo-setup does not mount deploy/compose/odoo (with %s) read-only at /setup: %+v", script, s.Volumes)
			}
			if cmd := strings.Join(s.Command, " "); !strings.Contains(cmd, "odoo shell") || !strings.Contains(cmd, "< /setup/"+script) {
				t.Errorf("odoo-setup command %q does not run the script in Odoo's shell", cmd)
			}
		})
	}
	example, err := dotenv.GetEnvFromFile(nil, []string{envExample})
	if err != nil {
		t.Fatal(err)
	}
	if login := example["KEYGATE_ODOO_LOGIN"]; login == "" || login == "admin" {
		t.Errorf(".env.example KEYGATE_ODOO_LOGIN = %q, want a dedicated user", login)
	}
	src := readFile(t, filepath.Join("compose", "odoo", script))
	for _, want := range []string{`login == "admin"`, "_is_admin()", "base.group_partner_manager"} {
		if !strings.Contains(src, want) {
			t.Errorf("%s does not hold %q: it must refuse admin and grant Contact Creation only", script, want)
		}
	}
}
