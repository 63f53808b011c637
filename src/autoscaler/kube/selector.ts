// Label selectors in both forms the autoscaler meets: the string form of a scale
// subresource's status.selector (labels.Parse grammar) and metav1.LabelSelector (metric
// selectors), which the metrics APIs take in string form.
import type { LabelSelector } from "../../kube/objects.js";

export type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!" }
  | { key: string; op: ">" | "<"; value: number };

export type Labels = Readonly<Record<string, string>> | null | undefined;

export class SelectorError extends Error {
  override readonly name = "SelectorError";
}

/** Parse a selector string ("app=web,tier in (a,b),!canary"); "" selects everything. */
export function parseSelector(text: string): Requirement[] {
  const tokens = tokenize(text);
  const reqs: Requirement[] = [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const fail = (why: string) => new SelectorError(`invalid label selector "${text}": ${why}`);
  while (i < tokens.length) {
    let t = next();
    if (t === "!") {
      const key = next();
      if (key === undefined || !isWord(key)) throw fail("expected a key after !");
      reqs.push({ key, op: "!" });
    } else if (t !== undefined && isWord(t)) {
      const key = t;
      const op = peek();
      if (op === undefined || op === ",") {
        reqs.push({ key, op: "exists" });
      } else if (op === "=" || op === "==" || op === "!=") {
        next();
        const v = peek();
        const value = v !== undefined && isWord(v) ? (next() ?? "") : "";
        reqs.push({ key, op: op === "!=" ? "!=" : "=", value });
      } else if (op === "in" || op === "notin") {
        next();
        if (next() !== "(") throw fail(`expected ( after ${op}`);
        const values: string[] = [];
        for (;;) {
          t = next();
          if (t === ")") break;
          if (t === ",") continue;
          if (t === undefined || !isWord(t)) throw fail("unterminated value list");
          values.push(t);
        }
        reqs.push({ key, op, values });
      } else if (op === ">" || op === "<") {
        next();
        const v = next();
        const n = v === undefined ? Number.NaN : Number(v);
        if (!Number.isInteger(n)) throw fail(`expected an integer after ${op}`);
        reqs.push({ key, op, value: n });
      } else {
        throw fail(`unexpected "${op}" after key ${key}`);
      }
    } else {
      throw fail(`unexpected "${t ?? ""}"`);
    }
    const sep = next();
    if (sep !== undefined && sep !== ",") throw fail(`expected , but found "${sep}"`);
  }
  return reqs;
}

function isWord(t: string): boolean {
  return /^[A-Za-z0-9._/-]+$/.test(t) && t !== "in" && t !== "notin";
}

function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(==|!=|=|!|\(|\)|,|>|<|[A-Za-z0-9._/-]+)/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) throw new SelectorError(`invalid label selector "${text}": unexpected "${text.slice(pos).trim()}"`);
    out.push(m[1] ?? "");
    pos = re.lastIndex;
  }
  return out;
}

export function matches(reqs: readonly Requirement[], labels: Labels): boolean {
  for (const r of reqs) {
    const has = labels != null && Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels[r.key] : undefined;
    switch (r.op) {
      case "=":
        if (v !== r.value) return false;
        break;
      case "!=":
        if (v === r.value) return false;
        break;
      case "in":
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case "notin":
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
      case ">":
      case "<": {
        const n = v === undefined ? Number.NaN : Number(v);
        if (!Number.isInteger(n) || (r.op === ">" ? !(n > r.value) : !(n < r.value))) return false;
        break;
      }
    }
  }
  return true;
}

/**
 * metav1.LabelSelector in string form, requirements sorted by key as apimachinery prints them
 * (matchLabels as `k=v`, In/NotIn with sorted values, Exists as `k`, DoesNotExist as `!k`).
 * A missing or empty selector is "".
 */
export function labelSelectorToString(sel: LabelSelector | null | undefined): string {
  if (sel == null) return "";
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push({ key: k, text: `${k}=${v}` });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort();
    switch (e.operator) {
      case "In":
        parts.push({ key: e.key, text: `${e.key} in (${values.join(",")})` });
        break;
      case "NotIn":
        parts.push({ key: e.key, text: `${e.key} notin (${values.join(",")})` });
        break;
      case "Exists":
        parts.push({ key: e.key, text: e.key });
        break;
      case "DoesNotExist":
        parts.push({ key: e.key, text: `!${e.key}` });
        break;
    }
  }
  parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return parts.map((p) => p.text).join(",");
}
