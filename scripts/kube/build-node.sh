#!/usr/bin/env bash
# Builds what a real node needs beside the control plane: kubelet (from the same wrapper
# module and pin as build.sh), containerd with its shim and ctr, and the CNI plugins the
# harness uses (bridge, host-local, loopback). Each goes into a cache folder of its own keyed
# by its version, so bumping one pin rebuilds only that tool and build.sh's key is untouched.
# Also compiles the sandbox ("pause") binary from the kubernetes module's own
# build/pause/linux/pause.c with `gcc -static`. Prints `<tool>=<bin folder>` lines (kubelet,
# containerd, cni, pause). runc and gcc come from Debian (scripts/install-deps.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"
cache_root=${PROM_HPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prom-hpa}
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/go/mod}
export GOCACHE=${GOCACHE_OVERRIDE:-$cache_root/go/build}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

declare -A dirs=(
  [kubelet]="$cache_root/kubelet-${KUBE_VERSION}/bin"
  [containerd]="$cache_root/containerd-${CONTAINERD_VERSION}/bin"
  [cni]="$cache_root/cni-plugins-${CNI_PLUGINS_VERSION}/bin"
  [pause]="$cache_root/pause-${KUBE_VERSION}/bin"
)
declare -A wants=(
  [kubelet]="kubelet"
  [containerd]="containerd ctr containerd-shim-runc-v2"
  [cni]="bridge host-local loopback"
  [pause]="pause"
)
complete() { local b; for b in ${wants[$1]}; do [ -x "${dirs[$1]}/$b" ] || return 1; done; }

# The machine is shared: builds run at a lower priority.
gobuild() { nice -n 10 go "$@"; }

build_kubelet() {
  local minor=${KUBE_VERSION#v1.} ldflags="" pkg
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=${KUBE_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor}"
    ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$here" && CGO_ENABLED=0 gobuild build -trimpath -ldflags "-s -w $ldflags" -o "$1/" k8s.io/kubernetes/cmd/kubelet)
}
build_containerd() {
  local m=github.com/containerd/containerd/v2 c
  for c in containerd ctr containerd-shim-runc-v2; do
    # containerd's daemon links no C here: the snapshotters that would need it are tagged out.
    GOBIN="$1" CGO_ENABLED=0 gobuild install -trimpath -tags "no_btrfs no_devmapper no_zfs" \
      -ldflags "-s -w -X $m/version.Version=${CONTAINERD_VERSION}" "$m/cmd/$c@${CONTAINERD_VERSION}"
  done
}
build_cni() {
  local m=github.com/containernetworking/plugins/plugins p
  for p in main/bridge main/loopback ipam/host-local; do
    GOBIN="$1" CGO_ENABLED=0 gobuild install -trimpath -ldflags "-s -w" "$m/$p@${CNI_PLUGINS_VERSION}"
  done
}
build_pause() {
  local src
  src=$(cd "$here" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
  command -v gcc >/dev/null || { echo "gcc is not installed (scripts/install-deps.sh installs it)"; return 1; }
  nice -n 10 gcc -Os -static -Wall -Werror -DVERSION="${KUBE_VERSION}" -o "$1/pause" "$src"
  strip "$1/pause"
}

mkdir -p "$cache_root"
for tool in kubelet containerd cni pause; do
  dir=${dirs[$tool]}
  if ! complete "$tool"; then
    command -v go >/dev/null || { echo "build-node: Go is not installed; install Go >= 1.26 to build $tool" >&2; exit 1; }
    key=$(basename "$(dirname "$dir")")
    exec 9>"$cache_root/build-$key.lock"
    if command -v flock >/dev/null; then
      flock -n 9 || { echo "build-node: another build of $key is running; waiting for it" >&2; flock 9; }
    fi
    if ! complete "$tool"; then
      log="$cache_root/build-$key.log"
      echo "build-node: building $key (log: $log)" >&2
      start=$(date +%s)
      rm -rf "$dir.partial"; mkdir -p "$dir.partial"
      "build_$tool" "$dir.partial" >"$log" 2>&1 || { echo "build-node: $key failed; last lines of $log:" >&2; tail -30 "$log" >&2; exit 1; }
      rm -rf "$dir" && mv "$dir.partial" "$dir"
      echo "build-node: $key done in $(( $(date +%s) - start ))s" >&2
    fi
    exec 9>&-
  fi
  echo "$tool=$dir"
done
