"""OdooRPC (Debian's python3-odoorpc) against keygate, with a keygate key
as the password. Prints what it got as JSON for the Go test to check.

usage: odoorpc_client.py HOST PORT DB KEY WRONG_KEY
"""
import json
import sys

import odoorpc

host, port, db, key, wrong = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
out = {}

odoo = odoorpc.ODOO(host, port=port)
out["version"] = odoo.version
odoo.login(db, "any", key)
out["uid"] = odoo.env.uid
Partner = odoo.env["res.partner"]
out["search_read"] = Partner.search_read([("is_company", "=", True)], ["name"], limit=3, order="id")
new_id = Partner.create({"name": "OdooRPC Partner", "email": "rpc@example.com"})
out["create"] = new_id
out["write"] = Partner.write([new_id], {"email": "rpc2@example.com"})
out["read_back"] = Partner.read([new_id], ["name", "email"])
out["unlink"] = Partner.unlink([new_id])
try:
    odoo.env["ir.config_parameter"].search_read([], ["key"], limit=1)
    out["unscoped_model"] = "no error"
except odoorpc.error.RPCError as e:
    out["unscoped_model"] = e.info["data"]["name"]
out["logout"] = odoo.logout()

other = odoorpc.ODOO(host, port=port)
try:
    other.login(db, "any", wrong)
    out["wrong_key"] = "no error"
except odoorpc.error.RPCError as e:
    out["wrong_key"] = e.info["data"]["name"]

print(json.dumps(out))
