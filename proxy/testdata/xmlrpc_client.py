"""A partner's script, as Odoo's external API documentation writes it,
pointed at keygate with a keygate key as the password. Python standard
library only. Prints what it got as one JSON object.

usage: xmlrpc_client.py URL DB KEY WRONG_KEY PREFIX
(PREFIX is /xmlrpc for the legacy paths, /xmlrpc/2 for the current ones)
"""
import json
import sys
import xmlrpc.client

url, db, key, wrong_key, prefix = sys.argv[1:6]
username = "partner@example.com"  # keygate ignores the login

# The seed code.
common = xmlrpc.client.ServerProxy(f"{url}{prefix}/common")
uid = common.authenticate(db, username, key, {})
models = xmlrpc.client.ServerProxy(f"{url}{prefix}/object")
partners = models.execute_kw(db, uid, key, 'res.partner', 'search_read', [[], ['name', 'email']])

new_id = models.execute_kw(db, uid, key, 'res.partner', 'create', [{'name': 'Keygate Partner', 'email': 'kg@example.com'}])
written = models.execute_kw(db, uid, key, 'res.partner', 'write', [[new_id], {'name': 'Keygate Partner 2'}])
read_back = models.execute_kw(db, uid, key, 'res.partner', 'read', [[new_id]], {'fields': ['name', 'email']})
unlinked = models.execute_kw(db, uid, key, 'res.partner', 'unlink', [[new_id]])


def fault(call):
    try:
        call()
    except xmlrpc.client.Fault as f:
        return {"faultCode": f.faultCode, "faultString": f.faultString}
    return None


print(json.dumps({
    "version": common.version()["server_version"],
    "uid": uid,
    "search_read": partners,
    "create": new_id,
    "write": written,
    "read_back": read_back,
    "unlink": unlinked,
    "unscoped_model": fault(lambda: models.execute_kw(db, uid, key, 'ir.config_parameter', 'search_read', [[]], {'fields': ['key']})),
    "wrong_key_execute": fault(lambda: models.execute_kw(db, uid, wrong_key, 'res.partner', 'search_count', [[]])),
    "wrong_key_authenticate": common.authenticate(db, username, wrong_key, {}),
    "db_list": fault(lambda: xmlrpc.client.ServerProxy(f"{url}{prefix}/db").list()),
}))
