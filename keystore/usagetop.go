package keystore

import (
	"context"
	"fmt"
	"time"
)

// UsageOrder is what TopUsage ranks keys by.
type UsageOrder string

// The orders of TopUsage.
const (
	ByAllowed UsageOrder = "allowed" // the busiest keys
	ByDenied  UsageOrder = "denied"  // the most refused keys
)

// UsageTotal is what one key did since a time: its hours summed, with
// enough of the key to name it.
type UsageTotal struct {
	KeyID   string `json:"key_id"`
	Prefix  string `json:"prefix"`
	Name    string `json:"name"`
	Owner   string `json:"owner"`
	Allowed int64  `json:"allowed"`
	Denied  int64  `json:"denied"`
}

// TopUsage returns at most limit keys (1 to 100, default 10) ranked by
// their requests allowed or denied since since, highest first; keys with
// none of that kind are left out. Counts not yet flushed are not included.
func (s *Store) TopUsage(ctx context.Context, since time.Time, by UsageOrder, limit int) ([]UsageTotal, error) {
	if by != ByAllowed && by != ByDenied {
		return nil, fmt.Errorf("keystore: top usage by %q: %w", by, ErrInvalid)
	}
	if limit < 1 {
		limit = 10
	}
	sum := "SUM(u." + string(by) + ")" // by is one of two constants
	q := `SELECT u.key_id AS key_id, k.prefix AS prefix, k.name AS name, k.owner AS owner,
CAST(SUM(u.allowed) AS BIGINT) AS allowed, CAST(SUM(u.denied) AS BIGINT) AS denied
FROM key_usage u JOIN api_keys k ON k.id = u.key_id
WHERE u.hour >= ?
GROUP BY u.key_id, k.prefix, k.name, k.owner
HAVING ` + sum + ` > 0
ORDER BY ` + sum + ` DESC, u.key_id
LIMIT ?`
	var out []UsageTotal
	err := s.db.WithContext(ctx).Raw(q, since.UTC().Truncate(time.Hour), min(limit, 100)).Scan(&out).Error
	if err != nil {
		return nil, dbErr("top usage", err)
	}
	if out == nil {
		out = []UsageTotal{}
	}
	return out, nil
}
