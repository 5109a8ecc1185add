package odootest

import "strings"

// Operations of access rights and record rules.
const (
	opRead   = "read"
	opWrite  = "write"
	opCreate = "create"
	opUnlink = "unlink"
)

var aclVerbs = map[string]string{
	opRead:   "access",
	opWrite:  "modify",
	opCreate: "create",
	opUnlink: "delete",
}

// checkModelAccess is Odoo's model access check (ir.model.access): the
// user must be in one of the groups the model grants op to. The error is
// raised at models.py check_access, the caller adds the frames above.
func checkModelAccess(e *env, m *model, op string) *exception {
	if e.uid == 1 || e.user.inGroup(m.acl[op]) {
		return nil
	}
	msg := "You are not allowed to " + aclVerbs[op] + " '" + m.description + "' (" + m.name + ") records."
	if groups := m.acl[op]; len(groups) > 0 {
		labels := make([]string, len(groups))
		for i, g := range groups {
			labels[i] = e.db.groupLabel(g)
		}
		msg += "\n\nThis operation is allowed for the following groups:\n\t- " + strings.Join(labels, "\n\t- ")
	} else {
		msg += "\n\nNo group currently allows this operation."
	}
	msg += "\n\nContact your administrator to request access if necessary."
	return newException(clsAccessError, msg, frModelsCheckAccess4362)
}

// ruleFilter returns the record rule predicate of the model for the
// current user and operation, or nil when every record is allowed.
func ruleFilter(e *env, m *model, op string) func(record) bool {
	if m.rule == nil || e.uid == 1 {
		return nil
	}
	return m.rule(e, op)
}

// ruleError is the AccessError of a record rule, in the form Odoo shows
// users outside debug mode.
func ruleError(e *env, m *model, op string) *exception {
	msg := "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n" +
		"Sorry, " + e.user.name + " (id=" + itoa(e.uid) + ") doesn't have '" + op + "' access to:\n" +
		"- " + m.description + " (" + m.name + ")\n\n" +
		"If you really, really need access, perhaps you can win over your friendly administrator with a batch of freshly baked cookies."
	return newException(clsAccessError, msg)
}

// forbidden returns the ids among ids that the record rule hides.
func forbidden(e *env, m *model, op string, ids []int64) []int64 {
	allow := ruleFilter(e, m, op)
	if allow == nil {
		return nil
	}
	var out []int64
	t := e.table(m.name)
	for _, id := range ids {
		if r := t.rows[id]; r != nil && !allow(r) {
			out = append(out, id)
		}
	}
	return out
}
