import { describe, expect, it } from "vitest";
import type { PromResult, PrometheusClient } from "../../../../src/adapter/prometheus/client.js";
import type { QueryData } from "../../../../src/adapter/prometheus/schema.js";
import { queryVector } from "../../../../src/adapter/providers/errors.js";

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
    expect(r).toEqual({ ok: false, error: { kind: "Unavailable", message: "refused" } });
  });
});
