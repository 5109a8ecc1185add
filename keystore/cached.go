package keystore

// VerifyCached checks a presented credential against the verification
// cache only, never storage: cached is false when the cache knows nothing
// of it. A malformed credential is answered (ErrMalformed); any other as
// Verify would answer it from the cache.
func (s *Store) VerifyCached(presented string) (v *Verified, cached bool, err error) {
	now := s.cfg.Now().UnixNano()
	_, v, ok, err := s.cached(presented, now)
	switch {
	case err != nil:
		return nil, true, err
	case !ok:
		return nil, false, nil
	}
	if v == nil {
		return nil, true, ErrUnknown
	}
	return v, true, verdict(v, now)
}
