// Kubernetes label selectors, with apimachinery's semantics (pkg/labels): the string syntax
// ("a=b,c!=d,e in (f,g),!h,i"), the metav1.LabelSelector object form, matching and the
// canonical string form. Errors are values whose text follows apimachinery's, so a 400
// from the adapter or a condition message reads as it would from Kubernetes.
import type { LabelSelector } from "./objects.js";

/** selection.Operator, spelled as apimachinery spells it. */
export type SelectorOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/**
 * A parsed selector: the AND of its requirements (sorted by key). `matchesNothing` is
 * apimachinery's labels.Nothing(), what a nil metav1.LabelSelector converts to.
 */
export interface ParsedSelector {
  readonly requirements: readonly Requirement[];
  readonly matchesNothing: boolean;
}

export type SelectorResult = { ok: true; selector: ParsedSelector } | { ok: false; error: string };

const EVERYTHING: ParsedSelector = Object.freeze({ requirements: Object.freeze([]), matchesNothing: false });
const NOTHING: ParsedSelector = Object.freeze({ requirements: Object.freeze([]), matchesNothing: true });

/** Matches every label set; its string form is "". */
export function everything(): ParsedSelector {
  return EVERYTHING;
}
/** Matches no label set; its string form is "" too (as labels.Nothing()). */
export function nothing(): ParsedSelector {
  return NOTHING;
}

/** True when the selector does not restrict anything (labels.Selector.Empty()). */
export function isEmptySelector(selector: ParsedSelector): boolean {
  return !selector.matchesNothing && selector.requirements.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Validation (apimachinery's IsLabelKey / IsValidLabelValue / IsDNS1123Subdomain messages)

const LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_ERR =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${LABEL_KEY_FMT})?`;
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

const labelNameRe = new RegExp(`^${LABEL_KEY_FMT}$`);
const dnsSubdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

const encoder = new TextEncoder();
/** Go's len(): bytes, not UTF-16 units. */
const byteLength = (s: string): number => encoder.encode(s).length;

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join("or ")}regex used for validation is '${fmt}')`;
}
const maxLenError = (n: number): string => `must be no more than ${n} characters`;
const EMPTY_ERROR = "must be non-empty";

function dns1123SubdomainErrors(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 253) errs.push(maxLenError(253));
  if (!dnsSubdomainRe.test(value))
    errs.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, "example.com"));
  return errs;
}

/** The problems with a label key, [] when it is valid. */
export function labelKeyErrors(key: string): string[] {
  const errs: string[] = [];
  const slash = key.indexOf("/");
  let name = key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (name.includes("/")) {
      return [
        `a valid label key ${regexError(LABEL_KEY_ERR, LABEL_KEY_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ];
    }
    if (prefix.length === 0) errs.push(`prefix part ${EMPTY_ERROR}`);
    else errs.push(...dns1123SubdomainErrors(prefix).map((m) => `prefix part ${m}`));
  }
  if (name.length === 0) errs.push(`name part ${EMPTY_ERROR}`);
  else if (byteLength(name) > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!labelNameRe.test(name))
    errs.push(`name part ${regexError(LABEL_KEY_ERR, LABEL_KEY_FMT, "MyName", "my.name", "123-abc")}`);
  return errs;
}

/** The problems with a label value, [] when it is valid ("" is valid). */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(maxLenError(63));
  if (value.length > 0 && !labelNameRe.test(value))
    errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  return errs;
}

/** field.Invalid(...).Error(): `<path>: Invalid value: "<value>": <detail>` */
function invalid(path: string, value: string, detail: string): string {
  return `${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
}

/** utilerrors.Aggregate: one message as is, several deduplicated inside brackets. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] ?? "") : `[${unique.join(", ")}]`;
}

const INT64_RE = /^[+-]?[0-9]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** strconv.ParseInt(s, 10, 64) */
function parseInt64(s: string): bigint | undefined {
  if (!INT64_RE.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/**
 * labels.NewRequirement: validates key, operator arity and values. `path` is the field path
 * errors are reported under ("" as the string parser does, which apimachinery prints as "<nil>").
 */
export function newRequirement(
  key: string,
  operator: SelectorOperator,
  values: readonly string[],
  path = "",
): { ok: true; requirement: Requirement } | { ok: false; error: string } {
  const child = (name: string): string => (path ? `${path}.${name}` : name);
  const errs: string[] = [];
  const keyErrs = labelKeyErrors(key);
  if (keyErrs.length > 0) errs.push(invalid(child("key"), key, keyErrs.join("; ")));
  const valuesPath = child("values");
  switch (operator) {
    case "in":
    case "notin":
      if (values.length === 0)
        errs.push(
          `${valuesPath}: Invalid value: ${goStringSlice(values)}: for 'in', 'notin' operators, values set can't be empty`,
        );
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1)
        errs.push(
          `${valuesPath}: Invalid value: ${goStringSlice(values)}: exact-match compatibility requires one single value`,
        );
      break;
    case "exists":
    case "!":
      if (values.length !== 0)
        errs.push(
          `${valuesPath}: Invalid value: ${goStringSlice(values)}: values set must be empty for exists and does not exist`,
        );
      break;
    case "gt":
    case "lt":
      if (values.length !== 1)
        errs.push(
          `${valuesPath}: Invalid value: ${goStringSlice(values)}: for 'Gt', 'Lt' operators, exactly one value is required`,
        );
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined)
          errs.push(
            invalid(`${valuesPath}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"),
          );
      });
      break;
  }
  values.forEach((v, i) => {
    const valueErrs = labelValueErrors(v);
    if (valueErrs.length > 0) errs.push(invalid(`${valuesPath}[${i}][${key}]`, v, valueErrs.join("; ")));
  });
  if (errs.length > 0) return { ok: false, error: aggregate(errs) };
  return { ok: true, requirement: Object.freeze({ key, operator, values: Object.freeze([...values]) }) };
}

/** How fmt's %#v prints a []string, used where apimachinery reports a whole value list. */
function goStringSlice(values: readonly string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(", ")}}`;
}

// ---------------------------------------------------------------------------------------------
// The string syntax (labels.Parse)

type Token = "error" | "end" | ")" | "," | "!" | "==" | "=" | ">" | "id" | "in" | "<" | "!=" | "notin" | "(";
interface Scanned {
  tok: Token;
  lit: string;
}
const literalTokens: Readonly<Record<string, Token>> = {
  ")": ")",
  ",": ",",
  "!": "!",
  "==": "==",
  "=": "=",
  ">": ">",
  in: "in",
  "<": "<",
  "!=": "!=",
  notin: "notin",
  "(": "(",
};
const tokenFor = (s: string): Token | undefined =>
  Object.hasOwn(literalTokens, s) ? literalTokens[s] : undefined;

const isWhitespace = (ch: string): boolean => ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
const isSpecial = (ch: string): boolean =>
  ch === "=" || ch === "!" || ch === "(" || ch === ")" || ch === "," || ch === ">" || ch === "<";

/** The lexer: a NUL character ends the input, as it does in apimachinery's byte lexer. */
function scan(input: string): Scanned[] {
  let pos = 0;
  const read = (): string => (pos < input.length ? (input[pos++] ?? "\0") : "\0");
  const items: Scanned[] = [];
  for (;;) {
    let ch = read();
    while (isWhitespace(ch)) ch = read();
    if (ch === "\0") {
      items.push({ tok: "end", lit: "" });
      return items;
    }
    pos--;
    if (isSpecial(ch)) {
      // longest run of special symbols that still forms a token ("!=", "==")
      let buffer = "";
      let last: Scanned | undefined;
      for (;;) {
        const c = read();
        if (c === "\0") break;
        if (isSpecial(c)) {
          buffer += c;
          const tok = tokenFor(buffer);
          if (tok) last = { tok, lit: buffer };
          else if (last) {
            pos--;
            break;
          }
        } else {
          pos--;
          break;
        }
      }
      items.push(last ?? { tok: "error", lit: `error expected: keyword found '${buffer}'` });
    } else {
      let buffer = "";
      for (;;) {
        const c = read();
        if (c === "\0") break;
        if (isSpecial(c) || isWhitespace(c)) {
          pos--;
          break;
        }
        buffer += c;
      }
      const tok = tokenFor(buffer);
      items.push({ tok: tok === "in" || tok === "notin" ? tok : "id", lit: buffer });
    }
  }
}

class SelectorSyntaxError extends Error {}

class Parser {
  private position = 0;
  constructor(private readonly items: Scanned[]) {}

  /** In value context the keywords `in`/`notin` are plain identifiers. */
  private look(valuesContext: boolean): Scanned {
    const item = this.items[Math.min(this.position, this.items.length - 1)] ?? { tok: "end", lit: "" };
    return valuesContext && (item.tok === "in" || item.tok === "notin") ? { tok: "id", lit: item.lit } : item;
  }
  private consume(valuesContext: boolean): Scanned {
    const item = this.look(valuesContext);
    this.position++;
    return item;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.look(true);
      if (tok === "id" || tok === "!") {
        requirements.push(this.parseRequirement());
        const next = this.consume(true);
        if (next.tok === "end") return requirements;
        if (next.tok === ",") {
          const after = this.look(true);
          if (after.tok !== "id" && after.tok !== "!")
            throw new SelectorSyntaxError(`found '${after.lit}', expected: identifier after ','`);
          continue;
        }
        throw new SelectorSyntaxError(`found '${next.lit}', expected: ',' or 'end of string'`);
      }
      if (tok === "end") return requirements;
      throw new SelectorSyntaxError(`found '${lit}', expected: !, identifier, or 'end of string'`);
    }
  }

  private parseRequirement(): Requirement {
    try {
      const { key, operator: inferred } = this.parseKeyAndInferOperator();
      if (inferred === "exists" || inferred === "!") return mustRequirement(key, inferred, []);
      const operator = this.parseOperator();
      const values = operator === "in" || operator === "notin" ? this.parseValues() : this.parseExactValue();
      // a set: sorted and without duplicates, as sets.String.List() gives them
      return mustRequirement(key, operator, [...values].sort(compareGoStrings));
    } catch (err) {
      if (err instanceof SelectorSyntaxError)
        throw new SelectorSyntaxError(`unable to parse requirement: ${err.message}`);
      throw err;
    }
  }

  private parseKeyAndInferOperator(): { key: string; operator: SelectorOperator | undefined } {
    let operator: SelectorOperator | undefined;
    let item = this.consume(true);
    if (item.tok === "!") {
      operator = "!";
      item = this.consume(true);
    }
    if (item.tok !== "id") throw new SelectorSyntaxError(`found '${item.lit}', expected: identifier`);
    const keyErrs = labelKeyErrors(item.lit);
    if (keyErrs.length > 0) throw new SelectorSyntaxError(invalid("<nil>", item.lit, keyErrs.join("; ")));
    const next = this.look(true).tok;
    if ((next === "end" || next === ",") && operator !== "!") operator = "exists";
    return { key: item.lit, operator };
  }

  private parseOperator(): SelectorOperator {
    const { tok, lit } = this.consume(false);
    switch (tok) {
      case "in":
        return "in";
      case "=":
        return "=";
      case "==":
        return "==";
      case ">":
        return "gt";
      case "<":
        return "lt";
      case "notin":
        return "notin";
      case "!=":
        return "!=";
      default:
        throw new SelectorSyntaxError(`found '${lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume(true);
    if (open.tok !== "(") throw new SelectorSyntaxError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.look(true);
    if (tok === "id" || tok === ",") {
      const values = this.parseIdentifiersList();
      // upstream reports the literal seen before the list, not the offending one
      if (this.consume(true).tok !== ")") throw new SelectorSyntaxError(`found '${lit}', expected: ')'`);
      return values;
    }
    if (tok === ")") {
      this.consume(true);
      return new Set([""]);
    }
    throw new SelectorSyntaxError(`found '${lit}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume(true);
      if (tok === "id") {
        values.add(lit);
        const next = this.look(true);
        if (next.tok === ",") continue;
        if (next.tok === ")") return values;
        throw new SelectorSyntaxError(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok === ",") {
        // "(,", ",," and ",)" all stand for the empty value
        if (values.size === 0) values.add("");
        const next = this.look(true).tok;
        if (next === ")") {
          values.add("");
          return values;
        }
        if (next === ",") values.add("");
        continue;
      }
      throw new SelectorSyntaxError(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.look(true).tok;
    if (next === "end" || next === ",") return new Set([""]);
    const { tok, lit } = this.consume(true);
    if (tok === "id") return new Set([lit]);
    throw new SelectorSyntaxError(`found '${lit}', expected: identifier`);
  }
}

function mustRequirement(key: string, operator: SelectorOperator, values: string[]): Requirement {
  const r = newRequirement(key, operator, values);
  if (!r.ok) throw new SelectorSyntaxError(r.error);
  return r.requirement;
}

/** Go compares strings bytewise; for UTF-16 this differs only outside the BMP, which labels cannot hold. */
function compareGoStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const byKey = (a: Requirement, b: Requirement): number => compareGoStrings(a.key, b.key);

/** labels.Parse: the string form of a selector ("" selects everything). */
export function parseSelector(input: string): SelectorResult {
  try {
    const requirements = new Parser(scan(input)).parse();
    return {
      ok: true,
      selector: Object.freeze({
        requirements: Object.freeze(requirements.sort(byKey)),
        matchesNothing: false,
      }),
    };
  } catch (err) {
    if (err instanceof SelectorSyntaxError) return { ok: false, error: err.message };
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The object form (metav1.LabelSelectorAsSelector)

/**
 * metav1.LabelSelectorAsSelector: null/undefined selects nothing, an empty selector selects
 * everything; matchLabels become `=` requirements, matchExpressions keep their value order.
 */
export function labelSelectorAsSelector(labelSelector: LabelSelector | null | undefined): SelectorResult {
  if (labelSelector === null || labelSelector === undefined) return { ok: true, selector: NOTHING };
  const matchLabels = Object.entries(labelSelector.matchLabels ?? {});
  const matchExpressions = labelSelector.matchExpressions ?? [];
  if (matchLabels.length + matchExpressions.length === 0) return { ok: true, selector: EVERYTHING };
  const requirements: Requirement[] = [];
  for (const [key, value] of matchLabels) {
    const r = newRequirement(key, "=", [value]);
    if (!r.ok) return r;
    requirements.push(r.requirement);
  }
  for (const expression of matchExpressions) {
    const operator = expressionOperators[expression.operator];
    if (!operator)
      return {
        ok: false,
        error: `${JSON.stringify(expression.operator)} is not a valid label selector operator`,
      };
    const r = newRequirement(expression.key, operator, expression.values ?? []);
    if (!r.ok) return r;
    requirements.push(r.requirement);
  }
  return {
    ok: true,
    selector: Object.freeze({ requirements: Object.freeze(requirements.sort(byKey)), matchesNothing: false }),
  };
}

const expressionOperators: Readonly<Record<string, SelectorOperator>> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
};

/** labels.SelectorFromSet: one `=` requirement per label, without validation. */
export function selectorFromSet(set: Readonly<Record<string, string>>): ParsedSelector {
  const requirements = Object.entries(set).map(([key, value]): Requirement => ({
    key,
    operator: "=",
    values: [value],
  }));
  return Object.freeze({ requirements: Object.freeze(requirements.sort(byKey)), matchesNothing: false });
}

// ---------------------------------------------------------------------------------------------
// Matching and printing

export type Labels = Readonly<Record<string, string>> | null | undefined;

function lookup(labels: Labels, key: string): string | undefined {
  return labels && Object.hasOwn(labels, key) ? labels[key] : undefined;
}

export function requirementMatches(requirement: Requirement, labels: Labels): boolean {
  const value = lookup(labels, requirement.key);
  switch (requirement.operator) {
    case "in":
    case "=":
    case "==":
      return value !== undefined && requirement.values.includes(value);
    case "notin":
    case "!=":
      return value === undefined || !requirement.values.includes(value);
    case "exists":
      return value !== undefined;
    case "!":
      return value === undefined;
    case "gt":
    case "lt": {
      if (value === undefined || requirement.values.length !== 1) return false;
      const have = parseInt64(value);
      const want = parseInt64(requirement.values[0] ?? "");
      if (have === undefined || want === undefined) return false;
      return requirement.operator === "gt" ? have > want : have < want;
    }
  }
}

/** Whether a label set satisfies every requirement of the selector. */
export function selectorMatches(selector: ParsedSelector, labels: Labels): boolean {
  if (selector.matchesNothing) return false;
  return selector.requirements.every((r) => requirementMatches(r, labels));
}

const operatorText: Readonly<Record<SelectorOperator, string>> = {
  "=": "=",
  "==": "==",
  "!=": "!=",
  in: " in ",
  notin: " notin ",
  gt: ">",
  lt: "<",
  exists: "",
  "!": "",
};

/** Requirement.String(): values of set operators are printed sorted. */
export function requirementToString(requirement: Requirement): string {
  const { key, operator, values } = requirement;
  if (operator === "exists") return key;
  if (operator === "!") return `!${key}`;
  const shown = values.length === 1 ? (values[0] ?? "") : [...values].sort(compareGoStrings).join(",");
  return operator === "in" || operator === "notin"
    ? `${key}${operatorText[operator]}(${shown})`
    : `${key}${operatorText[operator]}${shown}`;
}

/** The canonical string form, e.g. "app=web,tier in (back,front)"; "" for everything and nothing. */
export function selectorToString(selector: ParsedSelector): string {
  if (selector.matchesNothing) return "";
  return selector.requirements.map(requirementToString).join(",");
}

// ---------------------------------------------------------------------------------------------
// Go's %+v of a *metav1.LabelSelector (the generated String()), which upstream puts into the
// External metric's name, e.g. `&LabelSelector{MatchLabels:map[string]string{app: web,},MatchExpressions:[]LabelSelectorRequirement{},}`

export function goLabelSelectorString(labelSelector: LabelSelector | null | undefined): string {
  if (labelSelector === null || labelSelector === undefined) return "nil";
  const labels = labelSelector.matchLabels ?? {};
  const keys = Object.keys(labels).sort(compareGoStrings);
  const matchLabels = `map[string]string{${keys.map((k) => `${k}: ${labels[k] ?? ""},`).join("")}}`;
  const expressions = (labelSelector.matchExpressions ?? [])
    .map(
      (e) =>
        `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${(e.values ?? []).join(" ")}],},`,
    )
    .join("");
  return `&LabelSelector{MatchLabels:${matchLabels},MatchExpressions:[]LabelSelectorRequirement{${expressions}},}`;
}
