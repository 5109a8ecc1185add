package odootest

import (
	"sort"
	"time"
)

// Field types, as fields_get names them.
const (
	tChar      = "char"
	tText      = "text"
	tHTML      = "html"
	tBoolean   = "boolean"
	tInteger   = "integer"
	tFloat     = "float"
	tDate      = "date"
	tDatetime  = "datetime"
	tSelection = "selection"
	tMany2one  = "many2one"
	tOne2many  = "one2many"
	tMany2many = "many2many"
)

// field describes one field of a model.
type field struct {
	name      string
	typ       string
	label     string
	relation  string // comodel of a relational field
	inverse   string // one2many: the many2one of the comodel pointing back
	required  bool
	readonly  bool
	computed  bool // computed by the model on read, never written
	selection [][2]string
	model     string // name of the model the field belongs to
	restrict  bool   // ondelete='restrict' (required many2ones restrict too)
	cascade   bool   // ondelete='cascade': deleting the target deletes the record
	// inverseWrite writes a computed field (its inverse method), after
	// the record is written; nil for computed fields Odoo ignores on
	// write.
	inverseWrite func(e *env, r record, v any) *exception
}

// onComodel reports whether an x2many's links are stored on the comodel:
// a one2many (the comodel's many2one), or the side of a many2many whose
// relation the comodel's field holds (inverse names that field).
func (f *field) onComodel() bool {
	return f.typ == tOne2many || f.typ == tMany2many && f.inverse != ""
}

func (f *field) relational() bool {
	return f.typ == tMany2one || f.typ == tOne2many || f.typ == tMany2many
}

func (f *field) x2many() bool { return f.typ == tOne2many || f.typ == tMany2many }

// magic fields Odoo maintains itself: writes to them are ignored.
var magicFields = map[string]bool{
	"id": true, "create_uid": true, "create_date": true, "write_uid": true, "write_date": true,
	"display_name": true,
}

// record is one row: field name to stored value. Stored values are nil
// (SQL NULL), bool, int64, float64, string, or []int64 for a many2many.
type record map[string]any

func (r record) id() int64 { return r["id"].(int64) }

func (r record) clone() record {
	c := make(record, len(r))
	for k, v := range r {
		if ids, ok := v.([]int64); ok {
			v = append([]int64(nil), ids...)
		}
		c[k] = v
	}
	return c
}

// model is the static description of an Odoo model: its fields (in
// Odoo's definition order, which fields_get and a full read follow), its
// default order, access rules and behaviour hooks.
type model struct {
	name        string
	description string // _description, used in access error messages
	order       string // _order
	fields      []*field
	byName      map[string]*field
	parent      string   // _parent_name, for child_of and parent_of ("" if none)
	recNames    []string // _rec_names_search, for name_search
	acl         map[string][]string
	// compute returns a computed field's value (in stored form).
	compute func(e *env, f *field, r record) any
	// displayName returns display_name.
	displayName func(e *env, r record) string
	// rule is the record rule for a user the model restricts; nil
	// allows every record.
	rule func(e *env, op string) func(r record) bool
	// defaults fills the default values of a new record.
	defaults func(e *env, r record)
	// constrain checks Python constraints after create and write.
	constrain func(e *env, r record) *exception
	// sync propagates a written record's values to related records;
	// vals is nil for a new record.
	sync func(e *env, r record, vals Object)
	// sqlCheck reports a violated SQL CHECK constraint, if any.
	sqlCheck func(e *env, r record, insert bool) *integrityError
	// traces gives the frames of recorded error paths (see traces.go).
	traces traceSet
	// prepareCreate adjusts the values of a record about to be created
	// (res.users creates its partner).
	prepareCreate func(e *env, vals Object) (Object, *exception)
	// beforeUnlink refuses deletions the model forbids.
	beforeUnlink func(e *env, ids []int64) *exception
	// readOnly models refuse create, write and unlink as not modelled.
	readOnly bool
	// describedOnly models exist only as Odoo's description of them
	// (catalog.go): fields_get answers, other methods say they are not
	// modelled, and the double holds no records of them.
	describedOnly bool
}

func newModel(m *model) *model {
	m.byName = map[string]*field{}
	for _, f := range m.fields {
		f.model = m.name
		m.byName[f.name] = f
	}
	return m
}

func (m *model) hasActive() bool { return m.byName["active"] != nil }

func (m *model) rawValue(e *env, f *field, r record) any {
	if f.computed {
		return m.compute(e, f, r)
	}
	return r[f.name]
}

func (m *model) display(e *env, r record) string {
	if m.displayName != nil {
		return m.displayName(e, r)
	}
	s, _ := r["name"].(string)
	return s
}

// table holds a model's records and its id sequence.
type table struct {
	model *model
	rows  map[int64]record
	seq   int64 // last id handed out
}

func (t *table) ids() []int64 {
	ids := make([]int64, 0, len(t.rows))
	for id := range t.rows {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// database is the double's one Odoo database.
type database struct {
	tables  map[string]*table
	apiKeys map[int64][]string // the RPC API keys of each uid
	now     func() time.Time
	// groupLabels renames groups in messages (19.0, see usercontext.go).
	groupLabels map[string]string
}

func (db *database) table(name string) *table { return db.tables[name] }

// env is the environment of one call, as Odoo's: the database, the user
// and the context.
type env struct {
	db         *database
	uid        int64
	user       *user
	activeTest bool
	now        time.Time
	version    string // the Odoo version the double answers as
	// defaults are the context's default_<field> values, by field name:
	// every create of the call uses them, nested creates included.
	defaults Object
}

func (e *env) table(name string) *table { return e.db.table(name) }

// get returns the record of model name with id, or nil.
func (e *env) get(name string, id int64) record {
	t := e.table(name)
	if t == nil {
		return nil
	}
	return t.rows[id]
}

// snapshot copies every table's rows, for a rollback.
func (db *database) snapshot() map[string]map[int64]record {
	saved := make(map[string]map[int64]record, len(db.tables))
	for name, t := range db.tables {
		rows := make(map[int64]record, len(t.rows))
		for id, r := range t.rows {
			rows[id] = r.clone()
		}
		saved[name] = rows
	}
	return saved
}

// restore puts back the rows of a snapshot; the id sequences keep their
// values, as Postgres sequences do.
func (db *database) restore(saved map[string]map[int64]record) {
	for name, rows := range saved {
		db.tables[name].rows = rows
	}
}
