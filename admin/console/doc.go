// Package console is the admin web console served at /ui/ on the admin
// listener: one HTML page, a small framework-free JavaScript client and the
// uPlot chart library, all embedded in the binary (no CDN, no network at
// run time, no build step).
//
// It owns only those static files and the security headers they are
// served with (a strict Content-Security-Policy without inline script or
// style, X-Frame-Options: DENY, nosniff, no referrer). It adds no
// privileged path: the page is a client of /admin/v1 like curl, holding
// the admin key or token in the tab's sessionStorage and sending it as
// Authorization on each call. It sets no cookie, so there is no ambient
// credential to forge a request with. Authentication, limits and the
// audit log stay with package admin.
//
// A Console is immutable once built and safe for concurrent use.
package console
