import { describe, expect, it } from "vitest";
import { checkPromQL } from "../../../../src/adapter/config/promql.js";
import { parseSelector } from "../../../../src/kube/selector.js";
import { GoTemplate } from "../../../../src/adapter/config/gotemplate.js";
import {
  matchersForRequirements,
  quoteRegex,
  quoteString,
  renderMatchers,
} from "../../../../src/adapter/rules/promql.js";
import { buildExternalQuery, buildObjectQuery } from "../../../../src/adapter/rules/query.js";
import { ResourceConverter } from "../../../../src/adapter/rules/resources.js";
import { fakeMapper } from "./fake-kube.js";
import { parser } from "@prometheus-io/lezer-promql";

const HOSTILE = [
  '"} or vector(1) #',
  "a\\",
  'x"y',
  "line\nbreak",
  "a.b*c+(d)|e[f]{g}^h$",
  '\\"} or vector(1) or {a="',
  "tab\there",
  "\u0007bell",
];

/** The string literals a query contains, decoded the way PromQL decodes them. */
function stringLiterals(query: string): string[] {
  const out: string[] = [];
  parser.parse(query).iterate({
    enter: (n) => {
      if (n.type.name === "StringLiteral")
        out.push(JSON.parse(query.slice(n.from, n.to).replace(/\\u([0-9a-f]{4})/g, "\\u$1")) as string);
    },
  });
  return out;
}

const template = GoTemplate.parse("t", "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)");
const resources = new ResourceConverter(
  { overrides: { namespace: { group: "", resource: "namespace" }, pod: { group: "", resource: "pod" } } },
  fakeMapper,
);

describe("PromQL escaping of Kubernetes values", () => {
  it.each(HOSTILE)("keeps %j a single string value", (value) => {
    const q = `x{a=${quoteString(value)}}`;
    expect(checkPromQL(q).ok).toBe(true);
    expect(stringLiterals(q)).toEqual([value]);
  });

  it("regex-quotes names in an alternation, then string-escapes them", () => {
    expect(quoteRegex("a.b*c+(d)|e[f]{g}^h$\\")).toBe("a\\.b\\*c\\+\\(d\\)\\|e\\[f\\]\\{g\\}\\^h\\$\\\\");
    const r = buildObjectQuery(template, resources, {
      series: "http_requests_total",
      groupResource: { group: "", resource: "pods" },
      namespace: "ns",
      names: ["web.1", 'x"} or vector(1) #'],
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.query).toBe(
      'sum(rate(http_requests_total{namespace="ns",pod=~"web\\\\.1|x\\"\\\\} or vector\\\\(1\\\\) #"}[2m])) by (pod)',
    );
    expect(checkPromQL(r.query).ok).toBe(true);
    const literals = stringLiterals(r.query);
    expect(literals).toEqual(["ns", 'web\\.1|x"\\} or vector\\(1\\) #']);
    // The decoded regex matches exactly the two names and nothing else.
    const re = new RegExp(`^(?:${literals[1]})$`);
    expect(re.test("web.1")).toBe(true);
    expect(re.test("webX1")).toBe(false);
    expect(re.test('x"} or vector(1) #')).toBe(true);
  });

  it.each(HOSTILE)("a hostile namespace %j stays one matcher value", (ns) => {
    const r = buildObjectQuery(template, resources, {
      series: "s",
      groupResource: { group: "", resource: "pods" },
      namespace: ns,
      names: ["p"],
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(checkPromQL(r.query).ok).toBe(true);
    expect(stringLiterals(r.query)).toEqual([ns, "p"]);
  });

  it("turns selector requirements into matchers with selector semantics", () => {
    const sel = parseSelector("env in (prod,stage),tier!=db,team,!legacy,zone=a.b");
    if (!sel.ok) throw new Error(sel.error);
    const m = matchersForRequirements(sel.selector.requirements);
    if (!m.ok) throw new Error(m.error.message);
    expect(renderMatchers(m.matchers)).toBe('env=~"prod|stage",legacy="",team!="",tier!="db",zone="a.b"');
  });

  it("refuses what PromQL cannot express", () => {
    const gt = parseSelector("replicas>3");
    if (!gt.ok) throw new Error(gt.error);
    expect(matchersForRequirements(gt.selector.requirements)).toMatchObject({
      ok: false,
      error: { kind: "BadRequest" },
    });
  });

  it("escapes hostile values that reach external queries through a selector", () => {
    const r = buildExternalQuery(
      GoTemplate.parse("t", "sum(<<.Series>>{<<.LabelMatchers>>}) by (name)"),
      resources,
      {
        series: "queue_depth",
        namespace: "default",
        metricSelector: [{ key: "queue", operator: "in", values: ['a"} or vector(1) #', "b|.*"] }],
      },
    );
    if (!r.ok) throw new Error(r.error.message);
    expect(checkPromQL(r.query).ok).toBe(true);
    expect(stringLiterals(r.query)).toEqual(['a"\\} or vector\\(1\\) #|b\\|\\.\\*', "default"]);
  });

  it("uses = for one name and the resource label as the group-by", () => {
    const r = buildObjectQuery(template, resources, {
      series: "s",
      groupResource: { group: "", resource: "pods" },
      namespace: "ns",
      names: ["web-0"],
    });
    expect(r).toEqual({
      ok: true,
      query: 'sum(rate(s{namespace="ns",pod="web-0"}[2m])) by (pod)',
      resourceLabel: "pod",
    });
  });
});

describe("names outside the legacy character set (Prometheus 3's UTF-8 names)", () => {
  it("quotes a dotted selector key and leaves legacy keys bare", () => {
    const sel = parseSelector("app.kubernetes.io/name=web,tier=db");
    if (!sel.ok) throw new Error(sel.error);
    const m = matchersForRequirements(sel.selector.requirements);
    if (!m.ok) throw new Error(m.error.message);
    expect(renderMatchers(m.matchers)).toBe('"app.kubernetes.io/name"="web",tier="db"');
  });

  it("moves a dotted series name into the braces after it, as the first, quoted element", () => {
    const r = buildObjectQuery(template, resources, {
      series: "my.metric",
      groupResource: { group: "", resource: "pods" },
      namespace: "ns",
      names: ["web-0"],
      metricSelector: [{ key: "k8s.pod", operator: "=", values: ["x"] }],
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.query).toBe('sum(rate({"my.metric","k8s.pod"="x",namespace="ns",pod="web-0"}[2m])) by (pod)');
    expect(checkPromQL(r.query).ok).toBe(true);
  });

  it("gives a dotted series name braces of its own when the template has none or empty ones", () => {
    for (const [text, want] of [
      ["sum(<<.Series>>)", 'sum({"my.metric"})'],
      ["sum(<<.Series>>{<<.LabelMatchers>>})", 'sum({"my.metric"})'],
      ["sum(<<.Series>>{ <<.LabelMatchers>>})", 'sum({"my.metric"})'],
    ] as const) {
      const r = buildExternalQuery(GoTemplate.parse("t", text), resources, {
        series: "my.metric",
        metricSelector: [],
      });
      expect(r).toEqual({ ok: true, query: want });
      if (r.ok) expect(checkPromQL(r.query).ok).toBe(true);
    }
  });

  it("escapes a hostile series name like any other string", () => {
    const series = 'a"} or vector(1) #';
    const r = buildExternalQuery(GoTemplate.parse("t", "sum(<<.Series>>{<<.LabelMatchers>>})"), resources, {
      series,
      namespace: "ns",
      metricSelector: [],
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(checkPromQL(r.query).ok).toBe(true);
    expect(stringLiterals(r.query)).toEqual([series, "ns"]);
  });

  it("quotes a dotted group-by label and keeps legacy metric names (with colons) bare", () => {
    const r = buildObjectQuery(template, resources, {
      series: "job:requests:rate1m",
      groupResource: { group: "", resource: "pods" },
      names: ["p"],
      extraGroupBy: ["k8s.container.name"],
    });
    expect(r).toEqual({
      ok: true,
      query: 'sum(rate(job:requests:rate1m{pod="p"}[2m])) by (pod,"k8s.container.name")',
      resourceLabel: "pod",
    });
  });
});
