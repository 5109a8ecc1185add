# keygate's Odoo service account: a dedicated internal user with only the
# rights partners need (Contacts: Internal User + Contact Creation), never
# an administrator, and a persistent RPC API key for it.
#
# Run inside Odoo's shell, where `env` is the superuser's environment:
#   docker compose --profile setup run --rm odoo-setup
# (README.md, "Run it with Docker Compose"). It prints the two lines to put
# in .env. Running it again resets the user's groups and adds a new key.
#
# Why not admin: keygate refuses what a key's scopes do not grant, Odoo
# refuses what the service account may not do. With admin behind it, one
# mistake in keygate's checks (or a scope granted too widely) reaches
# every model, user and setting; with this user it reaches contacts.
# Widen the groups to what your partners' scopes name (Sales, Inventory,
# ...), never to Settings or Access Rights.
import os

login = os.environ.get("KEYGATE_ODOO_LOGIN") or "keygate"
if login == "admin":
    raise SystemExit("KEYGATE_ODOO_LOGIN is admin: choose a dedicated login (keygate)")

groups = [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id]  # noqa: F821 (env: Odoo shell)
users = env["res.users"].sudo().with_context(no_reset_password=True, active_test=False)  # noqa: F821
user = users.search([("login", "=", login)], limit=1)
if user and user._is_admin():
    raise SystemExit(f"{login} is an Odoo administrator: keygate's service account must not be")
if not user:
    user = users.create({"name": "keygate service account", "login": login, "groups_id": [(6, 0, groups)]})
else:
    user.write({"active": True, "groups_id": [(6, 0, groups)]})
# sudo: a key without an expiry date; with_user: the key is this user's
key = env["res.users.apikeys"].with_user(user).sudo()._generate(None, "keygate", None)  # noqa: F821
env.cr.commit()  # noqa: F821
print(f"KEYGATE_ODOO_LOGIN={login}")
print(f"KEYGATE_ODOO_PASSWORD={key}")
