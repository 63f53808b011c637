import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue, parseConfig } from "../../../../src/adapter/config/load.js";

const dir = resolve(process.env.PROM_HPA_SHARED ?? "../shared", "adapter-configs");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
const good = files.filter((f) => /^\d\d-/.test(f));
const bad = files.filter((f) => f.startsWith("bad-"));
const load = (f: string) => parseConfig(readFileSync(resolve(dir, f), "utf8"));
const messages = (f: string): string[] => {
  const r = load(f);
  return r.ok ? [] : r.issues.map(formatIssue);
};

describe("shared prometheus-adapter configs", () => {
  it("finds the shared configs", () => {
    expect(good.length).toBeGreaterThanOrEqual(15);
    expect(bad.length).toBe(5);
  });

  it.each(good)("loads %s unchanged", (f) => {
    const r = load(f);
    expect(r.ok ? [] : r.issues.map(formatIssue)).toEqual([]);
  });

  it("keeps the rule counts and kinds of the legacy defaults with external rules", () => {
    const r = load("02-adapter-legacy-defaults-with-external.yaml");
    if (!r.ok) throw new Error("not loaded");
    expect(r.config.rules).toHaveLength(6);
    expect(r.config.externalRules).toHaveLength(2);
    expect(r.config.resourceRules?.windowSeconds).toBe(60);
    expect(r.config.rules[1]?.seriesFilters).toEqual([{ isNot: "^container_.*_seconds_total$" }]);
    expect(r.config.externalRules[0]?.name).toEqual({ matches: "^.*_queue_(length|size)$", as: "$0" });
  });

  it("reads namespaced: false on external rules", () => {
    const r = load("06-adapter-external-namespaced-false.yaml");
    expect(r.ok && r.config.externalRules[0]?.resources.namespaced).toBe(false);
  });

  it("refuses bad-01: names rules[0].name.matches, the pattern and the regex error", () => {
    expect(messages("bad-01-invalid-name-regex.yaml")).toEqual([
      'rules[0].name.matches: invalid regex "^(.*_total": missing closing ): `^(.*_total`',
    ]);
  });

  it("refuses bad-02: names rules[0].metricsQuery and the unknown field .LabelMatcher", () => {
    const m = messages("bad-02-unknown-template-variable.yaml");
    expect(m).toHaveLength(1);
    expect(m[0]).toMatch(/^rules\[0\]\.metricsQuery: unknown template variable <<\.LabelMatcher>>/);
    expect(m[0]).toContain("known: .Series, .LabelMatchers, .LabelValuesByName, .GroupBy, .GroupBySlice");
  });

  it("refuses bad-03: one resource claimed by two labels, template disagreeing with overrides", () => {
    const m = messages("bad-03-template-overrides-conflict.yaml");
    expect(m).toHaveLength(1);
    expect(m[0]).toMatch(/^rules\[0\]\.resources: /);
    expect(m[0]).toContain(
      "label kubernetes_namespace maps to namespace via template kubernetes_<<.Resource>> but to pod via overrides",
    );
    expect(m[0]).toContain(
      "resource pod is mapped from more than one label (kubernetes_namespace, kubernetes_pod_name)",
    );
  });

  it("refuses bad-04: YAML error at line 30 naming the metricsQuery it is in", () => {
    const m = messages("bad-04-upstream-sample-config-unescaped-quotes.yaml");
    expect(m[0]).toMatch(/^rules\[0\]\.metricsQuery: invalid YAML at line 30, column \d+: /);
    expect(m.length).toBe(3);
  });

  it("refuses bad-05: ${ }$ delimiters, with the hint that templates use << >>", () => {
    const m = messages("bad-05-upstream-legacy-dollar-delimiters.yaml");
    expect(m).toContain(
      'rules[0].resources.template: "${.Resource}$" must include <<.Resource>> (templates use << >> delimiters; ${ }$ was prometheus-adapter v0.2\'s syntax)',
    );
    expect(m.filter((x) => x.startsWith("rules[1].resources.template:"))).toHaveLength(1);
    expect(m.some((x) => x.startsWith("rules[0].metricsQuery: PromQL syntax error"))).toBe(true);
  });
});
