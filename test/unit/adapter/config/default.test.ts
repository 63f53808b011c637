import { describe, expect, it } from "vitest";
import {
  defaultConfig,
  defaultConfigYaml,
  resourceRulesYaml,
} from "../../../../src/adapter/config/default.js";

describe("the adapter's default config", () => {
  it("has prometheus-adapter's default discovery rules, with its 5m rate interval", () => {
    const c = defaultConfig();
    expect(c.rules.map((r) => [r.seriesQuery, r.seriesFilters.map((f) => f.isNot), r.metricsQuery])).toEqual([
      [
        '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}',
        [],
        'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by (<<.GroupBy>>)',
      ],
      [
        '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}',
        ["^container_.*_seconds_total$"],
        'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by (<<.GroupBy>>)',
      ],
      [
        '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}',
        ["^container_.*_total$"],
        'sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)',
      ],
      [
        '{namespace!="",__name__!~"^container_.*"}',
        [".*_total$"],
        "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      ],
      [
        '{namespace!="",__name__!~"^container_.*"}',
        [".*_seconds_total"],
        "sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
      ],
      [
        '{namespace!="",__name__!~"^container_.*"}',
        [],
        "sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
      ],
    ]);
    expect(c.rules[3]?.resources.template).toBe("<<.Resource>>");
    expect(c.resourceRules?.windowSeconds).toBe(300);
    expect(c.resourceRules?.cpu.containerQuery).toBe(
      "sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
    );
    expect(c.resourceRules?.cpu.resources.overrides.instance).toEqual({ group: "", resource: "node" });
  });

  it("uses the rate interval it is given in every rate() and as the resource window", () => {
    const c = defaultConfig({ rateInterval: "1m" });
    expect(c.rules[0]?.metricsQuery).toBe(
      'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[1m])) by (<<.GroupBy>>)',
    );
    expect(c.resourceRules?.windowSeconds).toBe(60);
    expect(defaultConfigYaml({ rateInterval: "1m" })).not.toContain("[5m]");
  });

  it("prefixes the labels of non-cAdvisor series and the container label, as the generator does", () => {
    const yaml = defaultConfigYaml({ labelPrefix: "kubernetes_" });
    expect(yaml).toContain(`- seriesQuery: '{kubernetes_namespace!="",__name__!~"^container_.*"}'`);
    expect(yaml).toContain("template: kubernetes_<<.Resource>>");
    expect(yaml).toContain("containerLabel: kubernetes_container");
    // cAdvisor names its own labels.
    expect(yaml).toContain(`'{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'`);
    expect(defaultConfig({ labelPrefix: "kubernetes_" }).rules).toHaveLength(6);
  });

  it("builds resource rules for containers only, on another node label, with irate", () => {
    const yaml = resourceRulesYaml({
      window: "10s",
      rateFunction: "irate",
      nodeLabel: "node",
      containersOnly: true,
    });
    expect(yaml).toContain(
      `containerQuery: 'sum(irate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!="",pod!=""}[10s])) by (<<.GroupBy>>)'`,
    );
    expect(yaml).toContain("node: {resource: node}");
    expect(yaml).toContain("window: 10s");
  });
});
