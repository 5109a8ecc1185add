package odootest

import "time"

// When the 18.0 demo database was created: the create_date and write_date
// of its demo records (see the fixtures' README).
const (
	seedCreated = "2026-11-28 08:35:33"
	seedWritten = "2026-11-28 08:35:53"
)

const (
	countryBE = 20
	countryUS = 233
)

// seedPartner is one demo partner. The records the fixtures show (1, 3,
// 4, 9, 10, 11, 14, 15, 16, 17, 19, 20, 36 and portal's 8) are as
// recorded; the others are Odoo 18's demo data (base/data/
// res_partner_demo.xml) in load order, which is what gives the recorded
// ids. Mitchell Admin belongs to YourCompany: fixture 18.0/xmlrpc/37
// shows him sorted after it by complete_name ("YourCompany, Mitchell
// Admin"). Contacts without an address of their own inherit their
// company's address and tax id, as Odoo's address sync does.
type seedPartner struct {
	id                     int64
	name                   string
	company, inactive      bool
	parent                 int64
	function, email, phone string
	mobile, street, city   string
	zip, website, vat      string
	country                int64
	categories             []int64
	companyName            string
}

var seedPartners = []seedPartner{
	{id: 1, name: "YourCompany", company: true, email: "info@yourcompany.com", phone: "+1 555-555-5556",
		street: "250 Executive Park Blvd, Suite 3400", city: "San Francisco", zip: "94134", country: countryUS,
		website: "http://www.example.com"},
	{id: 2, name: "OdooBot", inactive: true, email: "odoobot@example.com"},
	{id: 3, name: "Mitchell Admin", parent: 1, email: "admin@yourcompany.example.com", phone: "+1 555-555-5555",
		street: "215 Vine St", city: "Scranton", zip: "18503", country: countryUS},
	{id: 4, name: "Public user", inactive: true},
	{id: 5, name: "Default User Template", inactive: true},
	{id: 6, name: "Portal User Template", inactive: true},
	{id: 7, name: "Marc Demo", companyName: "YourCompany", email: "mark.brown23@example.com", phone: "(441)-695-2334",
		street: "3575  Buena Vista Avenue", city: "Eugene", zip: "97401", country: countryUS},
	{id: 8, name: "Joel Willis", email: "joel.willis63@example.com", phone: "(683)-556-5104",
		street: "858 Lynn Street", city: "Bayonne", zip: "07002", country: countryUS},
	{id: 9, name: "Wood Corner", company: true, street: "1839 Arbor Way", city: "Turlock", zip: "95380",
		country: countryUS, email: "wood.corner26@example.com", phone: "(623)-853-7197",
		website: "http://www.wood-corner.com", vat: "US12345672", categories: []int64{7, 6}},
	{id: 10, name: "Deco Addict", company: true, street: "77 Santa Barbara Rd", city: "Pleasant Hill", zip: "94523",
		country: countryUS, email: "deco_addict@yourcompany.example.com", phone: "(603)-996-3829",
		website: "http://www.deco-addict.com", vat: "US12345673", categories: []int64{7}},
	{id: 11, name: "Gemini Furniture", company: true, street: "317 Fairchild Dr", city: "Fairfield", zip: "94535",
		country: countryUS, email: "gemini_furniture@fake.geminifurniture.com", phone: "(941)-284-4875",
		website: "http://www.gemini-furniture.com/", vat: "US12345674", categories: []int64{4, 7}},
	{id: 12, name: "Ready Mat", company: true, street: "7500 W Linne Road", city: "Tracy", zip: "95304",
		country: countryUS, email: "ready.mat28@example.com", phone: "(803)-873-6126",
		website: "http://www.ready-mat.com/", vat: "US12345675", categories: []int64{7, 6}},
	{id: 13, name: "OpenWood", company: true, street: "Orval 1", city: "Florenville", zip: "6823",
		country: countryBE, email: "wow@example.com", phone: "+32 987 65 43 21", mobile: "+32 987 65 43 21",
		website: "www.openwood.example.com"},
	{id: 14, name: "The Jackson Group", company: true, street: "1611 Peony Dr", city: "Tracy", zip: "95377",
		country: countryUS, email: "jackson.group82@example.com", phone: "(334)-502-1024", vat: "US12345676"},
	{id: 15, name: "Azure Interior", company: true, street: "4557 De Silva St", city: "Fremont", zip: "94538",
		country: countryUS, email: "azure.Interior24@example.com", phone: "(870)-931-0505",
		website: "http://www.azure-interior.com", vat: "US12345677", categories: []int64{5}},
	{id: 16, name: "Lumber Inc", company: true, street: "1337 N San Joaquin St", city: "Stockton", zip: "95202",
		country: countryUS, email: "lumber-inv92@example.com", phone: "(828)-316-0593",
		website: "http://www.lumber-inc.com", vat: "US12345678"},
	contact(17, "Willie Burke", 9, "Service Manager", "willie.burke80@example.com", "(846)-523-2111"),
	contact(18, "Ron Gibson", 9, "Store Manager", "ron.gibson76@example.com", "(976)-397-4091"),
	contact(19, "Douglas Fletcher", 10, "Functional Consultant", "douglas.fletcher51@example.com", "(132)-553-7242"),
	contact(20, "Floyd Steward", 10, "Analyst", "floyd.steward34@example.com", "(145)-138-3401"),
	contact(21, "Edwin Hansen", 11, "Marketing Manager", "edwin.hansen58@example.com", "(943)-352-2555"),
	contact(22, "Billy Fox", 12, "Production Supervisor", "billy.fox45@example.com", "(915)-498-5611"),
	contact(23, "Jesse Brown", 11, "Senior Consultant", "jesse.brown74@example.com", "(829)-386-3277"),
	contact(24, "Soham Palmer", 11, "Director", "soham.palmer15@example.com", "(379)-167-2040"),
	contact(25, "Kim Snyder", 12, "Senior Associate", "kim.snyder96@example.com", "(215)-379-4865"),
	contact(26, "Edith Sanchez", 12, "Analyst", "edith.sanchez68@example.com", "(938)-175-2048"),
	contact(27, "Brandon Freeman", 15, "Creative Director", "brandon.freeman55@example.com", "(355)-687-3262"),
	contact(28, "Nicole Ford", 15, "Director", "nicole.ford75@example.com", "(946)-638-6034"),
	contact(29, "Toni Rhodes", 14, "Managing Partner", "toni.rhodes11@example.com", "(198)-539-4948"),
	contact(30, "Gordon Owens", 14, "Senior Consultant", "gordon.owens47@example.com", "(336)-723-6569"),
	contact(31, "Theodore Gardner", 12, "System Analyst", "theodore.gardner36@example.com", "(186)-612-6561"),
	contact(32, "Oscar Morgan", 11, "Order Clerk", "oscar.morgan11@example.com", "(561)-239-1744"),
	contact(33, "Tom Ruiz", 9, "Software Developer", "tom.ruiz89@example.com", "(102)-834-1602"),
	contact(34, "Colleen Diaz", 15, "Business Executive", "colleen.diaz83@example.com", "(255)-595-8393"),
	contact(35, "Lorraine Douglas", 16, "Functional Consultant", "lorraine.douglas35@example.com", "(443)-648-9155"),
	contact(36, "Addison Olson", 10, "Sales Representative", "addison.olson28@example.com", "(223)-399-7637"),
	contact(37, "Sandra Neal", 12, "Sales Manager", "sandra.neal80@example.com", "(430)-371-7293"),
	contact(38, "Julie Richards", 12, "Financial Manager", "julie.richards84@example.com", "(225)-148-7811"),
	contact(39, "Travis Mendoza", 12, "Knowledge Manager", "travis.mendoza24@example.com", "(840)-944-8661"),
	contact(40, "Chester Reed", 1, "Chief Executive Officer (CEO)", "chester.reed79@example.com", "(979)-904-8902"),
	contact(41, "Dwayne Newman", 1, "Chief Operations Officer (COO)", "dwayne.newman28@example.com", "(614)-177-4937"),
}

func contact(id int64, name string, parent int64, function, email, phone string) seedPartner {
	return seedPartner{id: id, name: name, parent: parent, function: function, email: email, phone: phone}
}

// newDatabase returns the pristine database: the demo data the fixtures
// start from, with partner ids continuing at 42.
func newDatabase(now func() time.Time) *database {
	db := &database{tables: map[string]*table{}, apiKeys: map[int64][]string{}, now: now}
	for name, m := range registry {
		if !m.describedOnly {
			db.tables[name] = &table{model: m, rows: map[int64]record{}}
		}
	}
	seedPartnerRows(db)
	seedCategoryRows(db)
	seedReferenceRows(db)
	seedUserRows(db)
	return db
}

// insert adds a seeded record with the demo database's log values.
func (db *database) insert(model string, r record) {
	setDefault(r, "create_uid", int64(1))
	setDefault(r, "write_uid", int64(1))
	setDefault(r, "create_date", seedCreated)
	setDefault(r, "write_date", seedWritten)
	t := db.tables[model]
	t.rows[r.id()] = r
	t.seq = max(t.seq, r.id())
}

func seedPartnerRows(db *database) {
	byID := map[int64]seedPartner{}
	for _, p := range seedPartners {
		byID[p.id] = p
	}
	for _, p := range seedPartners {
		if p.parent != 0 && p.street == "" {
			inheritAddress(&p, byID[p.parent])
		}
		r := partnerRecord(p)
		if p.id <= 2 {
			r["create_uid"] = nil // inserted by base_data.sql, before any user
		}
		db.insert("res.partner", r)
	}
}

// inheritAddress copies the company's address and tax id to a contact.
func inheritAddress(p *seedPartner, company seedPartner) {
	p.street, p.city, p.zip, p.country = company.street, company.city, company.zip, company.country
	p.vat = company.vat
}

func partnerRecord(p seedPartner) record {
	r := record{
		"id": p.id, "name": p.name, "is_company": p.company, "active": !p.inactive,
		"type": "contact", "lang": "en_US", "category_id": append([]int64{}, p.categories...),
	}
	if p.parent != 0 {
		r["parent_id"] = p.parent
	}
	if p.country != 0 {
		r["country_id"] = p.country
	}
	for name, v := range map[string]string{
		"function": p.function, "email": p.email, "phone": p.phone, "mobile": p.mobile,
		"street": p.street, "city": p.city, "zip": p.zip, "website": p.website, "vat": p.vat,
		"company_name": p.companyName,
	} {
		if v != "" {
			r[name] = v
		}
	}
	return r
}

// seedCategoryRows are base's demo partner tags, in load order.
func seedCategoryRows(db *database) {
	for i, c := range []struct {
		name   string
		color  int64
		parent int64
	}{
		{"Vendor", 2, 0}, {"Prospects", 3, 0}, {"Employees", 4, 0}, {"Consulting Services", 5, 0},
		{"Services", 7, 0}, {"Office Supplies", 8, 1}, {"Desk Manufacturers", 10, 1},
	} {
		r := record{"id": int64(i + 1), "name": c.name, "color": c.color, "active": true}
		if c.parent != 0 {
			r["parent_id"] = c.parent
		}
		db.insert("res.partner.category", r)
	}
}

// seedReferenceRows are the countries, currencies and rates the fixtures
// show, and a few system parameters (invented: no fixture shows one).
func seedReferenceRows(db *database) {
	db.insert("res.country", record{"id": int64(countryBE), "name": "Belgium", "code": "BE"})
	db.insert("res.country", record{"id": int64(countryUS), "name": "United States", "code": "US"})
	db.insert("res.currency", record{"id": int64(1), "name": "USD", "symbol": "$", "active": true})
	db.insert("res.currency", record{"id": int64(2), "name": "VEF", "symbol": "Bs.F", "active": true})
	for _, r := range []record{
		{"id": int64(1), "name": "2010-01-01", "rate": 1.0, "currency_id": int64(1)},
		{"id": int64(2), "name": "2010-01-01", "rate": 5.864, "currency_id": int64(2)},
	} {
		r["write_date"] = seedCreated
		db.insert("res.currency.rate", r)
	}
	for i, kv := range [][2]string{
		{"database.create_date", seedCreated},
		{"web.base.url", "http://localhost:8069"},
	} {
		db.insert("ir.config_parameter", record{"id": int64(i + 1), "key": kv[0], "value": kv[1]})
	}
}

// seedUserRows are the groups and the users (seedUsers).
func seedUserRows(db *database) {
	for _, g := range seedGroups {
		db.insert("res.groups", record{"id": g.id, "name": g.name, groupFullName: g.full})
	}
	for _, u := range seedUsers {
		r := record{"id": u.id, "login": u.login, "partner_id": u.partnerID, "active": u.active,
			"groups_id": append([]int64(nil), u.groups...)}
		if u.password != "" {
			r[userPassword] = u.password
		}
		db.insert("res.users", r)
		if len(u.rpcKeys) > 0 {
			db.apiKeys[u.id] = u.rpcKeys
		}
	}
}
