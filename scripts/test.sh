#!/usr/bin/env bash
# The one test command (npm test): static checks, unit tests, the conformance vectors, then
# the end-to-end tests against a real local control plane and Prometheus.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${PROM_HPA_SHARED:-../shared}

echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint .
# The chart tests render charts/prom-hpa with the pinned helm: build it first (cached; 63 s after the Kubernetes build, 432 s with empty Go caches).
echo "== helm (built when missing)"; bash scripts/helm/build.sh >/dev/null
echo "== unit"; npx vitest run --project unit
echo "== conformance"
if compgen -G "$shared/conformance/*.json" >/dev/null; then
  npx tsx src/cli.ts conformance "$shared"/conformance/*.json
else
  echo "conformance: no vectors at $shared/conformance (set PROM_HPA_SHARED)" >&2; exit 1
fi
if [ "${PROM_HPA_SKIP_E2E:-}" = 1 ]; then echo "== e2e skipped (PROM_HPA_SKIP_E2E=1)"; exit 0; fi
echo "== e2e (installing and building the local control plane when missing)"
bash scripts/install-deps.sh
bash scripts/kube/build.sh >/dev/null
# The real node of the install and real-node e2e files: kubelet, containerd, CNI plugins and the
# pause binary (cached; about 3 min after build.sh on the 2-core machine: kubelet 58 s,
# containerd 104 s with downloads, CNI plugins 7 s, pause a few seconds; up to ~8 min under load).
bash scripts/kube/build-node.sh >/dev/null
npx vitest run --project e2e
