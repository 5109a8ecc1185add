#!/usr/bin/env bash
# Builds Traefik from its source on the Go module proxy into
# TRAEFIK_BIN (default /usr/local/bin/traefik), for make load's Traefik
# rows and authz's TestTraefikRefusesPathBypasses, which run when a traefik
# binary is on PATH. Debian does not package Traefik; its v3 releases need
# modules that the proxy here refuses, v2.11 does not, and the shipped
# deploy/traefik/dynamic.yml is valid for both. About 12 minutes on 2 cores.
#
#   TRAEFIK_VERSION  default v2.11.20
#   TRAEFIK_BIN      default /usr/local/bin/traefik
set -euo pipefail
version=${TRAEFIK_VERSION:-v2.11.20}
bin=${TRAEFIK_BIN:-/usr/local/bin/traefik}
module=github.com/traefik/traefik/v${version:1:1}

dir=$(go mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -n $dir ]] || { echo "traefik: $module@$version: not downloaded" >&2; exit 1; }
src=$(mktemp -d)
trap 'chmod -R u+w "$src"; rm -rf "$src"' EXIT
cp -r "$dir/." "$src"
chmod -R u+w "$src"
echo "traefik: building $module@$version into $bin" >&2
(cd "$src" && GOFLAGS=-mod=mod go build -o "$bin" ./cmd/traefik)
"$bin" version
