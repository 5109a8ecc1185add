package odootest

import (
	"regexp"
	"slices"
	"strings"
)

// Odoo 19 words some of 18.0's errors differently. The double raises
// 18.0's; v19Exception rewrites those whose 19.0 text the recordings show
// (19.0/json2, 19.0/relations), by where they were raised.
var (
	reInvalidFieldOnModel = regexp.MustCompile(`^(Invalid field '.*') on model ('.*')$`)
	reInvalidLeaf         = regexp.MustCompile(`^Invalid leaf (\(.*\))$`)
	reInLeaf              = regexp.MustCompile(`^(Invalid field \S+) in leaf (\(.*\))$`)
)

func v19Exception(exc *exception) *exception {
	if exc == nil || len(exc.args) != 1 {
		return exc
	}
	msg, ok := exc.args[0].(string)
	if !ok {
		return exc
	}
	switch {
	case reInvalidFieldOnModel.MatchString(msg) && raisedAt(exc, frModelsDetermineFieldsToFetch4111):
		msg = reInvalidFieldOnModel.ReplaceAllString(msg, "$1 on $2")
	case reInvalidLeaf.MatchString(msg) && raisedAt(exc, frExpressionCheckLeaf739) && strings.Count(msg, ", ") == 2:
		msg = reInvalidLeaf.ReplaceAllString(msg, "Invalid operator in condition $1")
	case reInLeaf.MatchString(msg):
		msg = reInLeaf.ReplaceAllString(msg, "$1 in condition $2")
	default:
		return exc
	}
	out := *exc
	out.args = []any{msg}
	return &out
}

func raisedAt(exc *exception, f frame) bool {
	return len(exc.frames) > 0 && exc.frames[len(exc.frames)-1] == f
}

// Frames of res.users' unlink of the admin user (18.0/web/21).
var (
	frDiscussUsersUnlink32       = frame{pkgAddons + "mail/models/discuss/res_users.py", 32, "unlink", `return super().unlink()`, `       ^^^^^^^^^^^^^^^^`}
	frModelsUnlink4470           = frame{pkgOdoo + "models.py", 4470, "unlink", `func(self)`, ""}
	frUsersUnlinkExceptMaster808 = frame{pkgOdoo + "addons/base/models/res_users.py", 808, "_unlink_except_master_data", `raise UserError(_('You cannot delete the admin user because it is utilized in various places (such as security configurations,...). Instead, archive it.'))`, ""}
)

// unlinkMasterData is res.users' _unlink_except_master_data (an
// ondelete check, after the access check): the admin user cannot be
// deleted. Deleting other users stays not modelled.
func unlinkMasterData(e *env, m *model, ids []int64) *exception {
	if m.name != "res.users" || !slices.Contains(ids, UIDAdmin) {
		return nil
	}
	if err := checkModelAccess(e, m, opUnlink); err != nil {
		return err.under(frDiscussUsersUnlink32)
	}
	return newException(clsUserError, "You cannot delete the admin user because it is utilized in various places "+
		"(such as security configurations,...). Instead, archive it.",
		frDiscussUsersUnlink32, frModelsUnlink4470, frUsersUnlinkExceptMaster808)
}
