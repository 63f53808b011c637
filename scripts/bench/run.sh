#!/usr/bin/env bash
# Benchmarks of the adapter's metrics backend (see scripts/bench/README.md). The adapter-level
# benchmark (autocannon, side by side with prometheus-adapter) is to be added here.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "== series discovery (10k, 100k series)"
npx tsx scripts/bench/discovery.ts 10000 100000
echo "== backend request path (10, 100, 1000 pods)"
npx tsx scripts/bench/request-path.ts 10,100,1000 2000
echo "== HTTP client (undici request vs fetch${NODE_FETCH:+ vs node-fetch})"
npx tsx scripts/bench/http-client.ts 20000 32
