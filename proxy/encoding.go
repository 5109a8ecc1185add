package proxy

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

func writeBlob(c echo.Context, status int, contentType string, body []byte) error {
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(status, contentType, body)
}

func writeHTML(c echo.Context, status int, body string) error {
	return writeBlob(c, status, "text/html; charset=utf-8", []byte(body))
}

// werkzeugPage is the HTML page werkzeug answers an HTTP error with.
func werkzeugPage(status int, description string) string {
	text := http.StatusText(status)
	return "<!doctype html>\n<html lang=en>\n<title>" + strconv.Itoa(status) + " " + text + "</title>\n<h1>" +
		text + "</h1>\n<p>" + description + "</p>\n"
}
