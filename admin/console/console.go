package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed assets
var assets embed.FS

// Headers are sent with every answer under /ui/. The policy allows only
// the console's own files: no inline script or style, no framing, no
// form posts or fetches elsewhere.
var Headers = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
		"frame-ancestors 'none'",
	"X-Frame-Options":              "DENY",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=()",
	"Cache-Control":                "no-cache",
}

// types are the content types of the assets, fixed here rather than read
// from the system's mime.types.
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// file is one embedded asset, ready to serve.
type file struct {
	body  []byte
	ctype string
	etag  string
}

// Console serves the embedded assets.
type Console struct {
	files map[string]file
}

// New loads the embedded assets.
func New() (*Console, error) {
	c := &Console{files: map[string]file{}}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype, ok := types[path.Ext(p)]
		if !ok {
			ctype = "text/plain; charset=utf-8"
		}
		c.files[strings.TrimPrefix(p, "assets/")] = file{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: load assets: %w", err)
	}
	return c, nil
}

// Register serves the console on g, which is mounted at /ui: /ui
// redirects to /ui/, which is the page; its files are below it.
func (c *Console) Register(g *echo.Group) {
	g.Use(secure)
	g.GET("", func(ctx echo.Context) error { return ctx.Redirect(http.StatusMovedPermanently, "/ui/") })
	g.GET("/*", c.serve)
}

func secure(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		for k, v := range Headers {
			h.Set(k, v)
		}
		return next(c)
	}
}

func (c *Console) serve(ctx echo.Context) error {
	name := ctx.Param("*")
	if name == "" {
		name = "index.html"
	}
	f, ok := c.files[name]
	if !ok {
		return echo.ErrNotFound // the service's error handler answers it as JSON
	}
	h := ctx.Response().Header()
	h.Set(echo.HeaderContentType, f.ctype)
	h.Set("ETag", f.etag)
	if ctx.Request().Header.Get("If-None-Match") == f.etag {
		return ctx.NoContent(http.StatusNotModified)
	}
	return ctx.Blob(http.StatusOK, f.ctype, f.body)
}
