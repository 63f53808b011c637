import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../../src/adapter/config/load.js";
import { combineBackends, splitByBackend } from "../../../../src/adapter/providers/backends.js";
import type { PrometheusBackend } from "../../../../src/adapter/providers/backend.js";
import type { ExternalMetricRequest, Result, ExternalMetricValue } from "../../../../src/adapter/provider.js";

function fake(metrics: string[], ready: boolean, answer: Result<ExternalMetricValue[]>) {
  const asked: string[] = [];
  const backend = {
    custom: {
      listCustomMetrics: () => [],
      getMetricByName: () => Promise.resolve({ ok: false, error: { kind: "NotFound", message: "x" } }),
      getMetricBySelector: () => Promise.resolve({ ok: true, value: [] }),
    },
    external: {
      listExternalMetrics: () => metrics.map((metric) => ({ metric })),
      getExternalMetric: (req: ExternalMetricRequest) => {
        asked.push(req.metric);
        return Promise.resolve(answer);
      },
    },
    ready: () => ready,
  } as unknown as PrometheusBackend;
  return { backend, asked };
}

const mapper = { resolve: () => undefined };

describe("several Prometheus backends", () => {
  it("splits rules per backend, keeping each rule's path in the file", () => {
    const r = parseConfig(`
backends: [{name: b, url: "http://b:9090"}]
externalRules:
- {seriesQuery: '{__name__="x"}', metricsQuery: 'sum(<<.Series>>)'}
- {seriesQuery: '{__name__="y"}', metricsQuery: 'sum(<<.Series>>)', backend: b}
`);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const split = splitByBackend(r.config);
    expect([...split.keys()]).toEqual([undefined, "b"]);
    expect(split.get("b")?.paths.externalRules).toEqual(["externalRules[1]"]);
    expect(split.get(undefined)?.externalRules.map((x) => x.seriesQuery)).toEqual(['{__name__="x"}']);
  });

  it("sends a metric to the backend that discovered it; a failing secondary is a named 503 and a warning only", async () => {
    const ok: Result<ExternalMetricValue[]> = { ok: true, value: [] };
    const main = fake(["alpha"], true, ok);
    const b = fake(["beta"], false, {
      ok: false,
      error: { kind: "Unavailable", message: "Prometheus unreachable", cause: "http://b:9090: ECONNREFUSED" },
    });
    const multi = combineBackends(
      [
        { name: undefined, backend: main.backend },
        { name: "tenant-b", backend: b.backend },
      ],
      mapper,
    );
    expect(multi.external.listExternalMetrics()).toEqual([{ metric: "alpha" }, { metric: "beta" }]);
    expect(
      await multi.external.getExternalMetric({ namespace: "d", metric: "beta", metricSelector: "" }),
    ).toEqual({
      ok: false,
      error: {
        kind: "Unavailable",
        message: "backend tenant-b: Prometheus unreachable",
        cause: "http://b:9090: ECONNREFUSED",
      },
    });
    expect(
      await multi.external.getExternalMetric({ namespace: "d", metric: "alpha", metricSelector: "" }),
    ).toEqual(ok);
    // Unknown metrics go to the default backend, which answers NotFound as it always did.
    await multi.external.getExternalMetric({ namespace: "d", metric: "gamma", metricSelector: "" });
    expect(main.asked).toEqual(["alpha", "gamma"]);
    expect(b.asked).toEqual(["beta"]);
    expect(multi.ready()).toBe(true);
    expect(multi.warnings()).toEqual([
      "backend tenant-b: series discovery has not succeeded or Prometheus is not answering",
    ]);
  });
});
