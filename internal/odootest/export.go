package odootest

import "strings"

// export_data is modelled from Odoo 18's source (models.py export_data
// and _export_rows); no recording shows it. Each path is a field name or
// a "/"-separated path through relations ("user_ids/login"); a relation
// without a subfield exports the related records' display names. A
// record gives one row; the second and further records of an x2many it
// follows give further rows, with only their own columns filled, as
// Odoo's export does. Empty values are "", booleans stay booleans. The
// "id" column (external ids) is not modelled.

// gidAllowExport is base.group_allow_export, which export_data requires
// of users who are not admins.
const gidAllowExport = gidExport

func runExportData(c *call) (any, *exception) {
	names, err := stringList(c.args["fields_to_export"])
	if err != nil {
		return nil, err
	}
	if !c.e.user.inGroup([]string{groupSettings}) && !inGroupID(c.e, gidAllowExport) {
		return nil, newException(clsUserError, "You don't have the rights to export data. Please contact an Administrator.")
	}
	if err := checkModelAccess(c.e, c.m, opRead); err != nil {
		return nil, err
	}
	paths := make([][]string, len(names))
	for i, n := range names {
		n = strings.ReplaceAll(strings.ReplaceAll(n, ".id", "/.id"), ":id", "/id")
		paths[i] = strings.Split(n, "/")
	}
	var ids []int64
	for _, id := range uniqueIDs(c.ids) {
		if c.e.get(c.m.name, id) != nil {
			ids = append(ids, id)
		}
	}
	rows, err := exportRows(c.e, c.m, ids, paths)
	if err != nil {
		return nil, err
	}
	datas := make([]any, len(rows))
	for i, r := range rows {
		datas[i] = r
	}
	return Object{{"datas", datas}}, nil
}

// inGroupID reports whether the env's user is in the group of that id.
func inGroupID(e *env, gid int64) bool {
	groups, _ := e.get("res.users", e.uid)["groups_id"].([]int64)
	for _, g := range groups {
		if g == gid {
			return true
		}
	}
	return false
}

// exportRows is _export_rows: the rows of ids for the paths.
func exportRows(e *env, m *model, ids []int64, paths [][]string) ([][]any, *exception) {
	var lines [][]any
	for _, id := range ids {
		r := e.get(m.name, id)
		current := make([]any, len(paths))
		for i := range current {
			current[i] = ""
		}
		lines = append(lines, current)
		done := map[string]bool{}
		for i, path := range paths {
			if len(path) == 0 || path[0] == "" || done[path[0]] {
				continue
			}
			name := path[0]
			if name == ".id" {
				current[i] = itoa(id)
				continue
			}
			if name == "id" {
				return nil, notModelled("exporting external ids (id)")
			}
			f, err := lookupField(e, m, name)
			if err != nil {
				return nil, err
			}
			if f == nil {
				return nil, newException(clsKeyError, name)
			}
			if !f.relational() {
				current[i] = exportValue(f, m.rawValue(e, f, r))
				continue
			}
			done[name] = true
			comodel := registry[f.relation]
			if comodel == nil || comodel.describedOnly {
				return nil, notModelled("exporting " + f.relation + " records through " + m.name + "." + name)
			}
			var related []int64
			if f.typ == tMany2one {
				if target := idOf(m.rawValue(e, f, r)); e.get(f.relation, target) != nil {
					related = []int64{target}
				}
			} else {
				related = x2manyIDs(e, f, r, m.rawValue(e, f, r))
			}
			sub := make([][]string, len(paths))
			for j, p := range paths {
				if len(p) > 0 && p[0] == name {
					sub[j] = p[1:]
					if len(sub[j]) == 0 {
						sub[j] = []string{"display_name"}
					}
				}
			}
			lines2, err := exportRows(e, comodel, related, sub)
			if err != nil {
				return nil, err
			}
			if len(lines2) == 0 {
				current[i] = ""
				continue
			}
			for j, v := range lines2[0] {
				if exportTruthy(v) {
					current[j] = v
				}
			}
			lines = append(lines, lines2[1:]...)
		}
	}
	return lines, nil
}

// exportValue is convert_to_export: "" for an empty value, booleans as
// they are, numbers as they are (0 included).
func exportValue(f *field, v any) any {
	if s, ok := scalarValue(f, v); ok {
		return s
	}
	if v == nil || v == "" {
		return ""
	}
	return v
}

// exportTruthy is "val or isinstance(val, (int, float))": a merged value
// that counts (numbers and booleans do, Python's bool being an int).
func exportTruthy(v any) bool {
	switch x := v.(type) {
	case int64, float64, bool:
		return true
	case string:
		return x != ""
	}
	return v != nil
}
