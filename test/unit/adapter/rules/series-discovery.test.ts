import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../../src/adapter/config/load.js";
import type { MetricsDiscoveryConfig } from "../../../../src/adapter/config/types.js";
import type { PrometheusClient, PromResult } from "../../../../src/adapter/prometheus/client.js";
import type { SeriesLabels } from "../../../../src/adapter/prometheus/schema.js";
import { SeriesDiscovery, buildRegistry } from "../../../../src/adapter/rules/series-discovery.js";
import { CompiledRule } from "../../../../src/adapter/rules/rule.js";
import { fakeMapper } from "./fake-kube.js";

function config(yaml: string): MetricsDiscoveryConfig {
  const r = parseConfig(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

function compile(c: MetricsDiscoveryConfig): { rules: CompiledRule[]; externalRules: CompiledRule[] } {
  return {
    rules: c.rules.map((r, i) => new CompiledRule(`rules[${i}]`, r, fakeMapper)),
    externalRules: c.externalRules.map((r, i) => new CompiledRule(`externalRules[${i}]`, r, fakeMapper)),
  };
}

/** A client whose series answers come from a function of the selector. */
function seriesClient(
  answer: (selector: string) => PromResult<SeriesLabels[]>,
): PrometheusClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async query() {
      throw new Error("not used");
    },
    async series(match) {
      calls.push(match.join(" "));
      return answer(match[0] ?? "");
    },
    lastCall: () => ({ ok: true }),
    close: async () => {},
  };
}

const LEGACY = config(`
rules:
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: ^container_(.*)_seconds_total$, as: ""}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters: [{isNot: ^container_.*_seconds_total$}]
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: ^container_(.*)_total$, as: ""}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  resources: {template: "kube_<<.Group>>_<<.Resource>>", overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^(.*)_total$", as: "\${1}_per_second"}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
externalRules:
- seriesQuery: '{__name__=~"^.*_queue_(length|size)$"}'
  name: {matches: ^.*_queue_(length|size)$, as: "$0"}
  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>})
`);

const CADVISOR: SeriesLabels[] = [
  { __name__: "container_cpu_usage_seconds_total", namespace: "a", pod: "p1", container: "c" },
  { __name__: "container_cpu_usage_seconds_total", namespace: "a", pod: "p2", container: "c" },
  { __name__: "container_network_receive_bytes_total", namespace: "a", pod: "p1" },
  { __name__: "container_memory_working_set_bytes", namespace: "a", pod: "p1" },
];
const APP: SeriesLabels[] = [
  { __name__: "http_requests_total", namespace: "a", pod: "p1", kube_apps_deployment: "web" },
  { __name__: "http_requests_total", namespace: "a", kube_networking_k8s_io_ingress: "front" },
  { __name__: "http_requests_total", namespace: "a", kube__node: "n1" },
  { __name__: "gauge_only", namespace: "a", pod: "p1" },
];
const QUEUES: SeriesLabels[] = [
  { __name__: "jobs_queue_length", namespace: "a", queue: "x" },
  { __name__: "mail_queue_size", queue: "y" },
  { __name__: "other_queue_depth" },
];

const answer = (selector: string): PromResult<SeriesLabels[]> => {
  if (selector.includes("^container_"))
    return selector.includes("!~") ? { ok: true, value: APP } : { ok: true, value: CADVISOR };
  return { ok: true, value: QUEUES };
};

const listed = (d: SeriesDiscovery): string[] =>
  d
    .registry()
    .customList.map(
      (i) =>
        `${i.groupResource.group ? `${i.groupResource.resource}.${i.groupResource.group}` : i.groupResource.resource}/${i.metric}${i.namespaced ? "" : " (cluster)"}`,
    )
    .sort();

describe("series discovery", () => {
  it("names series, applies filters and ties them to resources by overrides and template", async () => {
    const { rules, externalRules } = compile(LEGACY);
    const client = seriesClient(answer);
    const d = new SeriesDiscovery({ rules, externalRules, client, maxAgeMs: 60_000 });
    expect(await d.run()).toMatchObject({ ok: true, seriesCount: 11 });
    expect(listed(d)).toEqual([
      "deployments.apps/http_requests_per_second",
      "ingresses.networking.k8s.io/http_requests_per_second",
      "namespaces/cpu_usage (cluster)",
      "namespaces/http_requests_per_second (cluster)",
      "namespaces/network_receive_bytes (cluster)",
      "nodes/http_requests_per_second (cluster)",
      "pods/cpu_usage",
      "pods/http_requests_per_second",
      "pods/network_receive_bytes",
    ]);
    expect(
      d
        .registry()
        .externalList.map((e) => e.metric)
        .sort(),
    ).toEqual(["jobs_queue_length", "mail_queue_size"]);
  });

  it("names series by a rule whose regex backtracking engines take minutes on, reading the last repeat", async () => {
    const c = config(`
rules:
- seriesQuery: '{__name__=~"^http_.*",namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^([a-z]+_?)+_seconds_total$", as: ""}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
`);
    const { rules, externalRules } = compile(c);
    const adversarial = `http_request_duration_${"a".repeat(28)}1_seconds_total`;
    const client = seriesClient(() => ({
      ok: true,
      value: [
        { __name__: adversarial, namespace: "a", pod: "p1" },
        { __name__: "http_request_duration_seconds_total", namespace: "a", pod: "p1" },
      ],
    }));
    const d = new SeriesDiscovery({ rules, externalRules, client, maxAgeMs: 60_000 });
    expect(await d.run()).toMatchObject({ ok: true });
    // The digit keeps the adversarial name out; the other is named by the group's last iteration.
    expect(listed(d)).toEqual(["namespaces/duration (cluster)", "pods/duration"]);
  });

  it("sends each distinct seriesQuery once, with the max age as start", async () => {
    const { rules, externalRules } = compile(LEGACY);
    const client = seriesClient(answer);
    await new SeriesDiscovery({ rules, externalRules, client, maxAgeMs: 60_000 }).run();
    expect(client.calls).toHaveLength(3);
  });

  it("drops metrics whose series are gone and adds new ones on the next relist", async () => {
    const { rules, externalRules } = compile(LEGACY);
    let cadvisor: SeriesLabels[] = CADVISOR;
    const client = seriesClient((sel) =>
      sel.includes("^container_") && !sel.includes("!~")
        ? { ok: true, value: cadvisor }
        : { ok: true, value: [] },
    );
    const d = new SeriesDiscovery({ rules, externalRules, client, maxAgeMs: 60_000 });
    await d.run();
    expect(listed(d)).toContain("pods/network_receive_bytes");
    cadvisor = [{ __name__: "container_fs_reads_total", namespace: "a", pod: "p9" }];
    await d.run();
    expect(listed(d)).toEqual(["namespaces/fs_reads (cluster)", "pods/fs_reads"]);
  });

  it("keeps the previous metrics when Prometheus fails", async () => {
    const { rules, externalRules } = compile(LEGACY);
    let fail = false;
    const client = seriesClient((sel) =>
      fail ? { ok: false, error: { kind: "unreachable", message: "down" } } : answer(sel),
    );
    const d = new SeriesDiscovery({ rules, externalRules, client, maxAgeMs: 60_000 });
    await d.run();
    const before = listed(d);
    fail = true;
    expect(await d.run()).toMatchObject({ ok: false, error: { kind: "unreachable" } });
    expect(listed(d)).toEqual(before);
  });

  it("never shrinks after an outage longer than maxAge: the first relist looks back from the last good one", async () => {
    const { rules, externalRules } = compile(LEGACY);
    const minute = 60_000;
    let nowMs = 100 * minute;
    let down = false;
    // Prometheus as it is after an outage: the series were last scraped before it went away, so
    // only a window reaching back past the outage still finds them.
    const lastScrapeMs = 101 * minute;
    const starts: number[] = [];
    const client: PrometheusClient = {
      query: () => Promise.reject(new Error("not used")),
      series: (match, opts) => {
        const start = opts?.start?.getTime() ?? 0;
        starts.push(start);
        if (down) return Promise.resolve({ ok: false, error: { kind: "unreachable", message: "down" } });
        return Promise.resolve(start <= lastScrapeMs ? answer(match[0] ?? "") : { ok: true, value: [] });
      },
      lastCall: () => ({ ok: true }),
      close: () => Promise.resolve(),
    };
    const d = new SeriesDiscovery({
      rules,
      externalRules,
      client,
      maxAgeMs: minute,
      now: () => new Date(nowMs),
    });
    nowMs = 101 * minute;
    await d.run();
    const before = listed(d);
    expect(before).toContain("pods/http_requests_per_second");
    down = true;
    nowMs = 103 * minute;
    await d.run();
    down = false;
    nowMs = 110 * minute; // back, nine minutes later, before any new scrape
    expect(await d.run()).toMatchObject({ ok: true });
    expect(listed(d)).toEqual(before);
    expect(starts.at(-1)).toBe(100 * minute); // the last good relist (101m) minus maxAge
    // Once a relist has succeeded, the window is the usual one again.
    nowMs = 111 * minute;
    await d.run();
    expect(starts.at(-1)).toBe(110 * minute);
  });

  it("looks metrics up by resource, name and scope", () => {
    const { rules, externalRules } = compile(LEGACY);
    const reg = buildRegistry(rules, externalRules, new Map([[rules[0]?.seriesQuery ?? "", CADVISOR]]));
    expect(reg.lookupCustom({ group: "", resource: "pods" }, "cpu_usage", true)?.seriesName).toBe(
      "container_cpu_usage_seconds_total",
    );
    expect(reg.lookupCustom({ group: "", resource: "pods" }, "cpu_usage", false)).toBeUndefined();
    expect(reg.lookupCustom({ group: "", resource: "pods" }, "nope", true)).toBeUndefined();
  });

  it("is linear: 100k series over 1k metric names in well under 3 s", () => {
    const { rules, externalRules } = compile(LEGACY);
    const series: SeriesLabels[] = [];
    for (let i = 0; i < 100_000; i++)
      series.push({
        __name__: `app_metric_${i % 1000}_total`,
        namespace: `ns-${i % 50}`,
        pod: `pod-${i}`,
        instance: `10.0.${i % 250}.1:8080`,
        job: "app",
      });
    const started = performance.now();
    const reg = buildRegistry(rules, externalRules, new Map([[rules[2]?.seriesQuery ?? "", series]]));
    const ms = performance.now() - started;
    expect(reg.customList).toHaveLength(2000);
    expect(ms).toBeLessThan(3000);
  });
});
