#!/usr/bin/env bash
# Builds the pinned Helm v3 from its Go module into a cache outside git keyed by version, and
# prints the path of the helm binary. Does nothing when that binary already exists.
set -euo pipefail
# v3.21.4 is the newest v3 approved on this workplace; v3.22.0 is served by the Go proxy but
# not approved for use, so do not bump past the approved list.
HELM_VERSION=v3.21.4
cache_root=${PROM_HPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prom-hpa}
bin="$cache_root/helm-${HELM_VERSION}/bin"
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/go/mod}
export GOCACHE=${GOCACHE_OVERRIDE:-$cache_root/go/build}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

if [ -x "$bin/helm" ]; then echo "$bin/helm"; exit 0; fi

# Only a build needs Go; a warm cache runs without it.
command -v go >/dev/null || { echo "helm build: Go is not installed; install Go >= 1.26 (helm is built from its Go module)" >&2; exit 1; }
# One build at a time per cache: a second caller waits, then finds the binary there.
mkdir -p "$cache_root"
exec 9>"$cache_root/build-helm-${HELM_VERSION}.lock"
if command -v flock >/dev/null; then
  flock -n 9 || { echo "helm build: another build of ${HELM_VERSION} is running; waiting for it" >&2; flock 9; }
  if [ -x "$bin/helm" ]; then echo "$bin/helm"; exit 0; fi
fi

rm -rf "$bin.partial"; mkdir -p "$bin.partial"
log="$cache_root/build-helm-${HELM_VERSION}.log"
echo "helm build: building helm ${HELM_VERSION} (log: $log)" >&2
start=$(date +%s)
# The machine is shared: build at a lower priority. The version stamp is what `helm version` prints.
GOBIN="$bin.partial" nice -n 10 go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
  "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >"$log" 2>&1 \
  || { echo "helm build: failed; last lines of $log:" >&2; tail -30 "$log" >&2; exit 1; }
rm -rf "$bin" && mv "$bin.partial" "$bin"
echo "helm build: done in $(( $(date +%s) - start ))s" >&2
echo "$bin/helm"
