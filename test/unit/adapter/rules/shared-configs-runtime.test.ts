// Every shared prometheus-adapter config, beyond loading: its rules compile for serving and
// render PromQL that parses, for the resources their labels name.
import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../../src/adapter/config/load.js";
import { checkPromQL } from "../../../../src/adapter/config/promql.js";
import { buildExternalQuery, buildObjectQuery } from "../../../../src/adapter/rules/query.js";
import { CompiledResourceRule, CompiledRule } from "../../../../src/adapter/rules/rule.js";
import { fakeMapper } from "./fake-kube.js";

const dir = resolve(process.env.PROM_HPA_SHARED ?? "../shared", "adapter-configs");
const good = readdirSync(dir).filter((f) => /^\d\d-.*\.yaml$/.test(f));

describe.each(good)("%s at serving time", (file) => {
  const loaded = parseConfig(readFileSync(resolve(dir, file), "utf8"));
  if (!loaded.ok) throw new Error(`${file} does not load`);
  const config = loaded.config;

  it("renders a parseable query for pods (or the rule's first resource) of every rule", () => {
    config.rules.forEach((r, i) => {
      const rule = new CompiledRule(`rules[${i}]`, r, fakeMapper);
      const label =
        Object.keys(r.resources.overrides).find((l) => l.includes("pod") || l === "system_name") ??
        Object.keys(r.resources.overrides)[0];
      const gr = label
        ? fakeMapper.resolve(r.resources.overrides[label]?.resource ?? "")?.groupResource
        : { group: "", resource: "pods" };
      if (!gr) throw new Error(`rules[${i}]: no resource`);
      const namespaced = gr.resource !== "nodes" && gr.resource !== "namespaces";
      const built = buildObjectQuery(rule.metricsQuery, rule.resources, {
        series: "some_series_total",
        groupResource: gr,
        namespace: namespaced ? "shop" : undefined,
        names: ["a", "b.c"],
      });
      if (!built.ok) throw new Error(`rules[${i}]: ${built.error.message}`);
      expect(checkPromQL(built.query)).toMatchObject({ ok: true });
    });
  });

  it("renders a parseable query for every external rule", () => {
    config.externalRules.forEach((r, i) => {
      const rule = new CompiledRule(`externalRules[${i}]`, r, fakeMapper);
      const built = buildExternalQuery(rule.metricsQuery, rule.resources, {
        series: "queue_depth",
        namespace: rule.namespaced ? "shop" : undefined,
        metricSelector: [{ key: "queue", operator: "=", values: ["orders"] }],
      });
      if (!built.ok) throw new Error(built.error.message);
      expect(checkPromQL(built.query)).toMatchObject({ ok: true });
    });
  });

  it("renders parseable container and node queries for the resource rules", () => {
    const rr = config.resourceRules;
    if (!rr) return;
    for (const key of ["cpu", "memory"] as const) {
      const rule = new CompiledResourceRule(`resourceRules.${key}`, rr[key], fakeMapper);
      const pods = buildObjectQuery(rule.containerQuery, rule.resources, {
        series: "",
        groupResource: { group: "", resource: "pods" },
        namespace: "shop",
        names: ["web-0", "web-1"],
        extraGroupBy: [rule.containerLabel],
      });
      if (!pods.ok) throw new Error(pods.error.message);
      expect(checkPromQL(pods.query)).toMatchObject({ ok: true });
      const nodes = buildObjectQuery(rule.nodeQuery, rule.resources, {
        series: "",
        groupResource: { group: "", resource: "nodes" },
        names: ["node-a"],
      });
      if (!nodes.ok) throw new Error(nodes.error.message);
      expect(checkPromQL(nodes.query)).toMatchObject({ ok: true });
    }
  });
});

describe("config 16's GroupBySlice range", () => {
  it("renders the same group-by as <<.GroupBy>> does in config 04", () => {
    const load = (f: string) => {
      const r = parseConfig(readFileSync(resolve(dir, f), "utf8"));
      const rule = r.ok ? r.config.rules[0] : undefined;
      if (!rule) throw new Error(`${f} has no first rule`);
      return new CompiledRule("rules[0]", rule, fakeMapper);
    };
    const req = {
      series: "http_requests_total",
      groupResource: { group: "", resource: "pods" },
      namespace: "shop",
      names: ["web-0"],
      extraGroupBy: ["container"],
    };
    const r04 = load("04-adapter-config-walkthrough-per-second.yaml");
    const r16 = load("16-synthetic-groupbyslice.yaml");
    const a = buildObjectQuery(r04.metricsQuery, r04.resources, req);
    const b = buildObjectQuery(r16.metricsQuery, r16.resources, req);
    expect(a).toEqual({
      ok: true,
      resourceLabel: "kubernetes_pod_name",
      query:
        'sum(rate(http_requests_total{kubernetes_namespace="shop",kubernetes_pod_name="web-0"}[2m])) by (kubernetes_pod_name,container)',
    });
    expect(b).toEqual(a);
  });
});
