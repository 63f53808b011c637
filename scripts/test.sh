#!/usr/bin/env bash
# The one test command (npm test): static checks, unit tests, the conformance vectors, then
# the end-to-end tests against a real local control plane and Prometheus (and the adapter's
# against Prometheus 3 too).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${PROM_HPA_SHARED:-../shared}

echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint .
echo "== format"; npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "prettier: the files above are not formatted (npm run format)" >&2; exit 1; }
# Machine packages first: the unit tests run promtool (Debian's prometheus) on the alert rules.
echo "== machine packages (installed when missing)"; bash scripts/install-deps.sh
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
# The adapter's e2e runs once more against each of these Prometheus-API backends (the full run
# above uses Debian's Prometheus 2.42). Default: Prometheus 3; add victoriametrics with e.g.
# PROM_HPA_E2E_BACKENDS="prometheus3 victoriametrics"; an empty value runs none.
backends=${PROM_HPA_E2E_BACKENDS-prometheus3}
echo "== e2e (installing and building the local control plane and backends when missing)"
bash scripts/kube/build.sh >/dev/null
# The real node of the install and real-node e2e files: kubelet, containerd, CNI plugins and the
# pause binary (cached; about 3 min after build.sh on the 2-core machine, up to ~8 min under load).
bash scripts/kube/build-node.sh >/dev/null
for b in $backends; do bash scripts/backends/build.sh "$b" >/dev/null; done
echo "== the replica calculator against kube-controller-manager v1.37.2's, linked in a Go program"
npm run -s differential -- --oracle go --cases 2000 --seed 1 --show 1
npx vitest run --project e2e
for b in $backends; do
  echo "== e2e adapter against $b"
  PROM_HPA_E2E_BACKEND=$b npx vitest run --project e2e test/e2e/adapter.test.ts test/e2e/utf8-names.test.ts
done
