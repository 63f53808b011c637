import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  everything,
  goLabelSelectorString,
  isEmptySelector,
  labelSelectorAsSelector,
  nothing,
  parseSelector,
  selectorFromSet,
  selectorMatches,
  selectorToString,
  type ParsedSelector,
} from "../../../src/kube/selector.js";

function parsed(text: string): ParsedSelector {
  const r = parseSelector(text);
  if (!r.ok) throw new Error(r.error);
  return r.selector;
}
function parseError(text: string): string {
  const r = parseSelector(text);
  if (r.ok) throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
  return r.error;
}

const KEY_NAME_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_RULE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe("parsing selector strings", () => {
  it("reads =, == and != and prints them back sorted by key", () => {
    const s = parsed("tier!=db, app==web,env=prod");
    expect(s.requirements.map((r) => [r.key, r.operator, r.values])).toEqual([
      ["app", "==", ["web"]],
      ["env", "=", ["prod"]],
      ["tier", "!=", ["db"]],
    ]);
    expect(selectorToString(s)).toBe("app==web,env=prod,tier!=db");
  });
  it("reads set-based requirements, their values sorted and deduplicated", () => {
    expect(selectorToString(parsed("x in (foo,,baz),y,z notin ()"))).toBe("x in (,baz,foo),y,z notin ()");
    expect(parsed("x in (b,a,b)").requirements[0]?.values).toEqual(["a", "b"]);
  });
  it("reads exists and does-not-exist", () => {
    const s = parsed("!canary,app");
    expect(s.requirements.map((r) => [r.key, r.operator])).toEqual([
      ["app", "exists"],
      ["canary", "!"],
    ]);
    expect(selectorToString(s)).toBe("app,!canary");
  });
  it("ignores spaces, tabs and newlines around tokens", () => {
    expect(selectorToString(parsed(" a = b ,\tc != d ,\n e in ( f , g ) "))).toBe("a=b,c!=d,e in (f,g)");
  });
  it("lets 'in' and 'notin' be keys and values", () => {
    expect(selectorToString(parsed("in in (in,notin)"))).toBe("in in (in,notin)");
    expect(selectorToString(parsed("notin=in"))).toBe("notin=in");
  });
  it("takes an empty exact value", () => {
    expect(parsed("x=").requirements[0]?.values).toEqual([""]);
  });
  it("reads the integer comparisons > and <", () => {
    const s = parsed("replicas>3,zone<10");
    expect(selectorToString(s)).toBe("replicas>3,zone<10");
    expect(selectorMatches(s, { replicas: "4", zone: "9" })).toBe(true);
    expect(selectorMatches(s, { replicas: "3", zone: "9" })).toBe(false);
    expect(selectorMatches(s, { replicas: "four", zone: "9" })).toBe(false);
  });
  it("reads an empty string as a selector of everything", () => {
    expect(isEmptySelector(parsed(""))).toBe(true);
    expect(isEmptySelector(parsed("   "))).toBe(true);
  });
});

describe("selector string errors", () => {
  it("name the unexpected token and what was expected", () => {
    expect(parseError("x=a b")).toBe("found 'b', expected: ',' or 'end of string'");
    expect(parseError("cheddar cheese")).toBe(
      "unable to parse requirement: found 'cheese', expected: in, notin, =, ==, !=, gt, lt",
    );
    expect(parseError("x in a")).toBe("unable to parse requirement: found 'a' expected: '('");
    expect(parseError("x in (a b)")).toBe("unable to parse requirement: found 'b', expected: ',' or ')'");
    expect(parseError("=a")).toBe("found '=', expected: !, identifier, or 'end of string'");
    expect(parseError("a,")).toBe("found '', expected: identifier after ','");
    expect(parseError("!x=y")).toBe("found '=', expected: ',' or 'end of string'");
    expect(parseError("x=(")).toBe("unable to parse requirement: found '(', expected: identifier");
  });
  it("name an invalid key and the rule it breaks", () => {
    expect(parseError("_a=b")).toBe(
      `unable to parse requirement: <nil>: Invalid value: "_a": name part ${KEY_NAME_RULE}`,
    );
    expect(parseError("/a")).toBe(
      'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty',
    );
    expect(parseError("a/b/c")).toContain('Invalid value: "a/b/c": a valid label key must consist of');
    expect(parseError("Example.com/a")).toContain(
      "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters",
    );
    expect(parseError(`${"k".repeat(64)}=v`)).toContain("name part must be no more than 63 characters");
  });
  it("name an invalid value under its key", () => {
    expect(parseError("x=a$b")).toBe(
      `unable to parse requirement: values[0][x]: Invalid value: "a$b": ${VALUE_RULE}`,
    );
    expect(parseError(`x=${"v".repeat(64)}`)).toBe(
      `unable to parse requirement: values[0][x]: Invalid value: "${"v".repeat(64)}": must be no more than 63 characters`,
    );
    expect(parseError("x>abc")).toBe(
      `unable to parse requirement: values[0]: Invalid value: "abc": for 'Gt', 'Lt' operators, the value must be an integer`,
    );
  });
});

describe("LabelSelector objects", () => {
  it("turn matchLabels and matchExpressions into requirements", () => {
    const r = labelSelectorAsSelector({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["front", "back"] },
        { key: "env", operator: "NotIn", values: ["dev"] },
        { key: "release", operator: "Exists" },
        { key: "canary", operator: "DoesNotExist" },
      ],
    });
    if (!r.ok) throw new Error(r.error);
    expect(selectorToString(r.selector)).toBe("app=web,!canary,env notin (dev),release,tier in (back,front)");
    expect(selectorMatches(r.selector, { app: "web", tier: "front", release: "1" })).toBe(true);
    expect(selectorMatches(r.selector, { app: "web", tier: "front", release: "1", canary: "y" })).toBe(false);
    expect(selectorMatches(r.selector, { app: "web", tier: "front", release: "1", env: "dev" })).toBe(false);
  });
  it("select nothing when absent and everything when empty", () => {
    const absent = labelSelectorAsSelector(null);
    const empty = labelSelectorAsSelector({});
    expect(absent.ok && absent.selector).toBe(nothing());
    expect(empty.ok && empty.selector).toBe(everything());
    expect(selectorMatches(nothing(), {})).toBe(false);
    expect(selectorMatches(everything(), { any: "thing" })).toBe(true);
  });
  it("report invalid keys, operators and value counts with their field paths", () => {
    expect(labelSelectorAsSelector({ matchLabels: { "bad key": "v" } })).toEqual({
      ok: false,
      error: `key: Invalid value: "bad key": name part ${KEY_NAME_RULE}`,
    });
    expect(labelSelectorAsSelector({ matchExpressions: [{ key: "k", operator: "In", values: [] }] })).toEqual(
      {
        ok: false,
        error: "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
      },
    );
    expect(
      labelSelectorAsSelector({ matchExpressions: [{ key: "k", operator: "Exists", values: ["a"] }] }),
    ).toEqual({
      ok: false,
      error: 'values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist',
    });
  });
  it("print as Go's %+v of a *metav1.LabelSelector, as upstream's external metric names show them", () => {
    expect(goLabelSelectorString(null)).toBe("nil");
    expect(goLabelSelectorString({ matchLabels: { b: "2", a: "1" } })).toBe(
      "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{},}",
    );
    expect(
      goLabelSelectorString({ matchExpressions: [{ key: "k", operator: "In", values: ["x", "y"] }] }),
    ).toBe(
      "&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:k,Operator:In,Values:[x y],},},}",
    );
  });
});

describe("matching", () => {
  it("lets notin and != match a label set without the key, but not in and =", () => {
    expect(selectorMatches(parsed("env notin (dev)"), {})).toBe(true);
    expect(selectorMatches(parsed("env!=dev"), {})).toBe(true);
    expect(selectorMatches(parsed("env in (dev)"), {})).toBe(false);
    expect(selectorMatches(parsed("env=dev"), {})).toBe(false);
    expect(selectorMatches(parsed("env=dev"), null)).toBe(false);
  });
  it("requires every requirement (AND)", () => {
    const s = parsed("a=1,b=2");
    expect(selectorMatches(s, { a: "1", b: "2", c: "3" })).toBe(true);
    expect(selectorMatches(s, { a: "1" })).toBe(false);
  });
  it("does not see inherited object properties as labels", () => {
    expect(selectorMatches(parsed("toString"), {})).toBe(false);
  });
});

describe("round trips", () => {
  const key = fc.stringMatching(/^[a-z]([-a-z0-9.]{0,10}[a-z0-9])?$/);
  const value = fc.stringMatching(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?)?$/);
  it("a set's selector matches that set and prints as a string that parses back to the same selector", () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (set) => {
        const s = selectorFromSet(set);
        expect(selectorMatches(s, set)).toBe(true);
        const again = parseSelector(selectorToString(s));
        expect(again.ok && selectorToString(again.selector)).toBe(selectorToString(s));
      }),
    );
  });
  it("the canonical string of any parsed selector parses to the same canonical string", () => {
    const requirement = fc.oneof(
      fc.tuple(key, fc.constantFrom("=", "==", "!="), value).map(([k, op, v]) => `${k}${op}${v}`),
      fc
        .tuple(key, fc.constantFrom(" in ", " notin "), fc.array(value, { minLength: 1, maxLength: 3 }))
        .map(([k, op, vs]) => `${k}${op}(${vs.join(",")})`),
      key,
      key.map((k) => `!${k}`),
    );
    fc.assert(
      fc.property(fc.array(requirement, { maxLength: 5 }), (parts) => {
        const first = parseSelector(parts.join(","));
        if (!first.ok) throw new Error(first.error);
        const text = selectorToString(first.selector);
        const second = parseSelector(text);
        expect(second.ok && selectorToString(second.selector)).toBe(text);
      }),
    );
  });
});
