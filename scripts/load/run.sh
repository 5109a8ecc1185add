#!/usr/bin/env bash
# make load: /auth with a valid key on the memory limiter and on Redis,
# against a bare Echo handler that answers 200, in the same run, on this
# machine's loopback only. Prints requests/s, p50 and p99 of each, the
# ratio to the bare handler, then /auth on Redis at half its own rate.
#
# Uses wrk when installed (apt-get install wrk), else keygate-load's own
# generator; the half-rate run always uses keygate-load (wrk has no fixed
# rate).
#
#   LOAD_DURATION      each run (default 10s)
#   LOAD_CONNECTIONS   concurrent connections (default 64)
#   LOAD_THREADS       wrk threads (default 2)
#   KEYGATE_REDIS_URL  the Redis of the Redis target (default redis://127.0.0.1:6379/0)
#
# Targets: /auth on Redis >= 60 % of the bare handler's requests/s; p99 < 1 ms
# at half that rate.
set -euo pipefail

cd "$(dirname "$0")/../.."
duration=${LOAD_DURATION:-10s}
conns=${LOAD_CONNECTIONS:-64}
threads=${LOAD_THREADS:-2}
redis_url=${KEYGATE_REDIS_URL:-redis://127.0.0.1:6379/0}

work=$(mktemp -d)
server_pid=
cleanup() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/keygate-load" ./cmd/keygate-load

"$work/keygate-load" serve -ready "$work/ready" -redis "$redis_url" &
server_pid=$!
for _ in $(seq 100); do
	[[ -f $work/ready ]] && break
	kill -0 "$server_pid" 2>/dev/null || { echo "load: keygate-load serve failed" >&2; exit 1; }
	sleep 0.1
done
[[ -f $work/ready ]] || { echo "load: targets not ready after 10s" >&2; exit 1; }
# shellcheck source=/dev/null
source "$work/ready"

# to_ms converts a wrk latency (123.45us, 1.20ms, 1.01s) to milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
		printf "%.3f", n
	}'
}

# measure URL prints "rps p50_ms p99_ms" at full speed.
measure() {
	local url=$1 out
	if command -v wrk >/dev/null; then
		out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -H "Authorization: Bearer $KEY" "$url")
		if grep -q "Non-2xx" <<<"$out"; then
			echo "load: non-2xx answers from $url:" >&2
			echo "$out" >&2
			echo "load: their statuses, by keygate-load:" >&2
			"$work/keygate-load" hit -url "$url" -header "Authorization: Bearer $KEY" -c "$conns" -d "$duration" >&2
			exit 1
		fi
		local rps p50 p99
		rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
		p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
		p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
		echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
	else
		hit "$url"
	fi
}

# hit URL [RATE] runs keygate-load's generator and prints "rps p50_ms p99_ms".
hit() {
	local url=$1 rate=${2:-0} out
	out=$("$work/keygate-load" hit -url "$url" -header "Authorization: Bearer $KEY" -c "$conns" -d "$duration" -rate "$rate")
	if ! grep -q "errors=0 non200=0" <<<"$out"; then
		echo "load: failed requests against $url: $out" >&2
		exit 1
	fi
	sed -E 's/rps=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+).*/\1 \2 \3/' <<<"$out"
}

generator=keygate-load
command -v wrk >/dev/null && generator="wrk -t$threads"
echo "load: $generator, $conns connections, $duration per target, $(nproc) CPUs, GOMAXPROCS ${GOMAXPROCS:-default}"

read -r bare_rps bare_p50 bare_p99 < <(measure "$BARE_URL")
read -r mem_rps mem_p50 mem_p99 < <(measure "$MEMORY_URL")
read -r red_rps red_p50 red_p99 < <(measure "$REDIS_URL")
half=$((red_rps / 2))
read -r half_rps half_p50 half_p99 < <(hit "$REDIS_URL" "$half")
# The same rate on the bare handler: the floor that the machine and the
# generator set for the latencies above.
read -r floor_rps floor_p50 floor_p99 < <(hit "$BARE_URL" "$half")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100 * a / b}'; }
printf '\n%-28s %10s %9s %9s %9s\n' target "req/s" "p50 ms" "p99 ms" "vs bare"
printf '%-28s %10s %9s %9s %9s\n' "bare echo 200" "$bare_rps" "$bare_p50" "$bare_p99" "100%"
printf '%-28s %10s %9s %9s %9s\n' "/auth memory" "$mem_rps" "$mem_p50" "$mem_p99" "$(ratio "$mem_rps" "$bare_rps")"
printf '%-28s %10s %9s %9s %9s\n' "/auth redis" "$red_rps" "$red_p50" "$red_p99" "$(ratio "$red_rps" "$bare_rps")"
printf '%-28s %10s %9s %9s %9s\n' "/auth redis at $half req/s" "$half_rps" "$half_p50" "$half_p99" "-"
printf '%-28s %10s %9s %9s %9s\n' "bare echo at $half req/s" "$floor_rps" "$floor_p50" "$floor_p99" "-"

verdict() { if awk -v ok="$2" 'BEGIN {exit !ok}'; then echo "PASS  $1"; else echo "MISS  $1"; fi; }
echo
verdict "/auth redis >= 60% of bare req/s" "$(awk -v r="$red_rps" -v b="$bare_rps" 'BEGIN {print (r >= 0.6 * b)}')"
verdict "/auth redis p99 < 1 ms at half its rate" "$(awk -v p="$half_p99" 'BEGIN {print (p < 1)}')"
