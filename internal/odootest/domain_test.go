package odootest

import (
	"testing"
	"time"
)

// FuzzSearchDomain searches res.partner with any JSON a client could send
// as a domain and order: a bad one is an Odoo error, never a panic.
func FuzzSearchDomain(f *testing.F) {
	for _, seed := range []string{
		`[["name", "ilike", "wood"]]`,
		`["|", ["id", "child_of", [9, "Deco Addict"]], "!", ["country_id.code", "=", "BE"]]`,
		`[["child_ids.category_id", "in", [7, false]], ["write_date", ">", 3]]`,
		`[["parent_id", "parent_of", {"a": 1}], ["name", "=?", null], [1, "=", 1]]`,
	} {
		f.Add(seed, "name desc, id")
	}
	db := newDatabase(time.Now)
	f.Fuzz(func(t *testing.T, data, order string) {
		v, err := decodeJSON([]byte(data))
		if err != nil {
			return
		}
		e := &env{db: db, uid: UIDAdmin, user: db.user(UIDAdmin), activeTest: true, now: time.Now()}
		_, _ = search(e, registry["res.partner"], v, 0, 0, order)
	})
}
