package admin_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

// TestCreditsRefusals: every input of the credits (POST /keys/{id}/credits
// and the credits of PATCH /keys/{id}) is refused without an admin
// credential, over the body limit, with a duplicate or unknown member (at
// any depth), or of the wrong type; the balance stays as it was.
func TestCreditsRefusals(t *testing.T) {
	s := storetest.SQLite(t)
	api := serve(t, s, s.Vault(nil))

	ctx := context.Background()
	rec, _, err := s.Create(ctx, "t", keystore.Spec{Name: "metered", Credits: &keystore.Credits{Remaining: 5}})
	if err != nil {
		t.Fatal(err)
	}
	_, plain, err := s.Create(ctx, "t", keystore.Spec{Name: "not-admin", Scopes: []string{"odoo"}})
	if err != nil {
		t.Fatal(err)
	}
	credits := "/keys/" + rec.ID + "/credits"
	key := "/keys/" + rec.ID
	shape := `"credits":"must be {`
	cases := []routeCase{
		{"credits_without_credential_is_401", "POST", credits, "", `{"op":"set","value":1}`, 401, nil},
		{"credits_with_a_key_lacking_admin_is_403", "POST", credits, plain.Reveal(), `{"op":"set","value":1}`, 403, nil},
		{"credits_duplicate_member_is_400", "POST", credits, token, `{"op":"set","value":1,"value":2}`, 400, []string{"duplicate member"}},
		{"credits_negative_value_is_422", "POST", credits, token, `{"op":"increment","value":-1}`, 422, []string{`"value":"must be from 0 to`}},
		{"credits_value_over_the_maximum_is_422", "POST", credits, token, `{"op":"set","value":` + strconv.FormatInt(keystore.MaxCredits+1, 10) + `}`, 422, []string{`"value":"must be from 0 to`}},
		{"credits_unknown_op_is_422", "POST", credits, token, `{"op":"add","value":1}`, 422, []string{`"op":"must be`}},
		{"credits_missing_op_is_422", "POST", credits, token, `{"value":1}`, 422, []string{`"op":"must be`}},
		{"credits_missing_value_is_422", "POST", credits, token, `{"op":"set"}`, 422, []string{`"value":"is required"`}},
		{"credits_null_value_is_422", "POST", credits, token, `{"op":"set","value":null}`, 422, []string{`"value":"is required"`}},
		{"credits_unknown_member_is_400", "POST", credits, token, `{"op":"set","value":1,"refill":"daily"}`, 400, []string{"unknown field"}},
		{"credits_value_of_the_wrong_type_is_400", "POST", credits, token, `{"op":"set","value":"1"}`, 400, nil},
		{"credits_over_64KiB_is_413", "POST", credits, token, `{"op":"` + strings.Repeat("x", 65<<10) + `","value":1}`, 413, nil},
		{"patch_credits_unknown_member_is_422", "PATCH", key, token, `{"credits":{"remaining":1,"bonus":9}}`, 422, []string{shape}},
		{"patch_credits_unknown_refill_member_is_422", "PATCH", key, token, `{"credits":{"remaining":1,"refill":{"interval":"daily","amount":1,"every":2}}}`, 422, []string{shape}},
		{"patch_credits_wrong_type_is_422", "PATCH", key, token, `{"credits":[1]}`, 422, []string{shape}},
		{"patch_credits_duplicate_member_is_400", "PATCH", key, token, `{"credits":{"remaining":1,"remaining":9}}`, 400, []string{"duplicate member"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, api) })
	}
	_, body := do(t, "GET", api+key, token, "")
	var got struct {
		Credits *keystore.Credits `json:"credits"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Credits == nil || got.Credits.Remaining != 5 {
		t.Errorf("credits after the refusals = %s, want 5 remaining", body)
	}
}
