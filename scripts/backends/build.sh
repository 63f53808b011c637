#!/usr/bin/env bash
# Builds one Prometheus-API backend from its Go module into a cache outside git keyed by
# version, and prints the path of its binary. Does nothing when it is already built.
#   bash scripts/backends/build.sh prometheus3|victoriametrics
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"
name=${1:-}
case "$name" in
  prometheus3)
    version=$PROMETHEUS3_VERSION exe=prometheus
    pkg=$PROMETHEUS3_MODULE/cmd/prometheus
    # The HTTP API is all the harness needs: no UI assets are embedded (no builtinassets tag), and
    # of the service discoveries only file_sd and http_sd are kept (remove_all_sd), which
    # shortens the build by most of its dependencies.
    tags=remove_all_sd
    v=github.com/prometheus/common/version
    ldflags="-X $v.Version=$PROMETHEUS3_RELEASE -X $v.Revision=$PROMETHEUS3_VERSION -X $v.Branch=module -X $v.BuildUser=prom-hpa -X $v.BuildDate=19700101-00:00:00"
    ;;
  victoriametrics)
    version=$VICTORIAMETRICS_VERSION exe=victoria-metrics tags=""
    pkg=$VICTORIAMETRICS_MODULE/app/victoria-metrics
    ldflags="-X $VICTORIAMETRICS_MODULE/lib/buildinfo.Version=victoria-metrics-$VICTORIAMETRICS_VERSION"
    ;;
  *) echo "usage: $0 prometheus3|victoriametrics" >&2; exit 2 ;;
esac
cache_root=${PROM_HPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prom-hpa}
bin="$cache_root/$name-$version/bin"
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/go/mod}
export GOCACHE=${GOCACHE_OVERRIDE:-$cache_root/go/build}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
if [ -x "$bin/$exe" ]; then echo "$bin/$exe"; exit 0; fi

command -v go >/dev/null || { echo "build: Go is not installed; install Go >= 1.26 ($name is built from its Go module)" >&2; exit 1; }
mkdir -p "$cache_root"
exec 9>"$cache_root/build-$name-$version.lock"
if command -v flock >/dev/null; then
  flock -n 9 || { echo "build: another build of $name $version is running; waiting for it" >&2; flock 9; }
  if [ -x "$bin/$exe" ]; then echo "$bin/$exe"; exit 0; fi
fi

rm -rf "$bin.partial"; mkdir -p "$bin.partial"
log="$cache_root/build-$name-$version.log"
echo "build: building $name $version (log: $log)" >&2
start=$(date +%s)
# Niced: the machine running the tests is often shared.
GOBIN="$bin.partial" nice -n 10 go install -trimpath -tags "$tags" -ldflags "-s -w $ldflags" "$pkg@$version" >"$log" 2>&1 ||
  { echo "build: failed; last lines of $log:" >&2; tail -30 "$log" >&2; exit 1; }
rm -rf "$bin" && mv "$bin.partial" "$bin"
echo "build: $name done in $(( $(date +%s) - start ))s" >&2
echo "$bin/$exe"
