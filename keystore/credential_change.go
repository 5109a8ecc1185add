package keystore

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Audit actions of the credential lifecycle.
const (
	ActionCredentialUpdate = "credential.update"
	ActionCredentialDelete = "credential.delete"
	ActionCredentialReseal = "credential.reseal"
)

// CredentialPatch changes some fields of a credential; unset fields stay as
// they are. Password replaces the secret, sealed under the current key.
type CredentialPatch struct {
	Name     Optional[string]
	URL      Optional[string]
	DB       Optional[string]
	Login    Optional[string]
	Password Optional[string]
}

// InUseError refuses to delete a credential that keys still name. It
// matches ErrConflict with errors.Is.
type InUseError struct {
	// Keys is how many keys (active or expired; revoked ones do not count)
	// name the credential; KeyIDs lists the first of them.
	Keys   int64
	KeyIDs []string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("keystore: credential is used by %d key(s)", e.Keys)
}

func (e *InUseError) Is(target error) bool { return target == ErrConflict }

// maxInUseIDs is how many key ids an InUseError lists.
const maxInUseIDs = 20

// UpdateCredential applies p to credential id and returns it as it now is.
// A new password needs the secret key (ErrNoSecretKey); the other fields do
// not. Every replica drops what it derived from the old account (see
// OnCredentialChange).
func (v *Vault) UpdateCredential(ctx context.Context, actor, id string, p CredentialPatch) (*Credential, error) {
	if p.Password.Set && v.sealer == nil {
		return nil, ErrNoSecretKey
	}
	now := v.s.now()
	var row *credentialRow
	err := v.s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if row, err = v.lockRow(tx, id); err != nil {
			return err
		}
		changed, err := v.applyCredentialPatch(row, p)
		if err != nil || len(changed) == 0 {
			return err
		}
		row.UpdatedAt = now
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		if err := v.s.audit(tx, actor, ActionCredentialUpdate, nil, now, map[string]any{"credential_id": row.ID,
			"fields": changed, "name": row.Name, "url": row.URL, "db": row.DB, "login": row.Login}); err != nil {
			return err
		}
		return v.s.notifyCredential(tx, row.ID)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, &ValidationError{Fields: map[string]string{"name": "is already used by another credential"}}
	}
	if err != nil {
		return nil, v.s.mutationErr("update credential", err)
	}
	v.s.credentialChanged(id)
	return row.credential(), nil
}

// applyCredentialPatch validates the patched credential and applies it to
// row; it returns the names of the fields the patch set.
func (v *Vault) applyCredentialPatch(row *credentialRow, p CredentialPatch) ([]string, error) {
	spec := CredentialSpec{Name: row.Name, URL: row.URL, DB: row.DB, Login: row.Login}
	var changed []string
	set(&changed, "name", p.Name, &spec.Name)
	set(&changed, "url", p.URL, &spec.URL)
	set(&changed, "db", p.DB, &spec.DB)
	set(&changed, "login", p.Login, &spec.Login)
	var ve ValidationError
	checkCredentialFields(&ve, &spec)
	if p.Password.Set {
		changed = append(changed, "password")
		checkSecret(&ve, p.Password.Value)
	}
	if err := ve.err(); err != nil {
		return nil, err
	}
	row.Name, row.URL, row.DB, row.Login = spec.Name, spec.URL, spec.DB, spec.Login
	if p.Password.Set {
		sealed, err := v.sealer.Seal([]byte(p.Password.Value), []byte(row.ID))
		if err != nil {
			return nil, err
		}
		row.Secret = sealed
	}
	return changed, nil
}

// DeleteCredential removes credential id. While keys that are not revoked
// name it, it refuses with an *InUseError (ErrConflict): revoke them or
// move them to another credential first. Revoked keys keep the id they
// named, as history.
func (v *Vault) DeleteCredential(ctx context.Context, actor, id string) error {
	now := v.s.now()
	err := v.s.tx(ctx, func(tx *gorm.DB) error {
		row, err := v.lockRow(tx, id)
		if err != nil {
			return err
		}
		if err := keysUsing(tx, id); err != nil {
			return err
		}
		if err := tx.Delete(&credentialRow{}, "id = ?", id).Error; err != nil {
			return err
		}
		if err := v.s.audit(tx, actor, ActionCredentialDelete, nil, now, map[string]any{"credential_id": id,
			"name": row.Name, "url": row.URL, "db": row.DB, "login": row.Login}); err != nil {
			return err
		}
		return v.s.notifyCredential(tx, id)
	})
	if err != nil {
		return v.s.mutationErr("delete credential", err)
	}
	v.s.credentialChanged(id)
	return nil
}

// keysUsing returns an *InUseError when keys that are not revoked name the
// credential.
func keysUsing(tx *gorm.DB, id string) error {
	q := tx.Model(&keyRow{}).Where("credential_id = ? AND status <> ?", id, StatusRevoked)
	var n int64
	if err := q.Count(&n).Error; err != nil || n == 0 {
		return err
	}
	var ids []string
	if err := q.Order("created_at, id").Limit(maxInUseIDs).Pluck("id", &ids).Error; err != nil {
		return err
	}
	return &InUseError{Keys: n, KeyIDs: ids}
}

// lockRow reads credential id for a change; on Postgres the row stays
// locked until tx ends (SQLite transactions are serialized already).
func (v *Vault) lockRow(tx *gorm.DB, id string) (*credentialRow, error) {
	q := tx
	if v.s.dialect == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row credentialRow
	err := q.Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("keystore: credential %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &row, nil
}
