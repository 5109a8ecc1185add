package keystore

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

func (s *Store) audit(tx *gorm.DB, actor, action string, keyID *string, at time.Time, details map[string]any) error {
	b := []byte("{}")
	if details != nil {
		var err error
		if b, err = json.Marshal(details); err != nil {
			return err
		}
	}
	return tx.Create(&auditRow{ID: newID(), At: at, Actor: actor, Action: action, KeyID: keyID, Details: b}).Error
}

// Audit returns one page of audit events, newest first, and the total.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEvent, int64, error) {
	q := s.db.WithContext(ctx).Model(&auditRow{})
	if f.KeyID != "" {
		q = q.Where("key_id = ?", f.KeyID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, dbErr("count audit events", err)
	}
	page, limit := pageOf(f.Page, f.Limit)
	var rows []auditRow
	if err := q.Order("at DESC, id DESC").Offset((page - 1) * limit).Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, dbErr("list audit events", err)
	}
	out := make([]AuditEvent, len(rows))
	for i := range rows {
		out[i] = rows[i].event()
	}
	return out, total, nil
}
