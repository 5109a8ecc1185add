package proxy

import "github.com/keygate/keygate/odoo"

// Forget drops what Accounts keeps of the service account of credential id
// (every credential when id is "", keystore.AllCredentials) and returns the
// accounts it held, so that what was derived from them (their uids) can be
// dropped too. A load that began before Forget is not kept.
func (a *Accounts) Forget(id string) []odoo.Account {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	var out []odoo.Account
	for cid, e := range a.cache {
		if id == "" || cid == id {
			out = append(out, e.acct)
			delete(a.cache, cid)
		}
	}
	return out
}

// ForgetCredential returns the callback that keeps the gateway's caches in
// step with the credential vault: subscribe it to
// keystore.Store.OnCredentialChange, and a changed or deleted service
// account is read again (or refused) on its next use, its uid resolved
// again.
func ForgetCredential(accounts *Accounts, client *odoo.Client) func(id string) {
	return func(id string) {
		for _, acct := range accounts.Forget(id) {
			client.ForgetAccount(acct)
		}
	}
}
