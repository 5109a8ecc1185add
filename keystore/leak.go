package keystore

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// RevokeLeaked revokes the key whose plaintext was found leaked, as Revoke
// does (every replica refuses it within a second), with details in its
// audit event. It reads the database, never the verification cache. An
// expired key is revoked too: a PATCH of expires_at could revive it. It
// returns ErrMalformed for a string that is not a key, ErrUnknown for a key
// this store never issued, else the key as it now is and whether this call
// revoked it (false: it was revoked before).
func (s *Store) RevokeLeaked(ctx context.Context, actor, presented string, details map[string]any) (*Record, bool, error) {
	if !wellFormed(presented) {
		return nil, false, ErrMalformed
	}
	h := HashString(presented)
	qctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	var row keyRow
	err := s.db.WithContext(qctx).Select("id", "status").Where("hash = ?", h[:]).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, false, ErrUnknown
	case err != nil:
		return nil, false, dbErr("find leaked key", err)
	}
	return s.revoke(ctx, actor, row.ID, details)
}

// ScanPattern is the regular expression that matches keys of prefix, for
// secret scanners (GitHub's partner program): the prefix, "_", then the
// 43 base62 characters of the secret and the 6 of the checksum, not inside
// a longer word.
func ScanPattern(prefix string) string {
	return fmt.Sprintf(`\b%s_[0-9A-Za-z]{%d}\b`, prefix, bodyLen+checkLen)
}
