#!/usr/bin/env bash
# Benchmarks (see scripts/bench/README.md and BENCHMARKS.md). The backend benchmarks need
# nothing else; the cluster benchmarks start a local control plane, kwok and Prometheus of
# their own (PROM_HPA_BENCH_CLUSTER=<run folder>/cluster.json reuses one) and stop it after.
# BENCH_ONLY=backend|cluster runs one half.
set -euo pipefail
cd "$(dirname "$0")/../.."
only=${BENCH_ONLY:-all}
if [ "$only" != cluster ]; then
  echo "== series discovery (10k, 100k series)"
  npx tsx scripts/bench/discovery.ts 10000 100000
  echo "== backend request path (10, 100, 1000 pods)"
  npx tsx scripts/bench/request-path.ts 10,100,1000 2000
  echo "== HTTP client (undici request vs fetch${NODE_FETCH:+ vs node-fetch})"
  npx tsx scripts/bench/http-client.ts 20000 32
fi
if [ "$only" != backend ]; then
  echo "== adapter under load: prom-hpa, prometheus-adapter, Prometheus alone, via the aggregator (10, 100, 1000 pods)"
  npx tsx scripts/bench/adapter-load.ts --sizes 10,100,1000 --duration 10 --connections 16
  echo "== autoscaler: time to sync 100 and 1000 HPAs once"
  npx tsx scripts/bench/autoscaler-sync.ts --hpas 100,1000 --concurrent-syncs 5,20
fi
