package limiter

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

func TestNewRedisClient(t *testing.T) {
	tests := []struct {
		url  string
		want string // the client's type, or "error"
	}{
		{"redis://127.0.0.1:6379/0", "*redis.Client"},
		{"rediss://user:pw@redis.example:6380/2?dial_timeout=1s", "*redis.Client"},
		{"redis+cluster://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000", "*redis.ClusterClient"},
		{"rediss+cluster://10.0.0.1:7000", "*redis.ClusterClient"},
		{"redis+sentinel://10.0.0.1:26379/0?master_name=main&addr=10.0.0.2:26379", "*redis.Client"},
		{"redis+sentinel://10.0.0.1:26379/0", "error"},
		{"redis://127.0.0.1:6379/x", "error"},
		{"redis://127.0.0.1:6379/0?no_such_option=1", "error"},
		{"http://127.0.0.1:6379", "error"},
		{"redis+ring://127.0.0.1:6379", "error"},
		{"127.0.0.1:6379", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			c, err := NewRedisClient(tc.url)
			got := "error"
			if err == nil {
				got = fmt.Sprintf("%T", c)
				c.Close()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("NewRedisClient: %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

func TestNewRedisClientBoundsCallsByContext(t *testing.T) {
	tests := []struct {
		url     string
		options func(redis.UniversalClient) bool
	}{
		{"redis://127.0.0.1:6379/0", func(c redis.UniversalClient) bool { return c.(*redis.Client).Options().ContextTimeoutEnabled }},
		{"redis+cluster://127.0.0.1:7000", func(c redis.UniversalClient) bool { return c.(*redis.ClusterClient).Options().ContextTimeoutEnabled }},
		{"redis+sentinel://127.0.0.1:26379?master_name=m", func(c redis.UniversalClient) bool { return c.(*redis.Client).Options().ContextTimeoutEnabled }},
	}
	for _, tc := range tests {
		c, err := NewRedisClient(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if !tc.options(c) {
			t.Errorf("NewRedisClient(%s): ContextTimeoutEnabled is false", tc.url)
		}
		c.Close()
	}
}

func TestNewRedisConfig(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { client.Close() })
	tests := []struct {
		name string
		cfg  RedisConfig
		ok   bool
	}{
		{"url", RedisConfig{URL: "redis://127.0.0.1:6379/0"}, true},
		{"client", RedisConfig{Client: client, Prefix: "app", Timeout: 1}, true},
		{"neither", RedisConfig{}, false},
		{"both", RedisConfig{Client: client, URL: "redis://127.0.0.1:6379/0"}, false},
		{"prefix with a brace", RedisConfig{URL: "redis://127.0.0.1:6379/0", Prefix: "a}b"}, false},
		{"negative timeout", RedisConfig{URL: "redis://127.0.0.1:6379/0", Timeout: -1}, false},
		{"bad url", RedisConfig{URL: "http://x"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRedis(tc.cfg)
			if diff := cmp.Diff(tc.ok, err == nil); diff != "" {
				t.Fatalf("NewRedis: %v (-want ok +got ok):\n%s", err, diff)
			}
			if r != nil {
				r.Close()
			}
		})
	}
}

// TestRedisKeys checks the key layout, hash-tagged by id, and a TTL of
// about two windows, on Redis's own clock.
func TestRedisKeys(t *testing.T) {
	r := newTestRedis(t, nil)
	ctx := context.Background()
	before := r.client.Time(ctx).Val()
	allow(t, r, "key-1", "5/1h", "5/1d")
	after := r.client.Time(ctx).Val()
	tag := "{" + r.prefix + ":key-1}"
	keys, err := r.client.Keys(ctx, tag+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if cmp.Diff(keyNames(tag, before), keys) != "" {
		if diff := cmp.Diff(keyNames(tag, after), keys); diff != "" {
			t.Fatalf("keys (-want +got):\n%s", diff)
		}
	}
	for i, w := range []time.Duration{time.Hour, 24 * time.Hour} {
		if ttl := r.client.PTTL(ctx, keys[i]).Val(); ttl <= w+keepAfter || ttl > 2*w+keepAfter {
			t.Errorf("TTL of %s = %v, want in (%v, %v]", keys[i], ttl, w+keepAfter, 2*w+keepAfter)
		}
	}
}

// keyNames returns the sorted names of the keys counting at instant now in
// windows of 1h and 1d.
func keyNames(tag string, now time.Time) []string {
	ms := now.UnixMilli()
	return []string{
		fmt.Sprintf("%s:3600:%d", tag, ms/time.Hour.Milliseconds()),
		fmt.Sprintf("%s:86400:%d", tag, ms/(24*time.Hour).Milliseconds()),
	}
}
