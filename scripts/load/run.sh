#!/usr/bin/env bash
# make load: /auth with a valid key on the memory limiter and on Redis,
# against a bare Echo handler that answers 200, in the same run, on this
# machine's loopback only. Prints requests/s, p50 and p99 of each, the
# ratio to the bare handler, then /auth on Redis at half its own rate and
# the bare handler at that same rate; and for every run the CPU time (user
# + system) per request of the server, of Redis and of the generator, the
# steady figure on a shared machine, where requests/s swings by ±15 %
# from run to run.
#
# Uses wrk when installed (apt-get install wrk), else keygate-load's own
# generator, closed-loop; the half-rate runs always use keygate-load hit's
# open loop (wrk has no fixed rate): raw keep-alive connections, each
# sending its share of the rate, every request's latency counted from
# when it was due.
#
#   LOAD_DURATION      each run (default 10s)
#   LOAD_CONNECTIONS   concurrent connections (default 64)
#   LOAD_THREADS       wrk threads (default 2)
#   LOAD_GOMAXPROCS    GOMAXPROCS of the server only (default: half the CPUs,
#                      at least 1; "go" for Go's default, every CPU)
#   KEYGATE_REDIS_URL  the Redis of the Redis target (default redis://127.0.0.1:6379/0)
#
# CPU per request: the server's from /proc/PID/stat, Redis's from
# redis-cli INFO cpu ("-" without redis-cli; it counts every client of
# that Redis), wrk's from bash's time, keygate-load hit's from its own
# getrusage. cs/req: the server threads' context switches, from
# /proc/PID/task/*/status.
#
# Targets: /auth on Redis >= 60 % of the bare handler's requests/s; p99 < 1 ms
# at half that rate.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/../.."
duration=${LOAD_DURATION:-10s}
conns=${LOAD_CONNECTIONS:-64}
threads=${LOAD_THREADS:-2}
redis_url=${KEYGATE_REDIS_URL:-redis://127.0.0.1:6379/0}
# The server gets half the CPUs, the generator and Redis the other half,
# as they would on machines of their own. With every CPU (Go's default),
# a server that shares 2 CPUs with them keeps waking idle threads to run
# a request that waited on Redis, and spends ~1.5 times the CPU per request
# (README, Performance).
gomaxprocs=${LOAD_GOMAXPROCS:-$(($(nproc) / 2 > 1 ? $(nproc) / 2 : 1))}
if [[ $gomaxprocs != go && ! $gomaxprocs =~ ^[1-9][0-9]*$ ]]; then
	echo "load: LOAD_GOMAXPROCS=$gomaxprocs: want a positive integer or go" >&2
	exit 1
fi
clk_tck=$(getconf CLK_TCK)
TIMEFORMAT='%3U %3S'

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

# GOMAXPROCS for the server alone, so that the generator keeps its own.
if [[ $gomaxprocs != go ]]; then
	GOMAXPROCS=$gomaxprocs "$work/keygate-load" serve -ready "$work/ready" -redis "$redis_url" &
else
	env -u GOMAXPROCS "$work/keygate-load" serve -ready "$work/ready" -redis "$redis_url" &
fi
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

# server_cpu prints the CPU seconds (user + system) of keygate-load serve
# so far: fields 14 and 15 of /proc/PID/stat, in clock ticks, counted
# after the ")" that ends field 2.
server_cpu() {
	local stat
	stat=$(<"/proc/$server_pid/stat")
	awk -v hz="$clk_tck" '{printf "%.2f", ($12 + $13) / hz}' <<<"${stat##*) }"
}

# redis_cpu prints the CPU seconds of the Redis at redis_url so far, or -.
redis_cpu() {
	local info
	command -v redis-cli >/dev/null && info=$(redis-cli -u "$redis_url" INFO cpu 2>/dev/null) || info=
	awk -F: '{sub(/\r$/, "")} $1 == "used_cpu_sys" {s = $2; n++} $1 == "used_cpu_user" {u = $2; n++}
		END {if (n == 2) printf "%.6f", s + u; else print "-"}' <<<"$info"
}

# server_switches prints the context switches (voluntary and not) of all
# the threads of keygate-load serve so far.
server_switches() {
	awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {n += $2} END {print n + 0}' "/proc/$server_pid"/task/*/status
}

# fields KEY... reads a "key=value key=value" line and prints the values
# of KEY..., in turn.
fields() {
	awk -v want="$*" 'NR == 1 {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		n = split(want, k, " ")
		for (i = 1; i <= n; i++) printf "%s%s", f[k[i]], (i < n ? " " : "\n")
	}'
}

# per_req BEFORE AFTER REQUESTS prints the CPU microseconds per request
# between two readings in seconds, or - if either is missing.
per_req() {
	awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {
		if (a == "-" || b == "-" || n + 0 == 0) print "-"; else printf "%.1f", (b - a) * 1e6 / n
	}'
}

# with_cpu TARGET TAG GENERATOR ARGS... runs a generator that prints "rps
# p50_ms p99_ms requests gen_us_per_req" against TARGET (BARE, MEMORY or
# REDIS) and prints "rps p50_ms p99_ms server_us redis_us gen_us
# switches", the last four per request; the in-handler times of the run
# go to $work/in-TAG (see stats).
with_cpu() {
	local target=$1 tag=$2 s0 r0 c0 s1 r1 c1 out rps p50 p99 n gen
	shift 2
	stats "$target"
	s0=$(server_cpu)
	r0=$(redis_cpu)
	c0=$(server_switches)
	out=$("$@")
	s1=$(server_cpu)
	r1=$(redis_cpu)
	c1=$(server_switches)
	stats "$target" "$work/in-$tag"
	read -r rps p50 p99 n gen <<<"$out"
	echo "$rps $p50 $p99 $(per_req "$s0" "$s1" "$n") $(per_req "$r0" "$r1" "$n") $gen" \
		"$(awk -v a="$c0" -v b="$c1" -v n="$n" 'BEGIN {printf "%.2f", (b - a) / n}')"
}

# stats TARGET [FILE] fetches the in-handler times of TARGET since the last
# fetch (keygate-load serve times every request from the handler's start
# to its return) into FILE, or drops them; without curl, FILE says so.
stats() {
	local out=${2:-/dev/null}
	if command -v curl >/dev/null; then
		curl -fsS "$STATS_URL$1" >"$out"
	else
		echo "requests=- p50_ms=- p99_ms=- p999_ms=- max_ms=-" >"$out"
	fi
}

# measure URL prints "rps p50_ms p99_ms requests gen_us_per_req" at full
# speed.
measure() {
	local url=$1 out
	if command -v wrk >/dev/null; then
		out=$( { time wrk -t"$threads" -c"$conns" -d"$duration" --latency -H "Authorization: Bearer $KEY" "$url"; } 2>"$work/time") || {
			echo "load: wrk failed against $url:" >&2
			cat "$work/time" >&2
			exit 1
		}
		if grep -q "Non-2xx" <<<"$out"; then
			echo "load: non-2xx answers from $url:" >&2
			echo "$out" >&2
			echo "load: their statuses, by keygate-load:" >&2
			"$work/keygate-load" hit -url "$url" -header "Authorization: Bearer $KEY" -c "$conns" -d "$duration" >&2
			exit 1
		fi
		local rps p50 p99 n user sys
		rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
		p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
		p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
		n=$(awk '/ requests in / {print $1}' <<<"$out")
		read -r user sys < <(tail -n 1 "$work/time")
		echo "$rps $(to_ms "$p50") $(to_ms "$p99") $n $(per_req 0 "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" "$n")"
	else
		hit "$url" 0
	fi
}

# hit URL RATE [NAME] runs keygate-load's generator (closed-loop if RATE is
# 0) and prints "rps p50_ms p99_ms requests gen_us_per_req"; its whole
# report goes to $work/NAME.
hit() {
	local url=$1 rate=$2 name=${3:-} out
	out=$("$work/keygate-load" hit -url "$url" -header "Authorization: Bearer $KEY" -c "$conns" -d "$duration" -rate "$rate")
	if ! grep -q "errors=0 non200=0" <<<"$out"; then
		echo "load: failed requests against $url: $out" >&2
		exit 1
	fi
	[[ -z $name ]] || echo "$out" >"$work/$name"
	fields rps p50_ms p99_ms requests cpu_us_per_req <<<"$out"
}

generator="keygate-load hit (closed loop)"
command -v wrk >/dev/null && generator="wrk -t$threads"
procs_from="half the CPUs"
[[ -z ${LOAD_GOMAXPROCS:-} ]] || procs_from=LOAD_GOMAXPROCS
[[ $gomaxprocs != go ]] || procs_from="Go default"
echo "load: $generator, $conns connections, $duration per target, $(nproc) CPUs," \
	"server GOMAXPROCS $SERVER_GOMAXPROCS ($procs_from)"

# Each run's line is read in two steps, so that a failed run stops the
# script (set -e does not see through a here-string).
out=$(with_cpu BARE bare measure "$BARE_URL")
read -r bare_rps bare_p50 bare_p99 bare_cpu <<<"$out"
out=$(with_cpu MEMORY mem measure "$MEMORY_URL")
read -r mem_rps mem_p50 mem_p99 mem_cpu <<<"$out"
out=$(with_cpu REDIS red measure "$REDIS_URL")
read -r red_rps red_p50 red_p99 red_cpu <<<"$out"
half=$((red_rps / 2))
out=$(with_cpu REDIS half hit "$REDIS_URL" "$half" half)
read -r half_rps half_p50 half_p99 half_cpu <<<"$out"
# The same rate on the bare handler: the floor that the machine and the
# generator set for the latencies above.
out=$(with_cpu BARE floor hit "$BARE_URL" "$half" floor)
read -r floor_rps floor_p50 floor_p99 floor_cpu <<<"$out"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100 * a / b}'; }
row() {
	local cpu
	read -ra cpu <<<"$6"
	printf '%-28s %10s %9s %9s %9s %8s %8s %8s %8s\n' "$1" "$2" "$3" "$4" "$5" "${cpu[@]}"
}
printf '\n%-28s %10s %9s %9s %9s %8s %8s %8s %8s\n' target "req/s" "p50 ms" "p99 ms" "vs bare" server redis gen "cs/req"
row "bare echo 200" "$bare_rps" "$bare_p50" "$bare_p99" "100%" "$bare_cpu"
row "/auth memory" "$mem_rps" "$mem_p50" "$mem_p99" "$(ratio "$mem_rps" "$bare_rps")" "$mem_cpu"
row "/auth redis" "$red_rps" "$red_p50" "$red_p99" "$(ratio "$red_rps" "$bare_rps")" "$red_cpu"
row "/auth redis at $half req/s" "$half_rps" "$half_p50" "$half_p99" "-" "$half_cpu"
row "bare echo at $half req/s" "$floor_rps" "$floor_p50" "$floor_p99" "-" "$floor_cpu"
echo "server, redis, gen: CPU µs (user + system) per request of keygate-load serve, redis-server, the generator"
echo "cs/req: context switches of the server's threads per request"

# The open-loop runs in full; late is the generator's own delay in
# sending, part of every latency above it.
echo
echo "open loop at $half req/s, ms:"
for run in "half /auth redis" "floor bare echo"; do
	read -r p50 p90 p99 p999 max late < <(fields p50_ms p90_ms p99_ms p999_ms max_ms late_p99_ms <"$work/${run%% *}")
	printf '  %-12s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  late p99 %s\n' "${run#* }" "$p50" "$p90" "$p99" "$p999" "$max" "$late"
done

# The server's own share of each run's latency: from the handler's start
# to its return, without the waits for the kernel, the generator or a CPU
# that the latencies above include.
echo
echo "in the handler, ms:"
for run in "bare bare echo 200" "mem /auth memory" "red /auth redis" "half /auth redis at $half req/s" "floor bare echo at $half req/s"; do
	read -r p50 p99 p999 max < <(fields p50_ms p99_ms p999_ms max_ms <"$work/in-${run%% *}")
	printf '  %-28s p50 %s  p99 %s  p99.9 %s  max %s\n' "${run#* }" "$p50" "$p99" "$p999" "$max"
done
in_half_p99=$(fields p99_ms <"$work/in-half")

verdict() { if awk -v ok="$2" 'BEGIN {exit !ok}'; then echo "PASS  $1"; else echo "MISS  $1"; fi; }
echo
verdict "/auth redis >= 60% of bare req/s" "$(awk -v r="$red_rps" -v b="$bare_rps" 'BEGIN {print (r >= 0.6 * b)}')"
verdict "/auth redis p99 < 1 ms at half its rate" "$(awk -v p="$half_p99" 'BEGIN {print (p < 1)}')"
echo "      (in the handler: p99 $in_half_p99 ms)"
