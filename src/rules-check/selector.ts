// Series selectors as prometheus-adapter's `seriesQuery` and a series file write them, parsed
// with Prometheus' own grammar (lezer-promql) and evaluated offline with Prometheus' matcher
// semantics: regexes are RE2 and fully anchored, a missing label is the empty string.
import { parser } from "@prometheus-io/lezer-promql";
import { compileGoRegex } from "../adapter/config/goregex.js";
import type { SeriesLabels } from "../adapter/prometheus/schema.js";

type SyntaxNode = NonNullable<ReturnType<typeof parser.parse>["topNode"]["firstChild"]>;

export type MatchOp = "=" | "!=" | "=~" | "!~";
export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** Unquotes a PromQL string literal ("…", '…' or `…`). */
export function unquote(literal: string): string {
  const q = literal[0];
  const body = literal.slice(1, -1);
  if (q === "`") return body;
  return body.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{3}|.)/g, (_, e: string) => {
    switch (e[0]) {
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "r":
        return "\r";
      case "a":
        return "\x07";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "v":
        return "\v";
      case "u":
      case "x":
        return String.fromCharCode(parseInt(e.slice(1), 16));
      default:
        return /^[0-7]{3}$/.test(e) ? String.fromCharCode(parseInt(e, 8)) : e;
    }
  });
}

const OPS: Record<string, MatchOp> = { EqlSingle: "=", Neq: "!=", EqlRegex: "=~", NeqRegex: "!~" };

/** Parses one vector selector (`name{a="b",c=~"d"}`, `{__name__=~"x"}`, `{"my.metric"}`). */
export function parseSelector(text: string): Parsed<Matcher[]> {
  const tree = parser.parse(text);
  let error: number | undefined;
  tree.iterate({
    enter: (n) => (error === undefined && n.type.isError ? ((error = n.from), false) : undefined),
  });
  if (error !== undefined)
    return { ok: false, message: `not a series selector (syntax error at ${error + 1})` };
  const selector = tree.topNode.firstChild;
  if (selector?.type.name !== "VectorSelector")
    return { ok: false, message: "not a series selector (a metric name and/or {label matchers})" };
  const src = (n: SyntaxNode): string => text.slice(n.from, n.to);
  const matchers: Matcher[] = [];
  for (let n = selector.firstChild; n !== null; n = n.nextSibling) {
    if (n.type.name === "Identifier") matchers.push({ name: "__name__", op: "=", value: src(n) });
    if (n.type.name !== "LabelMatchers") continue;
    for (let m = n.firstChild; m !== null; m = m.nextSibling) {
      if (m.type.name === "QuotedLabelName") {
        // {"my.metric"}: a quoted name alone is the metric name (Prometheus 3 UTF-8 names).
        const lit = m.getChild("StringLiteral");
        if (lit) matchers.push({ name: "__name__", op: "=", value: unquote(src(lit)) });
        continue;
      }
      if (m.type.name !== "UnquotedLabelMatcher" && m.type.name !== "QuotedLabelMatcher") continue;
      const nameNode = m.getChild("LabelName") ?? m.getChild("QuotedLabelName")?.getChild("StringLiteral");
      const opNode = m.getChild("MatchOp")?.firstChild;
      const valueNode = m.getChildren("StringLiteral").at(-1);
      if (!nameNode || !opNode || !valueNode) return { ok: false, message: `cannot read matcher ${src(m)}` };
      const op = OPS[opNode.type.name];
      if (op === undefined) return { ok: false, message: `unknown match operator in ${src(m)}` };
      const name = nameNode.type.name === "StringLiteral" ? unquote(src(nameNode)) : src(nameNode);
      matchers.push({ name, op, value: unquote(src(valueNode)) });
    }
  }
  return { ok: true, value: matchers };
}

/** One line of a series file: a series written as a selector with `=` matchers only. */
export function parseSeriesLine(line: string): Parsed<SeriesLabels> {
  const parsed = parseSelector(line.trim());
  if (!parsed.ok) return parsed;
  const labels: SeriesLabels = {};
  for (const m of parsed.value) {
    if (m.op !== "=") return { ok: false, message: `a series has label values, not ${m.op} matchers` };
    labels[m.name] = m.value;
  }
  if (labels.__name__ === undefined) return { ok: false, message: "a series needs a metric name" };
  return { ok: true, value: labels };
}

export type SeriesPredicate = (labels: SeriesLabels) => boolean;

/** A predicate answering as Prometheus' series API would for `matchers`. */
export function compileMatchers(matchers: readonly Matcher[]): Parsed<SeriesPredicate> {
  const tests: ((v: string) => boolean)[] = [];
  for (const m of matchers) {
    if (m.op === "=" || m.op === "!=") {
      const want = m.op === "=";
      tests.push((v) => (v === m.value) === want);
      continue;
    }
    const re = compileGoRegex(`^(?:${m.value})$`);
    if (!re.ok) return { ok: false, message: `${m.name}${m.op}${JSON.stringify(m.value)}: ${re.message}` };
    const want = m.op === "=~";
    tests.push((v) => re.regex.test(v) === want);
  }
  return {
    ok: true,
    value: (labels) => matchers.every((m, i) => (tests[i] as (v: string) => boolean)(labels[m.name] ?? "")),
  };
}
