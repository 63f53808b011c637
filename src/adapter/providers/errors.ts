import type { PrometheusClient, PrometheusError } from "../prometheus/client.js";
import type { VectorSample } from "../prometheus/schema.js";
import type { BackendWaitTimer, ProviderError, Result } from "../provider.js";

/**
 * Prometheus failures as the API reports them: unreachable, timing out or answering garbage is
 * 503 saying which of the three (the detail, with Prometheus' address, is kept for our log); a query Prometheus refuses as bad_data came from the request's selector
 * values and is 400; any other refusal (execution errors from the rule's query) is 500.
 */
export function fromPrometheusError(e: PrometheusError): ProviderError {
  switch (e.kind) {
    case "unreachable":
      return { kind: "Unavailable", message: "Prometheus unreachable", cause: e.message };
    case "timeout":
      return { kind: "Unavailable", message: "Prometheus did not answer in time", cause: e.message };
    case "bad_response":
      return { kind: "Unavailable", message: "Prometheus answered with an error", cause: e.message };
    case "query_error":
      if (e.errorType === "bad_data") return { kind: "BadRequest", message: e.message };
      if (
        e.errorType === "timeout" ||
        e.errorType === "canceled" ||
        e.errorType === "unavailable" ||
        (e.status >= 500 && e.errorType === "internal")
      ) {
        return { kind: "Unavailable", message: e.message };
      }
      return { kind: "Internal", message: e.message };
  }
}

/**
 * Runs an instant query whose answer must be a vector (one sample per object); a failure is the
 * error above, another result type an Internal error worded by `notVector`.
 */
export async function queryVector(
  client: PrometheusClient,
  query: string,
  notVector: (resultType: string) => string,
  wait?: BackendWaitTimer,
): Promise<Result<VectorSample[]>> {
  const answer = await client.query(query, { wait });
  if (!answer.ok) return { ok: false, error: fromPrometheusError(answer.error) };
  if (answer.value.resultType !== "vector")
    return { ok: false, error: { kind: "Internal", message: notVector(answer.value.resultType) } };
  return { ok: true, value: answer.value.result };
}

/**
 * A sample's value as a measurement, or undefined when it is none: NaN and ±Inf are dropped, so
 * the object counts as missing (upstream's missing-pod rules apply, and an answer with nothing
 * left is a failed metric). A rule may opt in to reading NaN as 0 (`nanAsZero`).
 */
export function measurement(value: number, nanAsZero = false): number | undefined {
  if (Number.isFinite(value)) return value;
  return nanAsZero && Number.isNaN(value) ? 0 : undefined;
}
