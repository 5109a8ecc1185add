package keystore

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// ResealReport is what Reseal did.
type ResealReport struct {
	// Resealed were sealed under a previous key and are now sealed under
	// the current one; Current already were; Failed open under no key
	// (their ids).
	Resealed int
	Current  int
	Failed   []string
}

// resealRetries is how often Reseal retries a credential whose secret
// changed under it.
const resealRetries = 5

// Reseal seals every credential's secret under the vault's current key,
// so that the previous keys can be retired. It is idempotent (a secret
// already under the current key is left alone) and safe while replicas
// serve and change credentials: each secret is replaced only if it is
// still what Reseal read (compare-and-swap), else read again. The
// plaintext does not change, so no cache is dropped. It returns the report
// and, when some secret opens under no key, an error naming how many.
func (v *Vault) Reseal(ctx context.Context, actor string) (ResealReport, error) {
	var rep ResealReport
	if v.sealer == nil {
		return rep, ErrNoSecretKey
	}
	ids, err := v.credentialIDs(ctx)
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		if err := v.resealOne(ctx, actor, id, &rep); err != nil {
			return rep, err
		}
	}
	if len(rep.Failed) > 0 {
		return rep, fmt.Errorf("keystore: %d credential(s) open under no configured key: %w", len(rep.Failed), ErrSealed)
	}
	return rep, nil
}

func (v *Vault) credentialIDs(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*v.s.cfg.QueryTimeout)
	defer cancel()
	var ids []string
	if err := v.s.db.WithContext(ctx).Model(&credentialRow{}).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, dbErr("list credentials", err)
	}
	return ids, nil
}

func (v *Vault) resealOne(ctx context.Context, actor, id string, rep *ResealReport) error {
	for range resealRetries {
		row, err := v.load(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		plain, which, err := v.sealer.open(row.Secret, []byte(row.ID))
		switch {
		case err != nil:
			rep.Failed = append(rep.Failed, id)
			return nil
		case which == 0:
			rep.Current++
			return nil
		}
		swapped, err := v.swapSecret(ctx, actor, row, plain)
		if err != nil {
			return err
		}
		if swapped {
			rep.Resealed++
			return nil
		}
	}
	return fmt.Errorf("keystore: reseal credential %s: it kept changing, run reseal again", id)
}

// swapSecret replaces row's secret by plain sealed under the current key,
// if the stored secret is still row.Secret.
func (v *Vault) swapSecret(ctx context.Context, actor string, row *credentialRow, plain []byte) (bool, error) {
	sealed, err := v.sealer.Seal(plain, []byte(row.ID))
	if err != nil {
		return false, err
	}
	swapped := false
	err = v.s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&credentialRow{}).Where("id = ? AND secret = ?", row.ID, row.Secret).Update("secret", sealed)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		swapped = true
		return v.s.audit(tx, actor, ActionCredentialReseal, nil, v.s.now(), map[string]any{"credential_id": row.ID, "name": row.Name})
	})
	if err != nil {
		return false, dbErr("reseal credential", err)
	}
	return swapped, nil
}
