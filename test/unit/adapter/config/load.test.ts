import { describe, expect, it } from "vitest";
import { formatIssue, parseConfig, parsePromDuration } from "../../../../src/adapter/config/load.js";

const issues = (yaml: string): string[] => {
  const r = parseConfig(yaml);
  return r.ok ? [] : r.issues.map(formatIssue);
};

const rule = (over: Record<string, string>): string => {
  const base: Record<string, string> = {
    seriesQuery: `'http_requests_total{namespace!="",pod!=""}'`,
    resources: "{overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}",
    name: `{matches: "^(.*)_total$", as: "$\{1}_per_second"}`,
    metricsQuery: `'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'`,
    ...over,
  };
  return (
    "- " +
    Object.entries(base)
      .filter(([, v]) => v !== "")
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n  ")
  );
};

describe("config loading", () => {
  it("accepts an empty document as a config with no rules", () => {
    expect(parseConfig("")).toEqual({ ok: true, config: { rules: [], externalRules: [] } });
  });

  it("reports every mistake in one pass, each with its path", () => {
    const yaml = [
      "rules:",
      rule({ name: `{matches: "(a"}` }),
      rule({ metricsQuery: `'sum(<<.Foo>>)'` }),
      rule({ seriesFilters: `[{is: "a", isNot: "b"}]` }),
      "externalRules:",
      rule({ metricsQuery: `'sum(rate(<<.Series>>[2m])'` }),
      "resourceRules:",
      "  window: 5x",
      "  cpu: {containerQuery: 'x', nodeQuery: 'y', containerLabel: c, bogus: 1}",
      "  memory: {containerQuery: 'x', nodeQuery: 'y'}",
    ].join("\n");
    const m = issues(yaml);
    expect(m).toContain('rules[0].name.matches: invalid regex "(a": missing closing ): `(a`');
    expect(m.some((x) => x.startsWith("rules[1].metricsQuery: unknown template variable <<.Foo>>"))).toBe(
      true,
    );
    expect(m).toContain("rules[2].seriesFilters[0]: set either is or isNot, not both");
    expect(m.some((x) => x.startsWith("externalRules[0].metricsQuery: PromQL syntax error"))).toBe(true);
    expect(m).toContain("resourceRules.cpu.bogus: unknown field");
    expect(m.some((x) => x.startsWith("resourceRules.memory.containerLabel:"))).toBe(true);
  });

  it("refuses unknown keys as Go's strict decoding does", () => {
    expect(issues("rules:\n" + rule({ metricQuery: "'x'" }))).toContain(
      "rules[0].metricQuery: unknown field",
    );
    expect(issues("rule: []")).toEqual(["rule: unknown field"]);
  });

  it("follows YAML anchors, aliases and merge keys as Go's yaml.v2 does", () => {
    const r = parseConfig(
      [
        "podResources: &pods {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}",
        "base: &base",
        "  resources: *pods",
        "  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'",
      ].join("\n"),
    );
    expect(r.ok).toBe(false); // unknown top-level keys are still refused
    const ok = parseConfig(
      [
        "rules:",
        "- &base",
        "  seriesQuery: 'a_total{namespace!=\"\"}'",
        "  resources: &pods {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}",
        "  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'",
        "- <<: *base",
        "  seriesQuery: 'b_total{namespace!=\"\"}'",
      ].join("\n"),
    );
    if (!ok.ok) throw new Error(JSON.stringify(ok.issues));
    expect(
      ok.config.rules.map((x) => [x.seriesQuery, x.resources.overrides.pod?.resource, x.metricsQuery]),
    ).toEqual([
      ['a_total{namespace!=""}', "pod", "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"],
      ['b_total{namespace!=""}', "pod", "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"],
    ]);
  });

  it("refuses duplicate keys", () => {
    expect(issues("rules: []\nrules: []")[0]).toMatch(/invalid YAML.*line 2/);
  });

  it("requires name.as when name.matches has several capture groups", () => {
    expect(issues("rules:\n" + rule({ name: `{matches: "^(a)_(b)$"}` }))).toEqual([
      'rules[0].name.as: required when name.matches has more than one capture group ("^(a)_(b)$" has 2)',
    ]);
  });

  it("refuses a seriesQuery that is an expression rather than a series selector", () => {
    expect(issues("rules:\n" + rule({ seriesQuery: "'sum(up)'" }))[0]).toMatch(
      /^rules\[0\]\.seriesQuery: must be a series selector/,
    );
  });

  it("refuses Perl regex features RE2 does not have", () => {
    expect(issues("rules:\n" + rule({ seriesFilters: `[{isNot: "^(?!foo)"}]` }))[0]).toMatch(
      /^rules\[0\]\.seriesFilters\[0\]\.isNot: invalid regex/,
    );
  });

  it("reports a template syntax error with its position", () => {
    expect(issues("rules:\n" + rule({ metricsQuery: `'sum(<<if .Series>>x)'` }))[0]).toMatch(
      /^rules\[0\]\.metricsQuery: template metrics-query:.*missing \{\{end\}\}/,
    );
  });

  it("reads the window as a Prometheus duration", () => {
    expect(parsePromDuration("1h30m")).toBe(5400);
    expect(parsePromDuration("30s")).toBe(30);
    expect(parsePromDuration("5x")).toBeUndefined();
  });
});
