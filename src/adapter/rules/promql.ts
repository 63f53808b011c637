// Label matchers built from Kubernetes values (namespaces, object names, selector values). Every
// value is escaped for a PromQL double-quoted string, and values inside a regex alternation are
// regex-quoted first, so no value can close the string, add a matcher or change the query.
import type { Requirement } from "../../kube/selector.js";
import type { ProviderError } from "../provider.js";

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A label name in the legacy character set, which every Prometheus version takes bare. */
export function isLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/** A metric name in the legacy character set, which every Prometheus version takes bare. */
export function isMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/**
 * A label name as PromQL takes it: bare when legacy (so Prometheus 2 still parses the query),
 * else quoted, as Prometheus 3 accepts any UTF-8 name (`"k8s.pod"="x"`, `by ("k8s.pod")`).
 */
export function renderLabelName(name: string): string {
  return isLabelName(name) ? name : quoteString(name);
}

/** The body of a PromQL double-quoted string literal holding exactly `value`. */
export function quoteString(value: string): string {
  let out = '"';
  for (const ch of value) {
    switch (ch) {
      case "\\":
        out += "\\\\";
        break;
      case '"':
        out += '\\"';
        break;
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\t":
        out += "\\t";
        break;
      default: {
        const code = ch.codePointAt(0) ?? 0;
        // Other control characters as \u escapes: PromQL strings follow Go's escapes.
        out += code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, "0")}` : ch;
      }
    }
  }
  return out + '"';
}

/** RE2's QuoteMeta: `value` as a regex matching exactly itself. */
export function quoteRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  /** For =~ / !~ this is already a regex (callers quote literal parts). */
  value: string;
}

export function renderMatcher(m: LabelMatcher): string {
  return `${renderLabelName(m.name)}${m.op}${quoteString(m.value)}`;
}

export function renderMatchers(ms: readonly LabelMatcher[]): string {
  return ms.map(renderMatcher).join(",");
}

/** label="v" for one value, label=~"v1|v2" (each regex-quoted) for several. */
export function matcherForValues(name: string, values: readonly string[], negate = false): LabelMatcher {
  if (values.length === 1) return { name, op: negate ? "!=" : "=", value: values[0] ?? "" };
  return { name, op: negate ? "!~" : "=~", value: values.map(quoteRegex).join("|") };
}

export type MatchersResult =
  | { ok: true; matchers: LabelMatcher[]; valuesByName: Record<string, string> }
  | { ok: false; error: ProviderError };

/**
 * A Kubernetes label selector's requirements as PromQL matchers. Selector semantics are kept
 * exactly: `in` matches the listed values literally (regex-quoted), `exists` is label!="",
 * `!key` is label="". `gt`/`lt` have no PromQL matcher and are refused.
 */
export function matchersForRequirements(requirements: readonly Requirement[]): MatchersResult {
  const matchers: LabelMatcher[] = [];
  const valuesByName: Record<string, string> = {};
  for (const r of requirements) {
    // Any other key is quoted (Prometheus 3's UTF-8 names); Prometheus 2 refuses such a query.
    if (r.key === "") {
      return {
        ok: false,
        error: { kind: "BadRequest", message: "metric label selector has an empty key" },
      };
    }
    switch (r.operator) {
      case "=":
      case "==":
      case "in":
        if (r.values.length === 0)
          return {
            ok: false,
            error: { kind: "BadRequest", message: `selector requirement on ${r.key} has no values` },
          };
        matchers.push(matcherForValues(r.key, r.values));
        break;
      case "!=":
      case "notin":
        if (r.values.length === 0)
          return {
            ok: false,
            error: { kind: "BadRequest", message: `selector requirement on ${r.key} has no values` },
          };
        matchers.push(matcherForValues(r.key, r.values, true));
        break;
      case "exists":
        matchers.push({ name: r.key, op: "!=", value: "" });
        break;
      case "!":
        matchers.push({ name: r.key, op: "=", value: "" });
        break;
      case "gt":
      case "lt":
        return {
          ok: false,
          error: {
            kind: "BadRequest",
            message: `selector operator ${r.operator} (on ${r.key}) cannot be expressed as a Prometheus label matcher`,
          },
        };
    }
    valuesByName[r.key] = r.values.join("|");
  }
  return { ok: true, matchers, valuesByName };
}
