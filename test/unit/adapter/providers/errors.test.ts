import { describe, expect, it } from "vitest";
import type { PromResult, PrometheusClient } from "../../../../src/adapter/prometheus/client.js";
import type { QueryData } from "../../../../src/adapter/prometheus/schema.js";
import { fromPrometheusError, queryVector } from "../../../../src/adapter/providers/errors.js";

function answering(result: PromResult<QueryData>): PrometheusClient {
  return {
    query: () => Promise.resolve(result),
    series: () => Promise.reject(new Error("not used")),
    lastCall: () => ({ ok: true }),
    close: () => Promise.resolve(),
  };
}

describe("queryVector", () => {
  it("hands back a vector's samples", async () => {
    const sample = { metric: { pod: "web-0" }, value: 2, timestampMs: 1000 };
    const r = await queryVector(
      answering({ ok: true, value: { resultType: "vector", result: [sample] } }),
      "q",
      () => "x",
    );
    expect(r).toEqual({ ok: true, value: [sample] });
  });

  it("turns another result type into an Internal error worded by the caller", async () => {
    const r = await queryVector(
      answering({ ok: true, value: { resultType: "scalar", result: { timestampMs: 1000, value: 3 } } }),
      "q",
      (t) => `q returned a ${t}, not a vector`,
    );
    expect(r).toEqual({
      ok: false,
      error: { kind: "Internal", message: "q returned a scalar, not a vector" },
    });
  });

  it("maps a Prometheus failure as fromPrometheusError does (unreachable is Unavailable)", async () => {
    const r = await queryVector(
      answering({ ok: false, error: { kind: "unreachable", message: "refused" } }),
      "q",
      () => "x",
    );
    expect(r).toEqual({
      ok: false,
      error: { kind: "Unavailable", message: "Prometheus unreachable", cause: "refused" },
    });
  });
});

describe("fromPrometheusError", () => {
  it("never tells the client Prometheus' address: the detail is the cause, for our log", () => {
    const detail = "cannot reach Prometheus at http://prometheus.internal:9090/: ECONNREFUSED";
    const e = fromPrometheusError({ kind: "unreachable", message: detail });
    expect(e).toEqual({ kind: "Unavailable", message: "Prometheus unreachable", cause: detail });
    const timeout = fromPrometheusError({ kind: "timeout", message: "Prometheus at http://p:9090 …" });
    expect(timeout.message).toBe("Prometheus did not answer in time");
    const bad = fromPrometheusError({
      kind: "bad_response",
      status: 502,
      message: "http://p:9090: HTTP 502",
    });
    expect(bad.message).toBe("Prometheus answered with an error");
  });
});
