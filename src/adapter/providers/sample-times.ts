// --metric-timestamps: what a value's `timestamp` says. "query" (upstream's): when Prometheus
// evaluated the query. "sample": when the newest sample under the value was scraped, so a client
// (our autoscaler's max-metric-age) can tell a fresh value from one computed over a series that
// stopped updating. "sample" costs a second instant query per request, run alongside the first.
import type { PrometheusClient } from "../prometheus/client.js";
import type { BackendWaitTimer, Result } from "../provider.js";
import { queryVector } from "./errors.js";

export type MetricTimestamps = "query" | "sample";
export const METRIC_TIMESTAMPS: readonly MetricTimestamps[] = ["query", "sample"];

/**
 * Runs a rule's sample-time query (rules/query.ts) and keys its answer by `label`'s value (every
 * sample under "" when the query groups by nothing): newest sample time in epoch ms.
 */
export async function querySampleTimes(
  client: PrometheusClient,
  query: string,
  label: string | undefined,
  wait: BackendWaitTimer | undefined,
): Promise<Result<Map<string, number>>> {
  const answer = await queryVector(
    client,
    query,
    (resultType) => `the sample-time query returned a ${resultType}, not a vector`,
    wait,
  );
  if (!answer.ok) return answer;
  const out = new Map<string, number>();
  for (const s of answer.value) {
    if (!Number.isFinite(s.value)) continue;
    const key = label === undefined ? "" : s.metric[label];
    if (key === undefined) continue;
    const ms = Math.round(s.value * 1000);
    out.set(key, Math.max(out.get(key) ?? -Infinity, ms));
  }
  return { ok: true, value: out };
}
