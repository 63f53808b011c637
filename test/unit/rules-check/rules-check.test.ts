import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/adapter/config/load.js";
import { checkRules } from "../../../src/rules-check/check.js";
import {
  InputError,
  offlineSeries,
  parseSeriesFile,
  runRulesCheck,
} from "../../../src/rules-check/command.js";
import { formatReport } from "../../../src/rules-check/format.js";
import { builtInMapper } from "../../../src/rules-check/mapper.js";
import { compileMatchers, parseSelector, parseSeriesLine } from "../../../src/rules-check/selector.js";

const SERIES = `# a comment, then series
container_cpu_usage_seconds_total{namespace="shop",pod="web-0",container="app"}
http_requests_total{namespace="shop",pod="web-0",service="web"}
http_requests_total{namespace="shop",pod="web-1",service="web"}
queue_depth{namespace="shop",queue="orders"}
`;

const RULES = `
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^(.*)_total$", as: "\${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
- seriesQuery: '{__name__=~"^http_.*",namespace!="",pod!=""}'
  resources: {template: "<<.Resource>>"}
  name: {matches: "^(.*)_total$", as: "\${1}_per_second"}
  metricsQuery: 'sum(irate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
- seriesQuery: 'grpc_calls_total{namespace!=""}'
  resources: {template: "<<.Resource>>"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: '{__name__="queue_depth"}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (queue)'
`;

function config(text = RULES) {
  const c = parseConfig(text);
  if (!c.ok) throw new Error(JSON.stringify(c.issues));
  return c.config;
}

describe("series selectors, offline", () => {
  it("reads metric names, all four match operators, quoted UTF-8 names and escapes", () => {
    expect(parseSelector('up{job="a",pod!="b",ns=~"x.*",c!~"y"}')).toEqual({
      ok: true,
      value: [
        { name: "__name__", op: "=", value: "up" },
        { name: "job", op: "=", value: "a" },
        { name: "pod", op: "!=", value: "b" },
        { name: "ns", op: "=~", value: "x.*" },
        { name: "c", op: "!~", value: "y" },
      ],
    });
    expect(parseSeriesLine('{"my.metric", "a.b"="q\\"uote"}')).toEqual({
      ok: true,
      value: { __name__: "my.metric", "a.b": 'q"uote' },
    });
  });

  it("matches as Prometheus does: regexes anchored, a missing label is empty", () => {
    const m = parseSelector('{__name__=~"http_.*",pod!=""}');
    if (!m.ok) throw new Error(m.message);
    const match = compileMatchers(m.value);
    if (!match.ok) throw new Error(match.message);
    expect(match.value({ __name__: "http_requests_total", pod: "p" })).toBe(true);
    expect(match.value({ __name__: "x_http_requests_total", pod: "p" })).toBe(false); // anchored
    expect(match.value({ __name__: "http_requests_total" })).toBe(false); // pod missing = ""
  });

  it("refuses a series line that is not a series, naming file and line", () => {
    expect(() => parseSeriesFile('up{a="b"}\nup{a=~"b"}\n', "s.txt")).toThrow(
      new InputError("s.txt:2: a series has label values, not =~ matchers"),
    );
    expect(() => parseSeriesFile("sum(up)\n", "s.txt")).toThrow(/s\.txt:1: not a series selector/);
  });
});

describe("rules check", () => {
  const report = checkRules(config(), builtInMapper, offlineSeries(parseSeriesFile(SERIES, "s")));

  it("lists per rule the series it matches, the metrics it yields and one rendered query for a real object", () => {
    const first = report.rules[0]!;
    expect(first.path).toBe("rules[0]");
    expect(first.seriesMatched).toBe(2);
    expect(first.metrics).toEqual([
      "namespaces/http_requests_per_second (cluster)",
      "pods/http_requests_per_second",
    ]);
    expect(first.exampleQuery).toBe(
      'sum(rate(http_requests_total{namespace="shop",pod="web-0"}[2m])) by (pod)',
    );
    expect(report.rules[3]).toMatchObject({
      path: "externalRules[0]",
      metrics: ["queue_depth"],
      warnings: [],
    });
  });

  it("flags a rule that matches nothing and a metric two rules both claim", () => {
    expect(report.rules[2]!.warnings).toEqual(["its seriesQuery matches no series"]);
    expect(report.conflicts).toEqual([
      { metric: "namespaces/http_requests_per_second", rules: ["rules[0]", "rules[1]"] },
      { metric: "pods/http_requests_per_second", rules: ["rules[0]", "rules[1]"] },
    ]);
    expect(report.rules[1]!.warnings).toContain("pods/http_requests_per_second is also yielded by rules[0]");
    expect(report.warningCount).toBe(5);
    expect(formatReport(report)).toMatch(/4 rules, 3 series matched, 5 warnings\n$/);
  });

  it("says when series match but no metric comes out (name.matches leaves none)", () => {
    const r = checkRules(
      config(`
rules:
- seriesQuery: 'http_requests_total'
  resources: {template: "<<.Resource>>"}
  name: {matches: "^nothing_(.*)$"}
  metricsQuery: 'x'
`),
      builtInMapper,
      offlineSeries(parseSeriesFile(SERIES, "s")),
    );
    expect(r.rules[0]!.warnings[0]).toMatch(/^its series match, but none yields a metric/);
  });

  it("is bad input (exit 2) without exactly one series source, or with an invalid config, naming the field", async () => {
    await expect(runRulesCheck({ output: "text" })).rejects.toThrow(
      "give exactly one of --prometheus-url and --series-file",
    );
    const dir = await mkdtemp(join(tmpdir(), "rules-check-"));
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "rules:\n- seriesQuery: up\n  metricsQuery: x\n  name: {matches: '(a'}\n");
    const series = join(dir, "s.txt");
    await writeFile(series, SERIES);
    await expect(runRulesCheck({ output: "text", config: bad, seriesFile: series })).rejects.toThrow(
      /rules\[0\]\.name\.matches/,
    );
    const ok = await runRulesCheck({ output: "json", seriesFile: series });
    expect(ok.report.rules.length).toBeGreaterThan(0); // the default rules
  });
});
