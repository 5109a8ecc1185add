package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
)

// TestOdoo19RESTIsJSON2: in front of an Odoo 19, the REST facade's calls
// (list, create and its read back, delete) go over JSON-2 and answer as
// on Odoo 18; only common.version, which tells the version, is asked
// over /jsonrpc, once.
func TestOdoo19RESTIsJSON2(t *testing.T) {
	h := newRESTHarness(t, restOptions{Options: gatewaytest.Options{Version: "19.0"}})
	before := len(h.Odoo.Calls())
	list := h.do(t, http.MethodGet, "/api/v1/partners?limit=2", "all", nil)
	created := h.do(t, http.MethodPost, "/api/v1/partners", "all", map[string]any{"name": "REST Nineteen"})
	var made struct{ Data struct{ ID int } }
	_ = json.Unmarshal(created.Body, &made)
	deleted := h.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/partners/%d", made.Data.ID), "all", nil)
	got := []int{list.Status, created.Status, deleted.Status}
	if diff := cmp.Diff([]int{http.StatusOK, http.StatusCreated, http.StatusNoContent}, got); diff != "" {
		t.Errorf("REST list, create, delete (-want +got):\n%s", diff)
	}
	version, json2, other := 0, 0, []string{}
	for _, call := range h.Odoo.Calls()[before:] {
		switch {
		case call.Service == "common" && call.Method == "version":
			version++
		case call.Protocol == "json2":
			json2++
		default:
			other = append(other, call.Protocol+" "+call.ModelMethod)
		}
	}
	if version > 1 || len(other) > 0 || json2 < 4 {
		t.Errorf("calls to Odoo 19: %d common.version, %d JSON-2, others %v; want JSON-2 only (at least 4), after at most one common.version", version, json2, other)
	}
}
