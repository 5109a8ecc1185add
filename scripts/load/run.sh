#!/usr/bin/env bash
# make load: the shipped handler chain under load, against a bare handler.
#
# Builds the real `keygate` binary (as make build does) and starts two of
# it on loopback ports, with Go's default GOMAXPROCS and the shipped
# defaults, over a Postgres database created for the run (dropped at the
# end) holding one key whose limits never deny:
#
#   keygate (memory)  the in-memory limiter
#   keygate (Redis)   KEYGATE_REDIS_URL's limiter
#
# next to internal/cmd/keygate-load serve, a bare Echo handler answering
# 200 (the baseline, and the trivial auth server), another as nginx's
# upstream, and two nginx with the shipped template
# (deploy/nginx/keygate.conf.template): one asking keygate (Redis), one
# asking the trivial auth server. Then, LOAD_ROUNDS times, one wrk run
# (-t2 -c32, LOAD_DURATION) of each path in turn, so that a change in the
# machine's load meets every path alike:
#
#   bare      the bare Echo handler
#   memory    /auth of a valid, cached key on keygate (memory)
#   redis     the same on keygate (Redis)
#   healthz   /healthz through keygate's middleware
#   nginx     nginx + the trivial auth server, GET /api/v1/partners
#   nginx-kg  nginx + keygate (Redis), the same
#   traefik, traefik-kg   the same through Traefik and the shipped
#             deploy/traefik/dynamic.yml (forwardAuth), when a traefik
#             binary is on PATH (Debian does not package it)
#
# and prints the requests/s of each path (median of the rounds), each
# ratio of the issue's table (the median of its per-round ratios), and the
# CPU µs (user + system) per request of every process: keygate or the bare
# handler, nginx (master and workers), the upstream, Redis (INFO cpu: all
# of its clients) and wrk.
#
# Direct /auth requests carry what nginx would send (X-Original-Method,
# X-Original-Uri) and the key in Authorization: Bearer; the bare handler
# gets the same requests.
#
#   LOAD_DURATION      each run (default 4s)
#   LOAD_CONNECTIONS   wrk connections (default 32)
#   LOAD_THREADS       wrk threads (default 2)
#   LOAD_ROUNDS        rounds (default 3)
#   LOAD_LOG_LEVEL     keygate's KEYGATE_LOG_LEVEL (default info, the
#                      shipped default: one access-log line per request,
#                      written to a file; warn drops them)
#   LOAD_PROFILE=1     after the rounds, a CPU profile of keygate (memory)
#                      and keygate (Redis) under one more wrk run each,
#                      through KEYGATE_PPROF_LISTEN, into LOAD_PROFILE_DIR
#                      (default ./load-profiles), with their top functions
#   LOAD_RSS=0         skip scripts/load/rss.sh after the rounds (the RSS
#                      of keygate serve with 100,000 keys verified
#                      through /auth; RSS_KEYS, RSS_CONNECTIONS there)
#   LOAD_LATENCY=1     after the rounds, /auth on Redis at half its
#                      median rate, open loop (keygate-load hit: latency
#                      counted from when each request was due), and the
#                      bare handler at that same rate
#   LOAD_POSTGRES_URL  server to create the database on
#                      (default postgres://postgres@127.0.0.1:5432)
#   KEYGATE_REDIS_URL  default redis://127.0.0.1:6379/0
#
# Needs wrk, psql, curl and Go; nginx and envsubst for the nginx rows
# (skipped, and said so, without them).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/../.."
duration=${LOAD_DURATION:-4s}
conns=${LOAD_CONNECTIONS:-32}
threads=${LOAD_THREADS:-2}
rounds=${LOAD_ROUNDS:-3}
log_level=${LOAD_LOG_LEVEL:-info}
profile=${LOAD_PROFILE:-0}
profile_dir=${LOAD_PROFILE_DIR:-load-profiles}
latency=${LOAD_LATENCY:-0}
pg_url=${LOAD_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
redis_url=${KEYGATE_REDIS_URL:-redis://127.0.0.1:6379/0}
clk_tck=$(getconf CLK_TCK)
TIMEFORMAT='%3U %3S'

fail() {
	echo "load: $*" >&2
	exit 1
}
for tool in wrk psql curl go; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[[ $rounds =~ ^[1-9][0-9]?$ ]] || fail "LOAD_ROUNDS=$rounds: want 1 to 99"
with_nginx=1
command -v nginx >/dev/null && command -v envsubst >/dev/null || with_nginx=0
with_traefik=1
command -v traefik >/dev/null || with_traefik=0
with_rss=${LOAD_RSS:-1}

# shellcheck source=scripts/load/lib.sh
source scripts/load/lib.sh
lib_start load

mapfile -t port < <("$work/keygate-load" ports -n 12)
mem_pub=${port[0]} mem_adm=${port[1]} mem_pprof=${port[2]}
red_pub=${port[3]} red_adm=${port[4]} red_pprof=${port[5]}
bare_port=${port[6]} up_port=${port[7]} ngx_port=${port[8]} ngxkg_port=${port[9]}
tfk_port=${port[10]} tfkkg_port=${port[11]}

# The database of the run, and its one key: every route, limits far above
# what a run can send, so that every answer is a 200 that counted.
lib_database keygate_load
key=$("$work/keygate" keys create --name load --owner load-test --scope 'route:*:/**' \
	--rate-limit 1000000000/1s --rate-limit 1000000000/1h --json 2>"$work/keys.log" |
	sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[[ -n $key ]] || { cat "$work/keys.log" >&2; fail "keygate keys create failed"; }

# start NAME COMMAND... runs COMMAND in the background with Go's default
# GOMAXPROCS, its stderr in $work/NAME.log, and sets NAME_pid.
start() {
	local name=$1
	shift
	env -u GOMAXPROCS "$@" 2>"$work/$name.log" >/dev/null &
	pids+=($!)
	printf -v "${name}_pid" %s $!
}

keygate_env() {
	echo KEYGATE_LISTEN=127.0.0.1:$1 KEYGATE_ADMIN_LISTEN=127.0.0.1:$2 KEYGATE_LOG_LEVEL=$log_level KEYGATE_AUTO_MIGRATE=false
	[[ $profile != 1 ]] || echo KEYGATE_PPROF_LISTEN=127.0.0.1:$3
}
# shellcheck disable=SC2046 # the words of keygate_env are VAR=value pairs
start mem $(keygate_env "$mem_pub" "$mem_adm" "$mem_pprof") "$work/keygate" serve
# shellcheck disable=SC2046
start red $(keygate_env "$red_pub" "$red_adm" "$red_pprof") KEYGATE_REDIS_URL="$redis_url" "$work/keygate" serve
start bare "$work/keygate-load" serve -listen "127.0.0.1:$bare_port"
start up "$work/keygate-load" serve -listen "127.0.0.1:$up_port"

# start_nginx NAME PORT AUTH_ADDR renders the shipped template in front of
# the upstream, asking AUTH_ADDR, and runs nginx on it in the foreground.
start_nginx() {
	local name=$1 port=$2 auth=$3 dir=$work/$1
	mkdir -p "$dir/tmp"
	KEYGATE_ADDR=$auth UPSTREAM_ADDR=127.0.0.1:$up_port LISTEN_PORT=127.0.0.1:$port \
		envsubst '${KEYGATE_ADDR} ${UPSTREAM_ADDR} ${LISTEN_PORT}' <deploy/nginx/keygate.conf.template >"$dir/keygate.conf"
	cat >"$dir/nginx.conf" <<-EOF
		worker_processes auto;
		pid $dir/nginx.pid;
		error_log $dir/error.log warn;
		events { worker_connections 1024; }
		http {
		    access_log off;
		    client_body_temp_path $dir/tmp/body;
		    proxy_temp_path $dir/tmp/proxy;
		    fastcgi_temp_path $dir/tmp/fastcgi;
		    uwsgi_temp_path $dir/tmp/uwsgi;
		    scgi_temp_path $dir/tmp/scgi;
		    include $dir/keygate.conf;
		}
	EOF
	start "$name" nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
}
if ((with_nginx)); then
	start_nginx ngx "$ngx_port" "127.0.0.1:$bare_port"
	start_nginx ngxkg "$ngxkg_port" "127.0.0.1:$red_pub"
fi

# start_traefik NAME PORT AUTH_ADDR runs traefik on the shipped
# dynamic.yml (which it renders from its environment) in front of the
# upstream, asking AUTH_ADDR.
protected_host=api.example.test
start_traefik() {
	local name=$1 port=$2 auth=$3
	mkdir -p "$work/$name"
	cp deploy/traefik/dynamic.yml "$work/$name/dynamic.yml"
	start "$name" env KEYGATE_ADDR="$auth" UPSTREAM_URL="http://127.0.0.1:$up_port" PROTECTED_HOST=$protected_host \
		traefik --entryPoints.web.address="127.0.0.1:$port" --providers.file.filename="$work/$name/dynamic.yml" --log.level=ERROR
}
if ((with_traefik)); then
	start_traefik tfk "$tfk_port" "127.0.0.1:$bare_port"
	start_traefik tfkkg "$tfkkg_port" "127.0.0.1:$red_pub"
fi

declare -A url=(
	[bare]=http://127.0.0.1:$bare_port/auth
	[memory]=http://127.0.0.1:$mem_pub/auth
	[redis]=http://127.0.0.1:$red_pub/auth
	[healthz]=http://127.0.0.1:$mem_pub/healthz
	[nginx]=http://127.0.0.1:$ngx_port/api/v1/partners
	[nginx-kg]=http://127.0.0.1:$ngxkg_port/api/v1/partners
	[traefik]=http://127.0.0.1:$tfk_port/api/v1/partners
	[traefik-kg]=http://127.0.0.1:$tfkkg_port/api/v1/partners
)
paths=(bare memory redis healthz)
((with_nginx)) && paths+=(nginx nginx-kg)
((with_traefik)) && paths+=(traefik traefik-kg)
headers=(-H "Authorization: Bearer $key" -H "X-Original-Method: GET" -H "X-Original-Uri: /api/v1/partners")
# headers_of PATH sets hdrs to the headers of PATH's requests: Traefik
# routes by host.
headers_of() {
	hdrs=("${headers[@]}")
	[[ $1 != traefik* ]] || hdrs+=(-H "Host: $protected_host")
}

# Every path answers 200 before the runs start (and the key is cached).
for p in "${paths[@]}"; do
	ok=0
	headers_of "$p"
	for _ in $(seq 100); do
		if [[ $(curl -s -o /dev/null -w '%{http_code}' "${hdrs[@]}" "${url[$p]}") == 200 ]]; then
			ok=1
			break
		fi
		sleep 0.1
	done
	if ((!ok)); then
		tail -n 20 "$work"/*.log "$work"/*/error.log 2>/dev/null >&2 || true
		fail "$p (${url[$p]}) does not answer 200"
	fi
done

# ticks PID... prints the CPU clock ticks (user + system) the processes
# used so far: fields 14 and 15 of /proc/PID/stat, counted after the ")"
# that ends field 2.
ticks() {
	local pid stat n=0
	for pid in "$@"; do
		stat=$(<"/proc/$pid/stat") || continue
		read -ra f <<<"${stat##*) }"
		n=$((n + f[11] + f[12]))
	done
	echo "$n"
}
proxy_pids() {
	local name names=()
	((with_nginx)) && names+=(ngx ngxkg)
	((with_traefik)) && names+=(tfk tfkkg)
	for name in "${names[@]}"; do
		local master=${name}_pid
		echo "${!master}"
		pgrep -P "${!master}" || true
	done
}
redis_cpu() {
	redis-cli -u "$redis_url" INFO cpu 2>/dev/null | awk -F: '{sub(/\r$/, "")}
		$1 == "used_cpu_sys" || $1 == "used_cpu_user" {s += $2; n++} END {if (n == 2) printf "%.6f", s; else print "-"}'
}
command -v redis-cli >/dev/null || redis_cpu() { echo -; }

# cpu prints the CPU seconds so far of: keygate and the bare handler,
# the proxies (nginx, Traefik), the upstream, Redis.
cpu() {
	local server nginx upstream
	server=$(ticks "$mem_pid" "$red_pid" "$bare_pid")
	# shellcheck disable=SC2046
	nginx=$(ticks $(proxy_pids))
	upstream=$(ticks "$up_pid")
	awk -v s="$server" -v n="$nginx" -v u="$upstream" -v hz="$clk_tck" -v r="$(redis_cpu)" \
		'BEGIN {printf "%.2f %.2f %.2f %s\n", s / hz, n / hz, u / hz, r}'
}

# measure PATH prints "rps requests server proxy upstream redis wrk", the
# last five in CPU µs per request.
measure() {
	local p=$1 out before after user sys hdrs
	headers_of "$p"
	before=$(cpu)
	out=$( { time wrk -t"$threads" -c"$conns" -d"$duration" "${hdrs[@]}" "${url[$p]}"; } 2>"$work/time") ||
		{ cat "$work/time" >&2; fail "wrk failed against $p"; }
	after=$(cpu)
	if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
		echo "$out" >&2
		fail "$p: errors or answers other than 200"
	fi
	read -r user sys < <(tail -n 1 "$work/time")
	awk -v out="$out" -v b="$before" -v a="$after" -v w="$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" 'BEGIN {
		n = split(out, lines, "\n")
		for (i = 1; i <= n; i++) {
			split(lines[i], f, " ")
			if (lines[i] ~ /^Requests\/sec:/) rps = f[2]
			if (lines[i] ~ / requests in /) req = f[1]
		}
		split(b, x, " "); split(a, y, " ")
		printf "%.0f %d", rps, req
		for (i = 1; i <= 4; i++) {
			if (x[i] == "-" || y[i] == "-") printf " -"; else printf " %.1f", (y[i] - x[i]) * 1e6 / req
		}
		printf " %.1f\n", w * 1e6 / req
	}'
}

echo "load: wrk -t$threads -c$conns, $duration a run, $rounds rounds of: ${paths[*]}; $(nproc) CPUs;" \
	"keygate: Go's default GOMAXPROCS, log level $log_level, Postgres keys" >&2
((with_nginx)) || echo "load: nginx or envsubst not installed: no nginx rows" >&2
((with_traefik)) || echo "load: traefik is not on PATH (Debian does not package it): no Traefik rows" >&2
for r in $(seq "$rounds"); do
	for p in "${paths[@]}"; do
		m=$(measure "$p")
		if [[ ! $m =~ ^[1-9] ]]; then # wrk printed no rate (seen once in 40 runs): run it again
			echo "load: round $r $p: wrk printed no Requests/sec; again" >&2
			m=$(measure "$p")
			[[ $m =~ ^[1-9] ]] || fail "$p: wrk printed no Requests/sec twice"
		fi
		echo "$r $p $m" >>"$work/results"
		echo "load: round $r $p: $(awk -v p="$p" -v r="$r" '$1 == r && $2 == p {print $3}' "$work/results") req/s" >&2
	done
done

# median reads numbers, one a line, and prints their median ("-" if any
# is "-").
median() {
	sort -g | awk '{v[NR] = $1; if ($1 == "-") bad = 1}
		END {if (bad || NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
col() { awk -v p="$1" -v c="$2" '$2 == p {print $c}' "$work/results"; }
# ratios A B prints the per-round ratios of A's requests/s to B's.
ratios() {
	awk -v a="$1" -v b="$2" '$2 == a {x[$1] = $3} $2 == b {y[$1] = $3}
		END {for (r in x) if (y[r] > 0) printf "%.2f\n", x[r] / y[r]}' "$work/results" | sort -g
}
row() {
	local name=$1 a=$2 b=$3 target=$4 ra rb all
	ra=$(col "$a" 3 | median)
	rb=$(col "$b" 3 | median)
	all=$(ratios "$a" "$b" | paste -sd ' ')
	printf '| %s | %.2f (%.0f ÷ %.0f req/s) | %s | %s |\n' "$name" "$(ratios "$a" "$b" | median)" "$ra" "$rb" "$all" "$target"
}

echo
echo "| path | ratio, median of rounds | each round | target |"
echo "| --- | --- | --- | --- |"
row '`/auth`, memory limiter ÷ bare Echo handler' memory bare '≥ 0.85'
row '`/auth`, Redis limiter ÷ bare Echo handler' redis bare '≥ 0.70'
row '`/healthz` through keygate'"'"'s middleware ÷ bare Echo' healthz bare '≥ 0.95'
((with_nginx)) && row 'nginx (shipped template) + keygate (Redis) ÷ nginx + a trivial auth server' nginx-kg nginx '≥ 0.90'
((with_traefik)) && row 'Traefik (shipped dynamic.yml) + keygate (Redis) ÷ Traefik + a trivial auth server' traefik-kg traefik '≥ 0.90'

echo
echo "CPU µs per request (user + system, median of rounds):"
printf '| %-10s | %8s | %9s | %6s | %8s | %6s | %6s | %6s |\n' path "req/s" "keygate*" proxy upstream redis wrk total
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for p in "${paths[@]}"; do
	vals=()
	for c in 3 5 6 7 8 9; do vals+=("$(col "$p" "$c" | median)"); done
	total=$(awk -v s="${vals[1]}" -v n="${vals[2]}" -v u="${vals[3]}" -v r="${vals[4]}" -v w="${vals[5]}" \
		'BEGIN {printf "%.1f", s + n + u + (r == "-" ? 0 : r) + w}')
	printf '| %-10s | %8s | %9s | %6s | %8s | %6s | %6s | %6s |\n' "$p" "${vals[@]}" "$total"
done
echo "keygate*: keygate's two processes and the bare handler's (the one a path uses does the work);"
echo "proxy: nginx's or Traefik's processes (both pairs);"
echo "redis: everything Redis did meanwhile, for any client."

rss() { awk '$1 == "VmRSS:" {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"; }
echo "RSS after the runs: keygate (memory) $(rss "$mem_pid"), keygate (Redis) $(rss "$red_pid") (one cached key)"

# Whether keygate (Redis) decided in Redis throughout: its fallback counter.
fallbacks=$(curl -fsS "http://127.0.0.1:$red_adm/metrics" | awk '$1 == "keygate_limiter_fallbacks_total" {print $2}')
[[ ${fallbacks:-0} == 0 ]] || echo "load: WARNING keygate (Redis) fell back to memory $fallbacks times: its figures are partly the memory limiter's" >&2

# Whether the fast path answered the checks (KEYGATE_FAST_PATH): a
# connection handed to net/http is served there for the rest of the run.
for adm in "$mem_adm" "$red_adm"; do
	read -r served handoffs < <(curl -fsS "http://127.0.0.1:$adm/metrics" |
		awk '$1 == "keygate_fast_path_requests_total" {s = $2} $1 == "keygate_fast_path_handoffs_total" {h = $2} END {printf "%d %d\n", s, h}')
	echo "fast path (keygate on admin port $adm): $served requests answered, $handoffs connections handed to net/http"
	[[ $handoffs == 0 ]] || echo "load: WARNING $handoffs connections went to net/http: their checks were not the fast path's" >&2
done

if [[ $latency == 1 ]]; then
	half=$(($(col redis 3 | median | cut -d. -f1) / 2))
	echo
	echo "open loop at $half req/s (keygate-load hit, $conns connections, $duration), ms:"
	for p in redis bare; do
		out=$("$work/keygate-load" hit -url "${url[$p]}" -header "Authorization: Bearer $key" -c "$conns" -d "$duration" -rate "$half")
		grep -q "errors=0 non200=0" <<<"$out" || fail "open loop against $p: $out"
		echo "  $p: $out"
	done
fi

if [[ $profile == 1 ]]; then
	mkdir -p "$profile_dir"
	secs=${duration%s}
	[[ $secs =~ ^[0-9]+$ ]] || fail "LOAD_PROFILE needs LOAD_DURATION in whole seconds"
	for p in memory redis; do
		pprof_port=$mem_pprof
		[[ $p == memory ]] || pprof_port=$red_pprof
		curl -fsS -o "$profile_dir/auth-$p.pprof" "http://127.0.0.1:$pprof_port/debug/pprof/profile?seconds=$secs" &
		prof=$!
		wrk -t"$threads" -c"$conns" -d"$duration" "${headers[@]}" "${url[$p]}" >/dev/null
		wait "$prof"
		echo
		echo "CPU profile of keygate ($p) under wrk: $profile_dir/auth-$p.pprof (go tool pprof -http : $profile_dir/auth-$p.pprof)"
		go tool pprof -top -nodecount 25 "$profile_dir/auth-$p.pprof" 2>/dev/null | sed -n '/flat%/,$p'
	done
fi

if [[ $with_rss == 1 ]]; then
	echo
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	pids=()
	bash scripts/load/rss.sh
fi
