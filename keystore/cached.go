package keystore

// VerifyCached checks a presented credential against the verification
// cache only, never storage: cached is false when the cache knows nothing
// of it. A malformed credential is answered (ErrMalformed) without the
// cache; any other as Verify would answer it from the cache.
func (s *Store) VerifyCached(presented string) (rec *Record, cached bool, err error) {
	if !wellFormed(presented) {
		return nil, true, ErrMalformed
	}
	r, ok := s.cache.GetIfPresent(HashString(presented))
	if !ok {
		return nil, false, nil
	}
	if r == nil {
		return nil, true, ErrUnknown
	}
	return r, true, s.verdict(r)
}
