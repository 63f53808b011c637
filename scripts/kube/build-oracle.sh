#!/usr/bin/env bash
# Builds cmd/hpa-oracle (kube-controller-manager's replica calculator behind a JSON-lines pipe, see
# its main.go) from the pinned Kubernetes module, with build.sh's caches and flags, into a cache
# keyed by version and a hash of its source; prints the binary's path. Nothing to do when built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"
cache_root=${PROM_HPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prom-hpa}
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/go/mod}
export GOCACHE=${GOCACHE_OVERRIDE:-$cache_root/go/build}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
src_hash=$(cat "$here/cmd/hpa-oracle/main.go" "$here/go.mod" | sha256sum | cut -c1-12)
bin="$cache_root/hpa-oracle-${KUBE_VERSION}-${src_hash}/hpa-oracle"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || { echo "build-oracle: Go is not installed; install Go >= 1.26" >&2; exit 1; }
mkdir -p "$(dirname "$bin")"
start=$(date +%s)
(cd "$here" && nice -n 10 go build -trimpath -ldflags "-s -w" -o "$bin.partial" ./cmd/hpa-oracle) >&2
mv "$bin.partial" "$bin"
echo "build-oracle: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
