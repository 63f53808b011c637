#!/usr/bin/env bash
# Builds prometheus-adapter (the incumbent, for the side-by-side adapter benchmark) from its Go
# module at a pinned version into a cache outside git, and prints the binary's path. Does
# nothing when it is already there. The Go module proxy refuses to *list* this module's
# versions (403 on @v/list) but serves a named version's .info/.mod/.zip, so the pin is exact.
set -euo pipefail
PROMETHEUS_ADAPTER_VERSION=${PROMETHEUS_ADAPTER_VERSION:-v0.12.0}
cache_root=${PROM_HPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prom-hpa}
out="$cache_root/prometheus-adapter-${PROMETHEUS_ADAPTER_VERSION}/bin/prometheus-adapter"
[ -x "$out" ] && { echo "$out"; exit 0; }
command -v go >/dev/null || { echo "prometheus-adapter: Go is not installed" >&2; exit 1; }
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/go/mod}
export GOCACHE=${GOCACHE_OVERRIDE:-$cache_root/go/build}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
log="$cache_root/prometheus-adapter-${PROMETHEUS_ADAPTER_VERSION}.log"
mkdir -p "$(dirname "$out")"
echo "prometheus-adapter: building sigs.k8s.io/prometheus-adapter@${PROMETHEUS_ADAPTER_VERSION} (log: $log)" >&2
start=$(date +%s)
(
  # Build inside the module itself so its go.mod (and any replace directives) apply.
  src=$(go mod download -json "sigs.k8s.io/prometheus-adapter@${PROMETHEUS_ADAPTER_VERSION}" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] || { echo "go mod download gave no source folder"; exit 1; }
  work="$cache_root/prometheus-adapter-${PROMETHEUS_ADAPTER_VERSION}/src"
  rm -rf "$work" && cp -r "$src" "$work" && chmod -R u+w "$work"
  cd "$work"
  go build -trimpath -ldflags "-s -w" -o "$out.partial" ./cmd/adapter
  mv "$out.partial" "$out"
) >"$log" 2>&1 || { echo "prometheus-adapter: build failed; last lines of $log:" >&2; tail -30 "$log" >&2; exit 1; }
echo "prometheus-adapter: built in $(( $(date +%s) - start ))s" >&2
echo "$out"
