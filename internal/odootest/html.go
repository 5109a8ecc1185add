package odootest

import (
	"html"
	"net/http"
	"strconv"
)

// werkzeugPage is the HTML page werkzeug answers an HTTP error with.
func werkzeugPage(status int, description string) string {
	code := strconv.Itoa(status) + " " + http.StatusText(status)
	return "<!doctype html>\n<html lang=en>\n<title>" + code + "</title>\n<h1>" + http.StatusText(status) +
		"</h1>\n<p>" + description + "</p>\n"
}

var (
	notFoundPage = werkzeugPage(http.StatusNotFound, "The requested URL was not found on the server. "+
		"If you entered the URL manually please check your spelling and try again.")
	methodNotAllowedPage = werkzeugPage(http.StatusMethodNotAllowed, "The method is not allowed for the requested URL.")
)

// inferredTypePage is the 400 Odoo answers a request to a type='json'
// route that is not a JSON request (a GET, or another Content-Type).
func inferredTypePage(path string) string {
	return werkzeugPage(http.StatusBadRequest, html.EscapeString("Request inferred type is compatible with ['http'] but '"+
		path+"' is type='json'."))
}

// writeHTML writes an HTML answer; Odoo adds X-Content-Type-Options only
// on some of them, as the fixtures show.
func writeHTML(w http.ResponseWriter, status int, nosniff bool, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if nosniff {
		h.Set("X-Content-Type-Options", "nosniff")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
