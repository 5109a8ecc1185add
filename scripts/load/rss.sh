#!/usr/bin/env bash
# The resident set of the real keygate with 100,000 cached keys (issue 15:
# < 64 MiB).
#
# Builds `keygate` as make build does, creates a Postgres database for the
# run (dropped at the end), migrates it, inserts RSS_KEYS keys shaped like
# a typical partner key straight into api_keys (keygate-load keys), starts
# `keygate serve` with Go's default GOMAXPROCS and the shipped defaults
# (memory limiter, cache of 100,000 keys) but for its loopback ports and
# an info log written to a file, sends one /auth per key (keygate-load
# verify: every answer must be 200, so every key was verified, compiled,
# cached and counted by its rate limits), and prints keygate's VmRSS and
# VmHWM (/proc/PID/status, with its file-backed and anonymous parts, also
# before the first key) and its keygate_key_cache_entries (/metrics).
#
#   RSS_KEYS           keys (default 100000)
#   RSS_CONNECTIONS    keep-alive connections of keygate-load verify
#                      (default 4)
#   RSS_PROFILE=FILE   also write keygate's heap profile (in-use memory,
#                      through KEYGATE_PPROF_LISTEN) to FILE, and print its
#                      top functions
#   RSS_WRK=1          then three wrk runs (-t2 -c32, 4 s) of /auth over all
#                      the keys (scripts/load/keys.lua: each request the
#                      next key), printing each run's rate, keygate's CPU
#                      per request and its VmRSS after it (needs wrk)
#   LOAD_POSTGRES_URL  server to create the database on
#                      (default postgres://postgres@127.0.0.1:5432)
#
# Needs psql, curl and Go.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/../.."
n=${RSS_KEYS:-100000}
conns=${RSS_CONNECTIONS:-4}
pg_url=${LOAD_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}

fail() {
	echo "rss: $*" >&2
	exit 1
}
for tool in psql curl go; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[[ $n =~ ^[1-9][0-9]{0,6}$ ]] || fail "RSS_KEYS=$n: want 1 to 9999999"

# shellcheck source=scripts/load/lib.sh
source scripts/load/lib.sh
lib_start rss
profile=${RSS_PROFILE:-}
mapfile -t port < <("$work/keygate-load" ports -n 3)
pprof_env=()
[[ -z $profile ]] || pprof_env=(KEYGATE_PPROF_LISTEN="127.0.0.1:${port[2]}")

lib_database keygate_rss
echo "rss: inserting $n keys" >&2
"$work/keygate-load" keys -n "$n" -db "$KEYGATE_DATABASE_URL" -out "$work/keys.txt"

env -u GOMAXPROCS KEYGATE_LISTEN="127.0.0.1:${port[0]}" KEYGATE_ADMIN_LISTEN="127.0.0.1:${port[1]}" \
	KEYGATE_LOG_LEVEL=info KEYGATE_AUTO_MIGRATE=false "${pprof_env[@]}" "$work/keygate" serve >"$work/keygate.log" 2>&1 &
pid=$!
pids+=("$pid")
ok=0
for _ in $(seq 100); do
	if curl -fs -o /dev/null "http://127.0.0.1:${port[0]}/healthz"; then
		ok=1
		break
	fi
	sleep 0.1
done
((ok)) || { tail -n 20 "$work/keygate.log" >&2; fail "keygate does not answer /healthz"; }

status() { awk -v f="$1:" '$1 == f {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status"; }
# What the process holds before any key: the binary's pages it touched
# (RssFile) and the runtime's own memory (RssAnon).
echo "keygate serve before any key: VmRSS $(status VmRSS) (RssFile $(status RssFile), RssAnon $(status RssAnon))"

echo "rss: verifying $n keys on $conns connections" >&2
"$work/keygate-load" verify -url "http://127.0.0.1:${port[0]}/auth" -keys "$work/keys.txt" -c "$conns" >/dev/null ||
	{ tail -n 5 "$work/keygate.log" >&2; fail "not every key was answered 200"; }

metrics=$(curl -fsS "http://127.0.0.1:${port[1]}/metrics")
entries=$(awk '$1 == "keygate_key_cache_entries" {print $2}' <<<"$metrics")
echo "keygate serve after $n keys verified through /auth: VmRSS $(status VmRSS), VmHWM $(status VmHWM)" \
	"(RssFile $(status RssFile), RssAnon $(status RssAnon)), keys cached ${entries:-unknown}"
# Where the resident set is, as Go's runtime counts it (MiB): live heap
# objects, heap spans in use (objects and the gaps between them), heap
# held but free (idle, not yet given back), goroutine stacks, the GC's
# next goal, and all the runtime holds from the OS; and outside it, the
# tables of the key cache and the memory limiter (internal/offheap).
awk '$1 ~ /^go_memstats_(heap_alloc|heap_inuse|heap_idle|heap_released|stack_inuse|next_gc|sys|gc_sys|mspan_inuse|other_sys)_bytes$/ || $1 == "keygate_offheap_bytes" {
	sub(/^go_memstats_/, "", $1); sub(/^keygate_/, "", $1); sub(/_bytes$/, "", $1); printf "  %-14s %7.1f MiB\n", $1, $2 / 1048576 }' <<<"$metrics"
if [[ -n $profile ]]; then
	curl -fsS -o "$profile" "http://127.0.0.1:${port[2]}/debug/pprof/heap?gc=1"
	go tool pprof -sample_index inuse_space -top -nodecount 25 "$profile" 2>/dev/null
fi
if [[ ${RSS_WRK:-0} == 1 ]]; then
	command -v wrk >/dev/null || fail "wrk is not installed"
	for round in 1 2 3; do
		t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		out=$(wrk -t2 -c32 -d4s -s scripts/load/keys.lua "http://127.0.0.1:${port[0]}/auth" -- "$work/keys.txt")
		t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		n=$(awk '/requests in/ {print $1}' <<<"$out")
		[[ -n $n && $n -gt 0 ]] || fail "wrk printed no requests: $out"
		! grep -q 'Non-2xx' <<<"$out" || fail "not every answer was 200: $out"
		awk -v r="$round" -v n="$n" -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v rss="$(status VmRSS)" \
			'/Requests\/sec/ {printf "wrk %d over all keys: %.0f req/s, keygate %.1f µs CPU per /auth, then VmRSS %s\n", r, $2, t * 1e6 / hz / n, rss}' <<<"$out"
	done
fi
