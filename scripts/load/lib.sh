# shellcheck shell=bash
# What make load's scripts (run.sh, rss.sh) share. The caller sets pg_url
# and defines fail; lib_start makes $work, and the EXIT trap kills what is
# in pids, drops $db and removes $work.

# lib_start NAME builds keygate (as make build does) and keygate-load
# into a new $work, saying so as NAME.
lib_start() {
	work=$(mktemp -d)
	pids=()
	db=
	trap lib_cleanup EXIT
	echo "$1: building keygate and keygate-load" >&2
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/keygate" ./cmd/keygate
	go build -o "$work/keygate-load" ./internal/cmd/keygate-load
}

lib_cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	[[ -z $db ]] || psql -q "$pg_url/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	rm -rf "$work"
}

# lib_database PREFIX creates the run's database (dropped at exit),
# exports KEYGATE_DATABASE_URL and migrates it.
lib_database() {
	db=$1_$$_$RANDOM
	psql -q "$pg_url/postgres" -c "CREATE DATABASE $db" >/dev/null
	export KEYGATE_DATABASE_URL="$pg_url/$db?sslmode=disable"
	"$work/keygate" migrate up >/dev/null 2>"$work/migrate.log" || { cat "$work/migrate.log" >&2; fail "keygate migrate up failed"; }
}
