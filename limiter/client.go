package limiter

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// NewRedisClient returns a client for a Redis URL in one of three forms:
//
//	redis://[user:password@]host:port[/db][?option=value...]    one server (rediss:// for TLS)
//	redis+sentinel://[user:password@]sentinel:port[/db]?master_name=NAME[&addr=sentinel2:port...]
//	redis+cluster://[user:password@]node:port[?addr=node2:port...]
//
// with rediss+sentinel:// and rediss+cluster:// for TLS. After the scheme,
// each form is go-redis's own (redis.ParseURL, redis.ParseFailoverURL,
// redis.ParseClusterURL): the options are go-redis's in snake case, such as
// dial_timeout=1s or pool_size=20. The client always has
// ContextTimeoutEnabled, so that a context's deadline bounds each call, and
// dials once (dialer_retries=1 unless the URL says otherwise; go-redis's
// default, 5 dials 100ms apart, would hold a Cluster client's topology
// reload on a dead master for half a second). It connects lazily.
func NewRedisClient(url string) (redis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return nil, errors.New("limiter: redis url: want redis://, rediss://, redis+sentinel:// or redis+cluster://")
	}
	base, kind, _ := strings.Cut(scheme, "+")
	if base != "redis" && base != "rediss" {
		return nil, fmt.Errorf("limiter: redis url: unknown scheme %q", scheme)
	}
	c, err := newClient(kind, base+"://"+rest)
	if err != nil {
		return nil, fmt.Errorf("limiter: redis url: %w", err)
	}
	return c, nil
}

func newClient(kind, url string) (redis.UniversalClient, error) {
	switch kind {
	case "":
		o, err := redis.ParseURL(url)
		if err != nil {
			return nil, err
		}
		o.ContextTimeoutEnabled = true
		o.DialerRetries = cmp.Or(o.DialerRetries, 1)
		return redis.NewClient(o), nil
	case "sentinel":
		return newFailoverClient(url)
	case "cluster":
		o, err := redis.ParseClusterURL(url)
		if err != nil {
			return nil, err
		}
		o.ContextTimeoutEnabled = true
		o.DialerRetries = cmp.Or(o.DialerRetries, 1)
		return redis.NewClusterClient(o), nil
	}
	return nil, fmt.Errorf("unknown kind %q, want sentinel or cluster", kind)
}

func newFailoverClient(url string) (redis.UniversalClient, error) {
	o, err := redis.ParseFailoverURL(url)
	if err != nil {
		return nil, err
	}
	if o.MasterName == "" {
		return nil, errors.New("sentinel url without master_name")
	}
	o.ContextTimeoutEnabled = true
	o.DialerRetries = cmp.Or(o.DialerRetries, 1)
	return redis.NewFailoverClient(o), nil
}
