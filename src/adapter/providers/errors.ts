import type { PrometheusClient, PrometheusError } from "../prometheus/client.js";
import type { VectorSample } from "../prometheus/schema.js";
import type { BackendWaitTimer, ProviderError, Result } from "../provider.js";

/**
 * Prometheus failures as the API reports them: unreachable, timing out or answering garbage is
 * 503 with the cause; a query Prometheus refuses as bad_data came from the request's selector
 * values and is 400; any other refusal (execution errors from the rule's query) is 500.
 */
export function fromPrometheusError(e: PrometheusError): ProviderError {
  switch (e.kind) {
    case "unreachable":
    case "timeout":
    case "bad_response":
      return { kind: "Unavailable", message: e.message };
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
