package authz_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
)

// partnerScopes are a partner's usual key: CRUD on contacts only.
var partnerScopes = []string{
	"odoo:res.partner:read", "odoo:res.partner:create", "odoo:res.partner:write", "odoo:res.partner:unlink",
}

func with(extra ...string) []string { return append(append([]string{}, partnerScopes...), extra...) }

type checkCase struct {
	name          string
	scopes        []string
	model, method string
	args, kwargs  string
	want          string // "" allowed; else the refusal, or a prefix of it ending in "…"
}

func runChecks(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			model := tc.model
			if model == "" {
				model = "res.partner"
			}
			got := verdict(t, policy(t, tc.scopes...), call(t, model, tc.method, tc.args, tc.kwargs))
			if prefix, ok := strings.CutSuffix(tc.want, "…"); ok && strings.HasPrefix(got, prefix) {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CheckCall(%s.%s %s %s) (-want +got):\n%s", model, tc.method, tc.args, tc.kwargs, diff)
			}
		})
	}
}

// TestCheckCallWrites: rule 1, x2many commands in values reach the
// comodel with the operation they make there.
func TestCheckCallWrites(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "plain_partner_create_with_country_and_tags_link_is_allowed", scopes: partnerScopes, method: "create",
			args: `[{"name": "p", "email": "p@example.com", "country_id": 20, "category_id": [[6, 0, [1, 2]]], "is_company": true}]`},
		{name: "many2one_as_id_name_pair_needs_nothing_more", scopes: partnerScopes, method: "write",
			args: `[[9], {"country_id": [20, "Belgium"], "parent_id": false}]`},
		{name: "create_of_a_list_of_values_checks_each", scopes: partnerScopes, method: "create",
			args: `[[{"name": "a"}, {"name": "b", "user_ids": [[0, 0, {"login": "x"}]]}]]`,
			want: "this key needs odoo:res.users:create (field user_ids of res.partner)"},
		{name: "nested_user_create_needs_create_on_res_users", scopes: []string{"odoo:res.partner:create"}, method: "create",
			args: `[{"name": "p", "user_ids": [[0, 0, {"name": "u", "login": "x", "password": "pw", "groups_id": [[6, 0, [4, 1]]]}]]}]`,
			want: "this key needs odoo:res.users:create (field user_ids of res.partner)"},
		{name: "nested_user_create_allowed_with_res_users_create", scopes: []string{"odoo:res.partner:create", "odoo:res.users:create"},
			method: "create", args: `[{"name": "p", "user_ids": [[0, 0, {"name": "u", "login": "x", "groups_id": [[6, 0, [4, 1]]]}]]}]`},
		{name: "nested_values_are_checked_recursively", scopes: []string{"odoo:res.partner:create", "odoo:res.users:create"},
			method: "create", args: `[{"name": "p", "user_ids": [[0, 0, {"login": "x", "groups_id": [[0, 0, {"name": "g"}]]}]]}]`,
			want: "this key needs odoo:res.groups:create (field groups_id of res.users)"},
		{name: "update_command_needs_write_on_comodel", scopes: []string{"odoo:res.partner:write"}, method: "write",
			args: `[[43], {"user_ids": [[1, 8, {"password": "pw"}]]}]`,
			want: "this key needs odoo:res.users:write (field user_ids of res.partner)"},
		{name: "update_command_allowed_with_write_on_comodel", scopes: []string{"odoo:res.partner:write", "odoo:res.users:write"},
			method: "write", args: `[[43], {"user_ids": [[1, 8, {"password": "pw"}]]}]`},
		{name: "delete_command_on_one2many_needs_unlink_on_comodel", scopes: []string{"odoo:res.partner:write"}, method: "write",
			args: `[[43], {"child_ids": [[2, 44]]}]`,
			want: "this key needs odoo:res.partner:unlink (field child_ids of res.partner)"},
		{name: "delete_command_on_many2many_needs_unlink_on_comodel", scopes: partnerScopes, method: "write",
			args: `[[42], {"category_id": [[2, 8]]}]`,
			want: "this key needs odoo:res.partner.category:unlink (field category_id of res.partner)"},
		{name: "create_command_on_many2many_needs_create_on_comodel", scopes: partnerScopes, method: "create",
			args: `[{"name": "p", "category_id": [[0, 0, {"name": "t"}]]}]`,
			want: "this key needs odoo:res.partner.category:create (field category_id of res.partner)"},
		{name: "create_command_on_bank_ids_needs_create_on_bank", scopes: partnerScopes, method: "write",
			args: `[[9], {"bank_ids": [[0, 0, {"acc_number": "BE1"}]]}]`,
			want: "this key needs odoo:res.partner.bank:create (field bank_ids of res.partner)"},
		{name: "update_command_on_many2many_needs_write_on_comodel", scopes: partnerScopes, method: "write",
			args: `[[42], {"category_id": [[1, 8, {"name": "renamed"}]]}]`,
			want: "this key needs odoo:res.partner.category:write (field category_id of res.partner)"},
		{name: "many2many_link_commands_need_only_the_parent", scopes: []string{"odoo:res.partner:write"}, method: "write",
			args: `[[9], {"category_id": [[6, 0, [4, 5]], [4, 2], [3, 4], [5], [5, 0, 0]]}]`},
		{name: "many2many_plain_id_list_is_a_set", scopes: []string{"odoo:res.partner:write"}, method: "write",
			args: `[[9], {"category_id": [4, 5]}]`},
		{name: "one2many_link_needs_write_on_comodel", scopes: partnerScopes, method: "write",
			args: `[[42], {"user_ids": [[4, 6]]}]`,
			want: "this key needs odoo:res.users:write (field user_ids of res.partner)"},
		{name: "one2many_link_allowed_with_write_on_comodel", scopes: with("odoo:res.users:write"), method: "write",
			args: `[[42], {"user_ids": [[4, 6]]}]`},
		{name: "one2many_unlink_needs_write_on_comodel", scopes: []string{"odoo:res.partner:write"}, method: "write",
			args: `[[42], {"bank_ids": [[3, 1]]}]`,
			want: "this key needs odoo:res.partner.bank:write (field bank_ids of res.partner)"},
		{name: "one2many_unlink_may_delete_so_needs_unlink_too", scopes: []string{"odoo:res.partner:write", "odoo:res.partner.bank:write"},
			method: "write", args: `[[42], {"bank_ids": [[3, 1]]}]`,
			want: "this key needs odoo:res.partner.bank:unlink (field bank_ids of res.partner)"},
		{name: "one2many_clear_needs_write_on_comodel", scopes: partnerScopes, method: "write",
			args: `[[42], {"user_ids": [[5]]}]`, want: "this key needs odoo:res.users:write (field user_ids of res.partner)"},
		{name: "one2many_set_needs_write_on_comodel", scopes: partnerScopes, method: "write",
			args: `[[42], {"user_ids": [[6, 0, [6]]]}]`, want: "this key needs odoo:res.users:write (field user_ids of res.partner)"},
		{name: "one2many_plain_id_list_is_a_set", scopes: partnerScopes, method: "write",
			args: `[[42], {"user_ids": [6]}]`, want: "this key needs odoo:res.users:write (field user_ids of res.partner)"},
		{name: "one2many_false_is_a_clear", scopes: partnerScopes, method: "write",
			args: `[[42], {"bank_ids": false}]`, want: "this key needs odoo:res.partner.bank:write (field bank_ids of res.partner)"},
		{name: "same_model_one2many_commands_need_the_model_scopes", scopes: []string{"odoo:res.partner:write"}, method: "write",
			args: `[[43], {"child_ids": [[0, 0, {"name": "c"}]]}]`,
			want: "this key needs odoo:res.partner:create (field child_ids of res.partner)"},
		{name: "same_model_one2many_commands_allowed_with_the_model_scopes", scopes: partnerScopes, method: "write",
			args: `[[43], {"child_ids": [[0, 0, {"name": "c"}], [1, 44, {"name": "d"}], [2, 45], [4, 46]]}]`},
		{name: "star_model_scope_grants_every_comodel", scopes: []string{"odoo:*:*"}, method: "create",
			args: `[{"name": "p", "user_ids": [[0, 0, {"login": "x", "groups_id": [[0, 0, {"name": "g"}]]}]]}]`},
		{name: "star_op_scope_on_comodel_grants_it", scopes: []string{"odoo:res.partner:create", "odoo:res.users:*"}, method: "create",
			args: `[{"name": "p", "user_ids": [[0, 0, {"login": "x"}]]}]`},
		{name: "copy_default_is_checked_as_new_values", scopes: []string{"odoo:res.partner:call:copy"}, method: "copy",
			args: `[[9]]`, kwargs: `{"default": {"user_ids": [[0, 0, {"login": "x"}]]}}`,
			want: "this key needs odoo:res.users:create (field user_ids of res.partner)"},
		{name: "copy_without_default_needs_nothing_more", scopes: []string{"odoo:res.partner:call:copy"}, method: "copy",
			args: `[[9], {"name": "copy"}]`},
		{name: "web_save_values_are_checked", scopes: []string{"odoo:res.partner:call:web_save"}, method: "web_save",
			args: `[[], {"bank_ids": [[0, 0, {"acc_number": "1"}]]}]`, kwargs: `{"specification": {"name": {}}}`,
			want: "this key needs odoo:res.partner.bank:create (field bank_ids of res.partner)"},
		{name: "unknown_call_method_object_argument_is_checked_as_values", scopes: []string{"odoo:res.partner:call:my_create"},
			method: "my_create", args: `[{"name": "p", "user_ids": [[0, 0, {"login": "x"}]]}]`,
			want: "this key needs odoo:res.users:create (field user_ids of res.partner)"},
		{name: "unknown_call_method_keyword_object_is_checked_as_values", scopes: []string{"odoo:res.partner:call:my_create"},
			method: "my_create", kwargs: `{"vals": {"category_id": [[0, 0, {"name": "t"}]]}}`,
			want: "this key needs odoo:res.partner.category:create (field category_id of res.partner)"},
		{name: "unknown_call_method_with_ids_and_names_is_allowed", scopes: []string{"odoo:res.partner:call:action_archive"},
			method: "action_archive", args: `[[9, 10]]`},
		{name: "name_create_takes_a_name_only", scopes: []string{"odoo:res.partner:call:name_create"}, method: "name_create",
			args: `["Someone"]`},
		{name: "load_import_paths_through_relations_need_create_and_write", scopes: []string{"odoo:res.partner:call:load"},
			method: "load", args: `[["name", "user_ids/login"], [["p", "x"]]]`,
			want: "this key needs odoo:res.users:create (field user_ids of res.partner)"},
		{name: "load_by_external_id_of_many2one_needs_nothing_more", scopes: []string{"odoo:res.partner:call:load"},
			method: "load", args: `[["name", "country_id/id"], [["p", "base.be"]]]`},
	})
}

// TestCheckCallRefusesWhatItCannotRead: strict where Odoo is lenient.
func TestCheckCallRefusesWhatItCannotRead(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "unknown_field_in_values_is_refused", scopes: partnerScopes, method: "create",
			args: `[{"name": "p", "no_such_field": 1}]`,
			want: `keygate does not know field "no_such_field" of res.partner: calls naming it are refused`},
		{name: "unknown_field_in_nested_values_is_refused", scopes: with("odoo:res.users:create"), method: "create",
			args: `[{"user_ids": [[0, 0, {"nope": 1}]]}]`,
			want: `keygate does not know field "nope" of res.users: calls naming it are refused`},
		{name: "unknown_field_in_domain_is_refused", scopes: partnerScopes, method: "search",
			args: `[[["nope", "=", 1]]]`, want: `keygate does not know field "nope" of res.partner…`},
		{name: "many2one_dict_value_is_refused", scopes: partnerScopes, method: "create",
			args: `[{"country_id": {"name": "Atlantis"}}]`, want: "keygate cannot check the value of many2one field country_id…"},
		{name: "command_with_a_string_code_is_refused", scopes: partnerScopes, method: "write",
			args: `[[1], {"category_id": [["0", 0, {}]]}]`, want: "keygate cannot check command…"},
		{name: "unknown_command_code_is_refused", scopes: partnerScopes, method: "write",
			args: `[[1], {"category_id": [[7, 0, 0]]}]`, want: "keygate cannot check command…"},
		{name: "create_command_without_values_is_refused", scopes: with("odoo:res.partner.category:create"), method: "write",
			args: `[[1], {"category_id": [[0, 0]]}]`, want: "keygate cannot check command…"},
		{name: "mixed_ids_and_commands_are_refused", scopes: partnerScopes, method: "write",
			args: `[[1], {"category_id": [4, [4, 5]]}]`, want: "keygate cannot check command…"},
		{name: "dict_inside_x2many_list_is_refused", scopes: with("odoo:res.partner.category:create"), method: "write",
			args: `[[1], {"category_id": [{"name": "t"}]}]`, want: "keygate cannot check command…"},
		{name: "values_that_are_not_an_object_are_refused", scopes: partnerScopes, method: "write",
			args: `[[1], [["name", "x"]]]`, want: "keygate cannot check values for res.partner…"},
		{name: "domain_leaf_value_that_is_an_object_is_refused", scopes: partnerScopes, method: "search",
			args: `[[["id", "=", {"a": 1}]]]`, want: "keygate cannot check domain leaf…"},
		{name: "unknown_domain_operator_is_refused", scopes: partnerScopes, method: "search",
			args: `[[["id", "~", 1]]]`, want: "keygate cannot check domain leaf…"},
		{name: "domain_that_is_a_string_is_refused", scopes: partnerScopes, method: "search",
			args: `["[('id','=',1)]"]`, want: "keygate cannot check domain…"},
		{name: "too_many_positional_arguments_are_refused", scopes: partnerScopes, method: "read",
			args: `[[1], ["name"], "_classic_read", {"x": 1}]`, want: "keygate cannot check res.partner.read: 4 positional…"},
		{name: "unknown_keyword_argument_of_a_known_method_is_refused", scopes: partnerScopes, method: "search_read",
			kwargs: `{"domain": [], "having": []}`, want: `keygate cannot check res.partner.search_read: unknown argument "having"`},
		{name: "bad_order_is_refused", scopes: partnerScopes, method: "search",
			args: `[[]]`, kwargs: `{"order": "name; drop table"}`, want: "keygate cannot check order…"},
		{name: "dotted_path_through_a_plain_field_is_refused", scopes: partnerScopes, method: "search",
			args: `[[["name.x", "=", 1]]]`, want: "keygate cannot check path name.x…"},
		{name: "unknown_call_method_list_of_lists_that_is_no_domain_is_refused", scopes: []string{"odoo:res.partner:call:get_views"},
			method: "get_views", args: `[[[false, "form"]]]`, want: "keygate cannot check domain leaf…"},
		{name: "deeply_nested_commands_are_refused", scopes: []string{"odoo:*:*"}, method: "create",
			args: "[" + strings.Repeat(`{"child_ids": [[0, 0, `, 40) + "{}" + strings.Repeat("]]}", 40) + "]",
			want: "keygate cannot check values nested more than 32 deep"},
		{name: "deeply_nested_domain_is_refused", scopes: []string{"odoo:*:*"}, method: "search",
			args: "[[" + strings.Repeat(`["child_ids", "any", [`, 40) + `["id", "=", 1]` + strings.Repeat("]]", 40) + "]]",
			want: "keygate cannot check domains nested more than 32 deep"},
		{name: "deeply_nested_specification_is_refused", scopes: []string{"odoo:*:*"}, method: "web_read",
			args: "[[1], " + strings.Repeat(`{"child_ids": {"fields": `, 40) + "{}" + strings.Repeat("}}", 40) + "]",
			want: "keygate cannot check specifications nested more than 32 deep"},
		{name: "domain_leaf_of_two_items_is_refused", scopes: partnerScopes, method: "search",
			args: `[[["id", "="]]]`, want: "keygate cannot check domain leaf…"},
		{name: "domain_string_other_than_a_logical_operator_is_refused", scopes: partnerScopes, method: "search",
			args: `[["&&", ["id", "=", 1]]]`, want: `keygate cannot check domain operator "&&"…`},
		{name: "domain_leaf_on_a_number_other_than_true_or_false_leaf_is_refused", scopes: partnerScopes, method: "search",
			args: `[[[1, "in", [1]]]]`, want: "keygate cannot check domain leaf…"},
		{name: "any_on_a_plain_field_is_refused", scopes: partnerScopes, method: "search",
			args: `[[["name", "any", [["id", "=", 1]]]]]`, want: "keygate cannot check domain leaf…"},
		{name: "record_ids_that_are_an_object_are_refused", scopes: partnerScopes, method: "read",
			args: `[{"id": 1}]`, want: "keygate cannot check record ids…"},
		{name: "field_list_that_is_a_string_is_refused", scopes: partnerScopes, method: "read",
			args: `[[1], "name,user_ids.login"]`, want: "keygate cannot check field list…"},
		{name: "groupby_that_is_not_a_string_is_refused", scopes: partnerScopes, method: "read_group",
			args: `[[], ["name"], [{"user_ids": "login"}]]`, want: "keygate cannot check groupby…"},
		{name: "aggregate_in_a_plain_order_is_an_unknown_field", scopes: partnerScopes, method: "search",
			args: `[[]]`, kwargs: `{"order": "id:sum"}`, want: `keygate does not know field "id:sum" of res.partner…`},
		{name: "specification_of_a_plain_field_with_fields_is_refused", scopes: with("odoo:res.partner:call:web_read"), method: "web_read",
			args: `[[1], {"name": {"fields": {"id": {}}}}]`, want: "keygate cannot check specification of field name of res.partner: a char field takes {}"},
		{name: "specification_key_keygate_does_not_read_is_refused", scopes: with("odoo:res.partner:call:web_read", "odoo:res.users:read"),
			method: "web_read", args: `[[1], {"user_ids": {"fields": {}, "domain": [["login", "=", "a"]]}}]`,
			want: `keygate cannot check specification key "domain" of field user_ids of res.partner`},
		{name: "specification_limit_that_is_no_number_is_refused", scopes: with("odoo:res.partner:call:web_read", "odoo:res.users:read"),
			method: "web_read", args: `[[1], {"user_ids": {"fields": {}, "limit": "all"}}]`, want: "keygate cannot check limit all…"},
		{name: "export_paths_that_are_not_a_list_are_refused", scopes: []string{"odoo:res.partner:call:export_data"},
			method: "export_data", args: `[[1], "name"]`, want: "keygate cannot check fields to export…"},
		{name: "import_path_through_a_plain_field_is_refused", scopes: with("odoo:res.partner:call:load"), method: "load",
			args: `[["name/login"], [["x"]]]`, want: "keygate cannot check import path name/login…"},
		{name: "import_rows_that_hold_objects_are_refused", scopes: with("odoo:res.partner:call:load"), method: "load",
			args: `[["name"], [[{"name": "x"}]]]`, want: "keygate cannot check rows to import…"},
		{name: "lang_that_is_no_string_is_refused", scopes: partnerScopes, method: "search",
			args: `[[]]`, kwargs: `{"context": {"lang": ["fr_BE"]}}`, want: "keygate cannot check the value [fr_BE] of context key lang"},
		{name: "active_test_that_is_no_boolean_is_refused", scopes: partnerScopes, method: "search",
			args: `[[]]`, kwargs: `{"context": {"active_test": 0}}`, want: "keygate cannot check the value 0 of context key active_test"},
	})
}

// TestCheckCallReads: rule 2, reading through a relation needs read on
// every model along the path.
func TestCheckCallReads(t *testing.T) {
	read := []string{"odoo:res.partner:read"}
	runChecks(t, []checkCase{
		{name: "plain_domain_on_own_fields_is_allowed", scopes: read, method: "search_read",
			args:   `[[["is_company", "=", true], "|", ["name", "ilike", "a"], "!", ["email", "=", false]]]`,
			kwargs: `{"fields": ["name", "country_id", "category_id"], "limit": 5, "order": "name desc, id"}`},
		{name: "dotted_domain_through_one2many_needs_read_on_comodel", scopes: read, method: "search_count",
			args: `[[["id", "=", 7], ["user_ids.login", "=like", "d%"]]]`,
			want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "dotted_domain_allowed_with_read_on_comodel", scopes: append(read, "odoo:res.users:read"), method: "search_count",
			args: `[[["id", "=", 7], ["user_ids.login", "=like", "d%"]]]`},
		{name: "two_level_path_needs_read_on_every_model", scopes: append(read, "odoo:res.users:read"), method: "search_count",
			args: `[[["user_ids.groups_id.name", "=", "Settings"]]]`,
			want: "this key needs odoo:res.groups:read (field groups_id of res.users)"},
		{name: "dotted_domain_through_many2one_needs_read_on_comodel", scopes: read, method: "search_count",
			args: `[[["country_id.code", "=", "BE"]]]`, want: "this key needs odoo:res.country:read (field country_id of res.partner)"},
		{name: "domain_in_keyword_domain_is_checked", scopes: read, method: "search_read",
			kwargs: `{"domain": [["message_ids.body", "ilike", "x"]]}`,
			want:   "this key needs odoo:mail.message:read (field message_ids of res.partner)"},
		{name: "name_search_args_domain_is_checked", scopes: read, method: "name_search",
			args: `["a"]`, kwargs: `{"args": [["user_ids.login", "=", "admin"]]}`,
			want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "name_search_domain_keyword_is_checked", scopes: read, method: "name_search",
			kwargs: `{"name": "a", "domain": [["user_ids.login", "=", "admin"]]}`,
			want:   "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "any_subdomain_needs_read_on_comodel", scopes: read, method: "search",
			args: `[[["user_ids", "any", [["login", "=", "admin"]]]]]`,
			want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "not_any_subdomain_is_walked_on_comodel", scopes: append(read, "odoo:res.users:read"), method: "search",
			args: `[[["user_ids", "not any", [["groups_id.name", "=", "x"]]]]]`,
			want: "this key needs odoo:res.groups:read (field groups_id of res.users)"},
		{name: "child_of_on_relational_field_needs_read_on_comodel", scopes: read, method: "search",
			args: `[[["user_ids", "child_of", [2]]]]`, want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "child_of_on_own_hierarchy_is_allowed", scopes: read, method: "search_count",
			args: `[[["id", "child_of", 9]]]`},
		{name: "parent_of_on_own_parent_is_allowed", scopes: read, method: "search_count",
			args: `[[["parent_id", "parent_of", [17]]]]`},
		{name: "x2many_compared_with_a_name_needs_read_on_comodel", scopes: read, method: "search_count",
			args: `[[["user_ids", "ilike", "adm"]]]`, want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "x2many_compared_with_ids_is_allowed", scopes: read, method: "search_count",
			args: `[[["category_id", "in", [1, 2]], ["user_ids", "!=", false]]]`},
		{name: "many2one_compared_with_a_name_is_allowed", scopes: read, method: "search_count",
			args: `[[["country_id", "ilike", "Bel"]]]`},
		{name: "true_and_false_leaves_are_allowed", scopes: read, method: "search_count",
			args: `[["|", [1, "=", 1], [0, "=", 1]]]`},
		{name: "dotted_order_needs_read_on_comodel", scopes: read, method: "search_read",
			kwargs: `{"order": "user_ids.login desc"}`, want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "many2one_order_is_allowed", scopes: read, method: "search",
			args: `[[], 0, 10, "country_id asc nulls last, name"]`},
		{name: "dotted_fields_need_read_on_comodel", scopes: read, method: "read",
			args: `[[1], ["name", "country_id.code"]]`, want: "this key needs odoo:res.country:read (field country_id of res.partner)"},
		{name: "read_group_by_many2one_is_allowed", scopes: read, method: "read_group",
			args: `[[], ["create_uid"], ["create_uid"]]`},
		{name: "read_group_by_dotted_path_needs_read_on_comodel", scopes: read, method: "read_group",
			args: `[[], [], ["parent_id.country_id.code"]]`, want: "this key needs odoo:res.country:read (field country_id of res.partner)"},
		{name: "read_group_by_dotted_path_through_other_model", scopes: read, method: "read_group",
			kwargs: `{"domain": [], "fields": [], "groupby": ["create_uid.login"]}`,
			want:   "this key needs odoo:res.users:read (field create_uid of res.partner)"},
		{name: "read_group_by_x2many_needs_read_on_comodel", scopes: read, method: "read_group",
			args: `[[], [], ["user_ids"]]`, want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "read_group_granularity_and_aggregates_are_read", scopes: read, method: "read_group",
			args: `[[], ["color:sum", "total:max(color)", "__count"], ["create_date:month"]]`, kwargs: `{"orderby": "__count desc", "lazy": false}`},
		{name: "read_group_aggregate_over_a_relation_needs_read", scopes: read, method: "read_group",
			args: `[[], ["n:count_distinct(user_ids.login)"], ["create_date:month"]]`,
			want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "name_search_with_a_comparison_operator_is_allowed", scopes: read, method: "name_search",
			args: `["Ag", [["is_company", "=", true]], "=ilike", 8]`},
		{name: "name_search_with_a_relation_operator_is_refused", scopes: read, method: "name_search",
			kwargs: `{"name": "Ag", "operator": "child_of"}`, want: "keygate cannot check name_search operator child_of on res.partner"},
		{name: "name_search_with_an_unknown_operator_is_refused", scopes: read, method: "name_search",
			args: `["Ag", [], "~"]`, want: "keygate cannot check name_search operator ~ on res.partner"},
		{name: "web_read_group_positional_x2many_groupby_needs_read_on_comodel", // Odoo 19: (domain, groupby, aggregates)
			scopes: with("odoo:res.partner:call:web_read_group"), method: "web_read_group",
			args: `[[], ["user_ids"], ["color:sum"]]`, want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "web_read_group_positional_x2many_in_third_place_needs_read_on_comodel", // Odoo 18: (domain, fields, groupby)
			scopes: with("odoo:res.partner:call:web_read_group"), method: "web_read_group",
			args: `[[], ["__count"], ["user_ids"]]`, want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "web_read_group_positional_18_and_19_forms_are_allowed",
			scopes: with("odoo:res.partner:call:web_read_group"), method: "web_read_group",
			args: `[[], ["color:sum", "total:max(color)", "__count"], ["create_date:month", "country_id"]]`},
		{name: "web_read_group_positional_19_form_is_allowed",
			scopes: with("odoo:res.partner:call:web_read_group"), method: "web_read_group",
			args: `[[], ["create_date:month", "country_id"], ["color:sum", "__count"]]`},
		{name: "specification_following_relation_needs_read_on_comodel", scopes: []string{"odoo:res.partner:call:web_search_read"},
			method: "web_search_read", kwargs: `{"domain": [], "specification": {"name": {}, "user_ids": {"fields": {"login": {}}}}}`,
			want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "specification_many2one_display_name_is_allowed", scopes: []string{"odoo:res.partner:call:web_search_read"},
			method: "web_search_read", kwargs: `{"domain": [], "specification": {"name": {}, "country_id": {"fields": {"display_name": {}}}, "category_id": {}}}`},
		{name: "specification_many2one_other_field_needs_read", scopes: []string{"odoo:res.partner:call:web_read"},
			method: "web_read", args: `[[1]]`, kwargs: `{"specification": {"country_id": {"fields": {"code": {}}}}}`,
			want: "this key needs odoo:res.country:read (field country_id of res.partner)"},
		{name: "specification_x2many_display_name_needs_read", scopes: []string{"odoo:res.partner:call:web_read"},
			method: "web_read", args: `[[1], {"user_ids": {"fields": {"display_name": {}}}}]`,
			want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "nested_specification_is_walked_on_comodel", scopes: []string{"odoo:res.partner:call:web_read", "odoo:res.users:read"},
			method: "web_read", args: `[[1], {"user_ids": {"fields": {"groups_id": {"fields": {"name": {}}}}}}]`,
			want: "this key needs odoo:res.groups:read (field groups_id of res.users)"},
		{name: "specification_order_on_comodel_is_checked", scopes: []string{"odoo:res.partner:call:web_read", "odoo:res.users:read"},
			method: "web_read", args: `[[1], {"user_ids": {"fields": {"login": {}}, "order": "company_id.name"}}]`,
			want: "this key needs odoo:res.company:read (field company_id of res.users)"},
		{name: "export_data_paths_need_read_on_every_model", scopes: []string{"odoo:res.partner:call:export_data"},
			method: "export_data", args: `[[1], ["name", "user_ids/login"]]`,
			want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "export_data_of_an_x2many_field_exports_display_names_needs_read", scopes: []string{"odoo:res.partner:call:export_data"},
			method: "export_data", args: `[[1], ["name", "user_ids"]]`,
			want: "this key needs odoo:res.users:read (field user_ids of res.partner)"},
		{name: "export_data_of_a_nested_x2many_field_needs_read_on_its_comodel",
			scopes: []string{"odoo:res.partner:call:export_data", "odoo:res.users:read"},
			method: "export_data", args: `[[1], ["user_ids/groups_id"]]`,
			want: "this key needs odoo:res.groups:read (field groups_id of res.users)"},
		{name: "export_data_of_a_many2one_display_name_is_allowed", scopes: []string{"odoo:res.partner:call:export_data"},
			method: "export_data", args: `[[1], ["country_id", "parent_id"]]`},
		{name: "export_data_ids_and_external_ids_are_allowed", scopes: []string{"odoo:res.partner:call:export_data"},
			method: "export_data", args: `[[1], ["id", ".id", "name", "country_id/id", "category_id/.id"]]`},
	})
}

// TestCheckCallContext: rule 4, context keys beyond the basic four need
// odoo:<model>:context.
func TestCheckCallContext(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "basic_context_keys_are_allowed", scopes: partnerScopes, method: "search_read",
			kwargs: `{"context": {"lang": "fr_BE", "tz": "Europe/Brussels", "active_test": false, "allowed_company_ids": [1]}}`},
		{name: "other_context_key_needs_context_scope", scopes: partnerScopes, method: "search_read",
			kwargs: `{"context": {"lang": "fr_BE", "install_mode": true}}`,
			want:   "this key needs odoo:res.partner:context (context key install_mode on res.partner)"},
		{name: "other_context_key_allowed_with_context_scope", scopes: with("odoo:res.partner:context"), method: "search_read",
			kwargs: `{"context": {"tracking_disable": true}}`},
		{name: "default_key_needs_context_scope", scopes: partnerScopes, method: "create",
			args: `[{"name": "p"}]`, kwargs: `{"context": {"default_type": "invoice"}}`,
			want: "this key needs odoo:res.partner:context (context key default_type on res.partner)"},
		{name: "default_key_reaches_nested_creates", scopes: with("odoo:res.partner:context", "odoo:res.users:create"), method: "create",
			args: `[{"name": "p", "user_ids": [[0, 0, {"login": "x"}]]}]`, kwargs: `{"context": {"default_groups_id": [[6, 0, [4]]]}}`,
			want: "this key needs odoo:res.users:context (context default_* keys, which reach new records of res.users)"},
		{name: "default_key_allowed_with_context_on_every_created_model", scopes: with("odoo:res.partner:context", "odoo:res.users:create", "odoo:res.users:context"),
			method: "create", args: `[{"name": "p", "user_ids": [[0, 0, {"login": "x"}]]}]`, kwargs: `{"context": {"default_groups_id": [[6, 0, [4]]]}}`},
		{name: "default_key_reaches_records_load_creates_through_import_paths",
			scopes: with("odoo:res.partner:call:load", "odoo:res.partner:context", "odoo:res.users:create", "odoo:res.users:write"),
			method: "load", args: `[["name", "user_ids/login"], [["p", "x"]]]`, kwargs: `{"context": {"default_groups_id": [[6, 0, [4]]]}}`,
			want: "this key needs odoo:res.users:context (context default_* keys, which reach new records of res.users)"},
		{name: "default_key_allowed_for_load_with_context_on_every_created_model",
			scopes: with("odoo:res.partner:call:load", "odoo:res.partner:context", "odoo:res.users:create", "odoo:res.users:write", "odoo:res.users:context"),
			method: "load", args: `[["name", "user_ids/login"], [["p", "x"]]]`, kwargs: `{"context": {"default_groups_id": [[6, 0, [4]]]}}`},
		{name: "basic_key_with_a_bad_value_is_refused", scopes: partnerScopes, method: "search",
			args: `[[]]`, kwargs: `{"context": {"allowed_company_ids": "1,2"}}`, want: "keygate cannot check the value 1,2 of context key allowed_company_ids"},
		{name: "context_that_is_not_an_object_is_refused", scopes: partnerScopes, method: "search",
			args: `[[]]`, kwargs: `{"context": [1]}`, want: "keygate cannot check context [1]: want an object"},
		{name: "specification_context_is_checked_on_comodel", scopes: []string{"odoo:res.partner:call:web_read"}, method: "web_read",
			args: `[[1], {"country_id": {"fields": {"display_name": {}}, "context": {"show_address": true}}}]`,
			want: "this key needs odoo:res.country:context (context key show_address on res.country)"},
	})
}

// TestCheckCallSchemaErrorIsNotAnAllow: fields that cannot be learned
// stop the check with the Schema's error.
func TestCheckCallSchemaErrorIsNotAnAllow(t *testing.T) {
	p := policy(t, "odoo:*:*")
	err := p.CheckCall(call(t, "res.partner", "search", `[[["message_follower_ids.partner_id", "=", 1]]]`, ""), schema(t))
	if !errors.Is(err, errModelNotLoaded) {
		t.Fatalf("CheckCall through a model whose fields are unknown = %v, want the Schema's error", err)
	}
	var r *authz.Refusal
	if errors.As(err, &r) {
		t.Fatalf("CheckCall = %v: a Schema failure must not read as a refusal", err)
	}
}

// TestCheckCallRefusalIsClipped: a refusal quoting a partner's value stays
// short, however large the value.
func TestCheckCallRefusalIsClipped(t *testing.T) {
	got := verdict(t, policy(t, partnerScopes...), call(t, "res.partner", "search",
		`[[["id", "=", {"a": "`+strings.Repeat("x", 100_000)+`"}]]]`, ""))
	if !strings.HasPrefix(got, "keygate cannot check domain leaf") || len(got) > 300+len("…") {
		t.Errorf("refusal of %d bytes: %.80s…, want at most 300", len(got), got)
	}
}
