package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// NodeTimeout is the cluster-node-timeout of StartRedisCluster and the
// down-after-milliseconds of StartRedisSentinel: how long a dead primary
// goes unnoticed.
const NodeTimeout = time.Second

// formTimeout bounds the forming of a cluster or a replication.
const formTimeout = 30 * time.Second

func redisBin(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("testenv: redis-server not found (install it: apt-get install redis-server): %v", err)
	}
	return bin
}

// RedisCluster is a throwaway Redis Cluster on loopback ports: masters
// that share the 16384 slots, each with its replicas, no persistence.
type RedisCluster struct {
	tb testing.TB
	// Nodes are the masters first, then the replicas of master 0, 1, ...
	Nodes   []*RedisServer
	masters int
}

// StartRedisCluster starts masters × (1 + replicas) redis-server processes
// in cluster mode, joins them with CLUSTER MEET, gives each master an
// equal range of slots, attaches the replicas, and returns once every node
// says cluster_state:ok and every replica is in sync.
func StartRedisCluster(tb testing.TB, masters, replicas int) *RedisCluster {
	tb.Helper()
	bin := redisBin(tb)
	c := &RedisCluster{tb: tb, masters: masters}
	for range masters * (1 + replicas) {
		c.Nodes = append(c.Nodes, startServer(tb, &RedisServer{tb: tb, bin: bin, dir: tb.TempDir(), args: []string{
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.FormatInt(NodeTimeout.Milliseconds(), 10),
			"--cluster-replica-validity-factor", "0",
		}}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), formTimeout)
	defer cancel()
	if err := c.form(ctx, replicas); err != nil {
		tb.Fatalf("testenv: redis cluster: %v", err)
	}
	return c
}

func (s *RedisServer) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
}

// Do runs one command on the server alone.
func (s *RedisServer) Do(ctx context.Context, args ...any) (any, error) {
	c := s.client()
	defer c.Close()
	return c.Do(ctx, args...).Result()
}

func (c *RedisCluster) form(ctx context.Context, replicas int) error {
	first := c.Nodes[0]
	for _, n := range c.Nodes[1:] {
		if _, err := n.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", first.port); err != nil {
			return err
		}
	}
	for i := range c.masters {
		from, to := i*16384/c.masters, (i+1)*16384/c.masters-1
		if _, err := c.Nodes[i].Do(ctx, "CLUSTER", "ADDSLOTSRANGE", from, to); err != nil {
			return err
		}
	}
	if err := poll(ctx, func() error { return c.know(ctx, len(c.Nodes)) }); err != nil {
		return err
	}
	for r, n := range c.Nodes[c.masters:] {
		id, err := c.Nodes[r/replicas].Do(ctx, "CLUSTER", "MYID")
		if err != nil {
			return err
		}
		if _, err := n.Do(ctx, "CLUSTER", "REPLICATE", id); err != nil {
			return err
		}
	}
	return poll(ctx, func() error { return c.healthy(ctx, nil, true) })
}

// know checks that every node knows n nodes.
func (c *RedisCluster) know(ctx context.Context, n int) error {
	for _, node := range c.Nodes {
		v, err := node.Do(ctx, "CLUSTER", "NODES")
		if err != nil {
			return err
		}
		if got := strings.Count(strings.TrimSpace(v.(string)), "\n") + 1; got != n {
			return fmt.Errorf("%s knows %d nodes, want %d", node.Addr(), got, n)
		}
	}
	return nil
}

// healthy checks that every running node but skip says cluster_state:ok,
// that every slot is served by a running master, and, when inSync, that
// every running replica is in sync with its master.
func (c *RedisCluster) healthy(ctx context.Context, skip map[*RedisServer]bool, inSync bool) error {
	live := map[string]bool{}
	for _, n := range c.Nodes {
		if !skip[n] {
			live[n.Addr()] = true
		}
	}
	for _, n := range c.Nodes {
		if skip[n] {
			continue
		}
		info, err := n.Do(ctx, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if !strings.Contains(info.(string), "cluster_state:ok") {
			return fmt.Errorf("%s: cluster state not ok", n.Addr())
		}
		if err := servedByLive(ctx, n, live); err != nil {
			return err
		}
		if !inSync {
			continue
		}
		repl, err := n.Do(ctx, "INFO", "replication")
		if err != nil {
			return err
		}
		if strings.Contains(repl.(string), "role:slave") && !strings.Contains(repl.(string), "master_link_status:up") {
			return fmt.Errorf("%s: replica not in sync", n.Addr())
		}
	}
	return nil
}

// servedByLive checks, as n sees it, that every slot range has a live
// master.
func servedByLive(ctx context.Context, n *RedisServer, live map[string]bool) error {
	cl := n.client()
	defer cl.Close()
	slots, err := cl.ClusterSlots(ctx).Result()
	if err != nil {
		return err
	}
	covered := 0
	for _, s := range slots {
		if len(s.Nodes) == 0 || !live[s.Nodes[0].Addr] {
			return fmt.Errorf("%s: slots %d-%d have no live master", n.Addr(), s.Start, s.End)
		}
		covered += s.End - s.Start + 1
	}
	if covered != 16384 {
		return fmt.Errorf("%s: %d slots covered", n.Addr(), covered)
	}
	return nil
}

// URL is the redis+cluster:// URL of every node.
func (c *RedisCluster) URL() string {
	u := "redis+cluster://" + c.Nodes[0].Addr()
	for i, n := range c.Nodes[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + n.Addr()
	}
	return u
}

// MasterOf returns the running master that serves key now.
func (c *RedisCluster) MasterOf(ctx context.Context, key string) (*RedisServer, error) {
	slot, err := c.Nodes[0].Do(ctx, "CLUSTER", "KEYSLOT", key)
	if err != nil {
		return nil, err
	}
	for _, n := range c.Nodes {
		cl := n.client()
		slots, err := cl.ClusterSlots(ctx).Result()
		cl.Close()
		if err != nil {
			continue
		}
		for _, s := range slots {
			if int64(s.Start) <= slot.(int64) && slot.(int64) <= int64(s.End) && len(s.Nodes) > 0 {
				return c.node(s.Nodes[0].Addr)
			}
		}
	}
	return nil, errors.New("no node knows the slot")
}

func (c *RedisCluster) node(addr string) (*RedisServer, error) {
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no node %s", addr)
}

// AwaitHealed waits until the cluster without dead has failed over: every
// other node says cluster_state:ok and every slot has a running master.
// It returns when that was first seen.
func (c *RedisCluster) AwaitHealed(ctx context.Context, dead ...*RedisServer) (time.Time, error) {
	skip := map[*RedisServer]bool{}
	for _, d := range dead {
		skip[d] = true
	}
	// A replica of a dead master cannot be in sync: inSync false.
	err := poll(ctx, func() error { return c.healthy(ctx, skip, false) })
	return time.Now(), err
}

// poll calls fn every 20ms until it succeeds or ctx ends.
func poll(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: last: %w", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// RedisSentinel is a throwaway primary with replicas, watched by
// sentinels, on loopback ports, no persistence.
type RedisSentinel struct {
	Primary   *RedisServer
	Replicas  []*RedisServer
	Sentinels []*RedisServer
}

// SentinelMaster is the master name the sentinels monitor.
const SentinelMaster = "keygate"

// StartRedisSentinel starts a primary, its replicas and sentinels (quorum:
// a majority of them), and returns once the replicas are in sync and every
// sentinel sees them all.
func StartRedisSentinel(tb testing.TB, replicas, sentinels int) *RedisSentinel {
	tb.Helper()
	bin := redisBin(tb)
	s := &RedisSentinel{Primary: startServer(tb, &RedisServer{tb: tb, bin: bin, dir: tb.TempDir()})}
	for range replicas {
		s.Replicas = append(s.Replicas, startServer(tb, &RedisServer{tb: tb, bin: bin, dir: tb.TempDir(),
			args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(s.Primary.port)}}))
	}
	quorum := sentinels/2 + 1
	for range sentinels {
		dir := tb.TempDir()
		conf := func(port int) string {
			path := filepath.Join(dir, "sentinel.conf")
			body := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d %d\nsentinel down-after-milliseconds %s %d\n"+
				"sentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 2\n",
				SentinelMaster, s.Primary.port, quorum, SentinelMaster, NodeTimeout.Milliseconds(), SentinelMaster, SentinelMaster)
			_ = os.WriteFile(path, []byte(body), 0o600)
			return path
		}
		s.Sentinels = append(s.Sentinels, startServer(tb, &RedisServer{tb: tb, bin: bin, dir: dir, conf: conf,
			args: []string{"--sentinel"}, ready: "+monitor master"}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), formTimeout)
	defer cancel()
	err := poll(ctx, func() error {
		for _, n := range s.Sentinels {
			v, err := n.Do(ctx, "SENTINEL", "REPLICAS", SentinelMaster)
			if err != nil {
				return err
			}
			if got := len(v.([]any)); got != replicas {
				return fmt.Errorf("sentinel %s sees %d replicas", n.Addr(), got)
			}
			v, err = n.Do(ctx, "SENTINEL", "SENTINELS", SentinelMaster)
			if err != nil {
				return err
			}
			if got := len(v.([]any)); got != sentinels-1 {
				return fmt.Errorf("sentinel %s sees %d other sentinels", n.Addr(), got)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("testenv: redis sentinel: %v", err)
	}
	return s
}

// URL is the redis+sentinel:// URL of every sentinel.
func (s *RedisSentinel) URL() string {
	u := "redis+sentinel://" + s.Sentinels[0].Addr() + "?master_name=" + SentinelMaster
	for _, n := range s.Sentinels[1:] {
		u += "&addr=" + n.Addr()
	}
	return u
}

// AwaitFailover waits until every sentinel names a primary other than
// old, and that server says it is a master. It returns the new primary
// and when that was first seen.
func (s *RedisSentinel) AwaitFailover(ctx context.Context, old *RedisServer) (*RedisServer, time.Time, error) {
	var primary *RedisServer
	err := poll(ctx, func() error {
		addrs := map[string]bool{}
		for _, n := range s.Sentinels {
			v, err := n.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMaster)
			if err != nil {
				return err
			}
			hp := v.([]any)
			addrs[hp[0].(string)+":"+hp[1].(string)] = true
		}
		if len(addrs) != 1 || addrs[old.Addr()] {
			return fmt.Errorf("sentinels name %v", addrs)
		}
		for _, r := range s.Replicas {
			if addrs[r.Addr()] {
				role, err := r.Do(ctx, "ROLE")
				if err != nil {
					return err
				}
				if role.([]any)[0] != "master" {
					return fmt.Errorf("%s is not master yet", r.Addr())
				}
				primary = r
				return nil
			}
		}
		return fmt.Errorf("sentinels name an unknown server %v", addrs)
	})
	return primary, time.Now(), err
}
