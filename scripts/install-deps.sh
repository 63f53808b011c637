#!/usr/bin/env bash
# Installs the machine packages the local control plane needs (Debian 12): Prometheus (run by
# the harness itself, never as a system service), openssl (certificates), and for the real
# node (`cluster:up --real-node`) runc (containerd's runtime) and gcc (the pause image is
# compiled from kubelet's own pause.c). Idempotent.
set -euo pipefail
need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v openssl >/dev/null || need+=(openssl)
command -v runc >/dev/null || need+=(runc)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v go >/dev/null || { echo "install-deps: Go >= 1.26 is required to build the control plane" >&2; exit 1; }
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian's package starts a system service where systemd runs; the harness runs its own
  # Prometheus (own config, data folder and loopback port) instead, so the service goes.
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
echo "install-deps: prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}'), $(openssl version), runc $(runc --version | head -1 | awk '{print $3}')"
