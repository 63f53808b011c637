import { describe, expect, it } from "vitest";
import {
  parseErrorBody,
  parseQueryBody,
  parseSeriesBody,
} from "../../../../src/adapter/prometheus/schema.js";

// Answers as the tested backends write them (captured from Prometheus 3.16 and VictoriaMetrics
// v1.151.0): each adds fields of its own around the envelope Prometheus 2 defined.
describe("answers of the other Prometheus-API backends", () => {
  it("reads a VictoriaMetrics vector, ignoring its stats and isPartial", () => {
    const r = parseQueryBody({
      status: "success",
      isPartial: false,
      data: { resultType: "vector", result: [{ metric: { pod: "web-0" }, value: [1796697447, "2.5"] }] },
      stats: { seriesFetched: "1", executionTimeMsec: 0 },
    });
    expect(r).toEqual({
      ok: true,
      value: {
        resultType: "vector",
        result: [{ metric: { pod: "web-0" }, timestampMs: 1796697447000, value: 2.5 }],
      },
    });
  });

  it("reads a Prometheus 3 vector with info-level annotations, keeping its warnings", () => {
    const r = parseQueryBody({
      status: "success",
      data: { resultType: "vector", result: [] },
      warnings: ["PromQL warning: something"],
      infos: ['PromQL info: metric might not be a counter, name does not end in _total: "my.metric"'],
    });
    expect(r).toEqual({
      ok: true,
      value: { resultType: "vector", result: [] },
      warnings: ["PromQL warning: something"],
    });
  });

  it("reads series with UTF-8 label names", () => {
    expect(
      parseSeriesBody({ status: "success", data: [{ __name__: "my.metric", "k8s.pod.name": "web-0" }] }),
    ).toEqual({ ok: true, value: [{ __name__: "my.metric", "k8s.pod.name": "web-0" }] });
  });

  it("reads VictoriaMetrics' errors, whose errorType is the HTTP status", () => {
    expect(parseErrorBody({ status: "error", errorType: "400", error: 'cannot parse "foo("' })).toMatchObject(
      {
        errorType: "400",
        error: 'cannot parse "foo("',
      },
    );
  });
});
