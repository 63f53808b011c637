import { describe, expect, it } from "vitest";
import { GoTemplate, TemplateError, TemplateStruct } from "../../../../src/adapter/config/gotemplate.js";

const args = new TemplateStruct("naming.queryTemplateArgs", {
  Series: "http_requests_total",
  LabelMatchers: 'namespace="ns",pod=~"a|b"',
  LabelValuesByName: { namespace: "ns", pod: "a|b" },
  GroupBy: "pod,container",
  GroupBySlice: ["pod", "container"],
});
const run = (src: string, data: unknown = args): string => GoTemplate.parse("t", src).execute(data);

describe("Go text/template with << >> delimiters", () => {
  it("substitutes fields", () => {
    expect(run("sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)")).toBe(
      'sum(http_requests_total{namespace="ns",pod=~"a|b"}) by (pod,container)',
    );
  });

  it("ranges over GroupBySlice with index and element variables, as config 16 does", () => {
    expect(run("by (<<range $i, $l := .GroupBySlice>><<if $i>>,<<end>><<$l>><<end>>)")).toBe(
      "by (pod,container)",
    );
  });

  it("supports else, else if, with, variables, pipelines and builtins", () => {
    expect(run('<<if eq .Series "x">>x<<else if .GroupBy>>g<<else>>n<<end>>')).toBe("g");
    expect(run("<<with .LabelValuesByName>><<.pod>><<end>>")).toBe("a|b");
    expect(run('<<$s := .Series>><<$s | printf "%s_sum">>')).toBe("http_requests_total_sum");
    expect(
      run('<<index .LabelValuesByName "namespace">>/<<len .GroupBySlice>>/<<index .GroupBySlice 1>>'),
    ).toBe("ns/2/container");
    expect(run("<<range .GroupBySlice>><<.>>;<<else>>none<<end>>")).toBe("pod;container;");
    expect(run('<<range $v := .GroupBySlice>><<if eq $v "pod">><<continue>><<end>><<$v>><<end>>')).toBe(
      "container",
    );
    expect(run('<<and .Series .GroupBy>>|<<or "" .Series>>|<<not .Series>>')).toBe(
      "pod,container|http_requests_total|false",
    );
  });

  it("trims whitespace around <<- and ->> and drops comments", () => {
    expect(run("a  <<- .GroupBy ->>  b<</* note */>>")).toBe("apod,containerb");
  });

  it("names the unknown field when executed", () => {
    expect(() => run("<<.LabelMatcher>>")).toThrow(
      /can't evaluate field LabelMatcher in type naming.queryTemplateArgs/,
    );
  });

  it("records the fields a template reads from the top level", () => {
    const t = GoTemplate.parse("t", "<<.Series>><<range .GroupBySlice>><<.Foo>><<end>>");
    expect(t.fields.map((f) => [f.chain.join("."), f.onRoot])).toEqual([
      ["Series", true],
      ["GroupBySlice", true],
      ["Foo", false],
    ]);
  });

  it("refuses syntax errors at parse time with line and column", () => {
    expect(() => GoTemplate.parse("t", "x\n<<if .A>>")).toThrow(TemplateError);
    expect(() => GoTemplate.parse("t", "<<$x>>")).toThrow(/undefined variable "\$x"/);
    expect(() => GoTemplate.parse("t", "<<foo .A>>")).toThrow(/function "foo" not defined/);
    expect(() => GoTemplate.parse("t", "<<.A")).toThrow(/unclosed action/);
  });

  it("treats text without actions as plain text", () => {
    const t = GoTemplate.parse("t", "${.Resource}$");
    expect(t.hasActions()).toBe(false);
    expect(t.execute({})).toBe("${.Resource}$");
  });
});
