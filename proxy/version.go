package proxy

import (
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// versionTTL is how long an answer of common.version is reused. The call
// needs no key, so the cache keeps anonymous callers from reaching Odoo
// more than once a minute per URL and protocol.
const versionTTL = time.Minute

// versionCache keeps common.version answers by Odoo URL and protocol.
// Errors are never kept.
type versionCache struct {
	mu    sync.Mutex
	m     map[string]versionEntry
	group singleflight.Group
	now   func() time.Time
}

type versionEntry struct {
	answer []byte
	until  time.Time
}

// get returns the cached answer for key, or fetches it (once for all
// concurrent callers) and keeps it for versionTTL.
func (v *versionCache) get(key string, fetch func() ([]byte, error)) ([]byte, error) {
	v.mu.Lock()
	e, ok := v.m[key]
	v.mu.Unlock()
	if ok && v.now().Before(e.until) {
		return e.answer, nil
	}
	res, err, _ := v.group.Do(key, func() (any, error) {
		answer, err := fetch()
		if err != nil {
			return nil, err
		}
		v.mu.Lock()
		v.m[key] = versionEntry{answer: answer, until: v.now().Add(versionTTL)}
		v.mu.Unlock()
		return answer, nil
	})
	if err != nil {
		return nil, err
	}
	return res.([]byte), nil
}
