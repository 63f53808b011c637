#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (the pinned
# release, from its Go modules) and kwok into a cache outside git keyed by version, and
# prints that bin folder. Does nothing when the binaries for these pins already exist.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"
cache_root=${PROM_HPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prom-hpa}
bin="$cache_root/kube-${KUBE_VERSION}-kwok-${KWOK_VERSION}/bin"
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/go/mod}
export GOCACHE=${GOCACHE_OVERRIDE:-$cache_root/go/build}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

want="etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok"
check_missing() { missing=""; for b in $want; do [ -x "$bin/$b" ] || missing="$missing $b"; done; }
check_missing
if [ -z "$missing" ]; then echo "$bin"; exit 0; fi

# Only a build needs Go; a warm cache runs without it.
command -v go >/dev/null || { echo "build: Go is not installed; install Go >= 1.26 (the control plane is built from Go modules)" >&2; exit 1; }
# One build at a time per cache: a second caller waits, then finds the binaries there.
mkdir -p "$cache_root"
exec 9>"$cache_root/build-${KUBE_VERSION}-kwok-${KWOK_VERSION}.lock"
if command -v flock >/dev/null; then
  flock -n 9 || { echo "build: another build of these pins is running; waiting for it" >&2; flock 9; }
  check_missing
  if [ -z "$missing" ]; then echo "$bin"; exit 0; fi
fi

rm -rf "$bin.partial"; mkdir -p "$bin.partial"
log="$cache_root/build-${KUBE_VERSION}.log"
echo "build: building$missing for Kubernetes ${KUBE_VERSION}, kwok ${KWOK_VERSION} (log: $log)" >&2
start=$(date +%s)
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=${KUBE_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor}"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
(
  cd "$here"
  # One go build shares the compile cache across all five commands.
  go build -trimpath -ldflags "-s -w $ldflags" -o "$bin.partial/" \
    ./cmd/etcd \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl
  GOBIN="$bin.partial" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
) >"$log" 2>&1 || { echo "build: failed; last lines of $log:" >&2; tail -30 "$log" >&2; exit 1; }
rm -rf "$bin" && mv "$bin.partial" "$bin"
echo "build: done in $(( $(date +%s) - start ))s" >&2
echo "$bin"
