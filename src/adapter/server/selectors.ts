// Query-string selectors: validated once with apimachinery's grammar (src/kube/selector.ts),
// passed on in canonical form (so identical requests coalesce downstream), and turned into
// metav1.LabelSelector for the `selector` field of MetricValues.
import { parseSelector, selectorToString, type Requirement } from "../../kube/selector.js";
import type { LabelSelectorJSON } from "./encode.js";

export type SelectorParse = { ok: true; selector: string } | { ok: false; message: string };

// Small memo: HPAs repeat the same few selectors on every sync.
const memo = new Map<string, SelectorParse>();
const MEMO_LIMIT = 1024;

/** `param` names the query parameter in the error message. */
export function canonicalSelector(raw: string | null | undefined, param: string): SelectorParse {
  if (raw === null || raw === undefined || raw === "") return { ok: true, selector: "" };
  const known = memo.get(raw);
  if (known !== undefined) return known.ok ? known : { ok: false, message: `${param}: ${known.message}` };
  const parsed = parseSelector(raw);
  const result: SelectorParse = parsed.ok
    ? { ok: true, selector: selectorToString(parsed.selector) }
    : { ok: false, message: parsed.error };
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(raw, result);
  return result.ok ? result : { ok: false, message: `${param}: ${result.message}` };
}

const EXPRESSION_OPERATORS: Partial<Record<Requirement["operator"], string>> = {
  in: "In",
  notin: "NotIn",
  "!=": "NotIn",
  exists: "Exists",
  "!": "DoesNotExist",
  gt: "Gt",
  lt: "Lt",
};

/** metav1.LabelSelector for a canonical selector string; null for the empty selector. */
const labelSelectorMemo = new Map<string, LabelSelectorJSON | null>();

export function toLabelSelector(selector: string): LabelSelectorJSON | null {
  if (selector === "") return null;
  const known = labelSelectorMemo.get(selector);
  if (known !== undefined) return known;
  const converted = convert(selector);
  if (labelSelectorMemo.size >= MEMO_LIMIT) labelSelectorMemo.clear();
  labelSelectorMemo.set(selector, converted);
  return converted;
}

function convert(selector: string): LabelSelectorJSON | null {
  const parsed = parseSelector(selector);
  if (!parsed.ok) return null;
  const out: LabelSelectorJSON = {};
  for (const r of parsed.selector.requirements) {
    if (r.operator === "=" || r.operator === "==") {
      (out.matchLabels ??= {})[r.key] = r.values[0] ?? "";
      continue;
    }
    const expression: { key: string; operator: string; values?: string[] } = {
      key: r.key,
      operator: EXPRESSION_OPERATORS[r.operator] ?? r.operator,
    };
    if (r.values.length > 0) expression.values = [...r.values];
    (out.matchExpressions ??= []).push(expression);
  }
  return out;
}
