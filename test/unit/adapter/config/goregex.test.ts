// Expected values were checked against Go's regexp (FindStringSubmatch, ExpandString, Compile).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type GoRegex, compileGoRegex, expandGo } from "../../../../src/adapter/config/goregex.js";

function re(pattern: string): GoRegex {
  const r = compileGoRegex(pattern);
  if (!r.ok) throw new Error(r.message);
  return r.regex;
}
const refusal = (pattern: string): string | undefined => {
  const r = compileGoRegex(pattern);
  return r.ok ? undefined : r.message;
};
const sub = (pattern: string, s: string) => re(pattern).exec(s)?.submatches;
const expand = (pattern: string, s: string, template: string): string => {
  const m = re(pattern).exec(s);
  if (!m) throw new Error("no match");
  return expandGo(template, m);
};

describe("Go regexps", () => {
  it("knows Unicode classes and negated POSIX classes", () => {
    expect(sub("^(?P<g>\\pL+)_(?P<r>\\p{Greek}+)$", "héllo_αβγ")).toEqual(["héllo_αβγ", "héllo", "αβγ"]);
    expect(sub("[[:^alpha:]]+", "ab12cd")).toEqual(["12"]);
    expect(re("^\\pL+$").test("http1")).toBe(false);
  });

  it("takes flag groups anywhere in the pattern, scoped as Go scopes them", () => {
    expect(re("x(?i)abc").test("xABC")).toBe(true);
    expect(re("x(?i)abc").test("XABC")).toBe(false);
    expect(re("^x(?i:ab)c$").test("xABc")).toBe(true);
    expect(re("^x(?i:ab)c$").test("xABC")).toBe(false);
    expect(re("^[[:^alpha:]]+(?i)ab$").test("12AB")).toBe(true);
  });

  it("names groups with (?P<name>) and (?<name>) and counts them", () => {
    const r = re("^(?P<group>.+?)_(?<resource>.+?)\\z");
    expect(r.groups).toBe(2);
    expect(r.subexpNames).toEqual(["", "group", "resource"]);
    expect(r.exec("apps_deployment")?.named("resource")).toBe("deployment");
  });

  it("reports a group inside a repeat by its last iteration, and an unmatched one as absent", () => {
    expect(sub("^([a-z]+_?)+_seconds_total$", "http_request_duration_seconds_total")).toEqual([
      "http_request_duration_seconds_total",
      "duration",
    ]);
    expect(sub("(a|b)*", "abab")).toEqual(["abab", "b"]);
    expect(sub("(?:(a)|b)*", "ab")).toEqual(["ab", "a"]); // kept from an earlier iteration
    expect(sub("(a)|(b)", "b")).toEqual(["b", undefined, "b"]);
    expect(expand("(a)|(b)", "b", "[$1][$2]")).toBe("[][b]");
  });

  it("matches $ only at the very end and . not across newlines, as Go does", () => {
    expect(re("a$").test("a\n")).toBe(false);
    expect(re(".").test("\n")).toBe(false);
    expect(re("(?s).").test("\n")).toBe(true);
    expect(sub("^.$", "😀")).toEqual(["😀"]);
  });

  it.each([
    ["a{1001}", "invalid repeat count: `{1001}`"],
    ["((((a{100}){100}){100}){100})", "invalid repeat count: `{100}`"],
    ["\\Z", "invalid escape sequence: `\\Z`"],
    ["\\C", "invalid escape sequence: `\\C`"],
    ["a(?=b)", "invalid or unsupported Perl syntax: `(?=`"],
    ["a(?!b)", "invalid or unsupported Perl syntax: `(?!`"],
    ["(?<=a)b", "invalid named capture: `(?<=a)b`"],
    ["(a)\\1", "invalid escape sequence: `\\1`"],
    ["^(.*_total", "missing closing ): `^(.*_total`"],
    ["[[:foo:]]", "invalid character class range: `[:foo:]`"],
  ])("refuses %s with Go's words", (pattern, message) => {
    expect(refusal(pattern)).toBe(message);
  });

  it("accepts a group name used twice, as Go does, and expands it to the first that matched", () => {
    expect(re("(?P<n>a)(?P<n>b)").subexpNames).toEqual(["", "n", "n"]);
    expect(expand("(?P<n>a)(?P<n>b)", "ab", "$n")).toBe("a");
    expect(expand("(?P<n>a)|(?P<n>b)", "b", "$n|${n}")).toBe("b|b");
    // Look-alikes inside a class or \Q…\E are not groups.
    expect(expand("[(?P<n>](?P<n>x)(?P<n>y)", "(xy", "$n")).toBe("x");
    expect(expand("\\Q(?P<n>\\E(?P<n>x)(?P<n>y)", "(?P<n>xy", "$n")).toBe("x");
    // The refusal Go gives for the rest of the pattern, in the pattern's own words.
    expect(refusal("(?P<n>a)(?P<n>b")).toBe("missing closing ): `(?P<n>a)(?P<n>b`");
  });
});

describe("Go's Regexp.Expand", () => {
  const m = re("^(.*)_(?P<x>total)$").exec("http_requests_total");
  if (!m) throw new Error("no match");
  it.each([
    ["${1}_per_second", "http_requests_per_second"],
    ["$1_per_second", ""], // one name: "1_per_second"
    ["$1x", ""],
    ["${1x}", ""],
    ["$0", "http_requests_total"],
    ["$x", "total"],
    ["${x}", "total"],
    ["$x_y", ""],
    ["cost$$", "cost$"],
    ["a$$$1", "a$http_requests"],
    ["$9", ""],
    ["$01", ""], // a leading zero makes it a name
    ["${01}", ""],
    ["$é", ""], // Unicode letters belong to names
    ["$1é", ""],
    ["$", "$"],
    ["${", "${"],
    ["${1", "${1"],
    ["${}", "${}"],
    ["${ 1}", "${ 1}"],
    ["$-", "$-"],
  ])("expands %s to %s", (template, want) => {
    expect(expandGo(template, m)).toBe(want);
  });
});

/**
 * re2js reads its subject only through charCodeAt (each engine step over the input: DFA, NFA,
 * bit-state backtracker and one-pass alike) and native indexOf (literal prefixes and prefilters).
 * A String subclass passes its string check, so counting those reads counts the matching work
 * without a clock. indexOf is charged for every code unit it may have scanned.
 */
class CountingString extends String {
  reads = 0;
  override charCodeAt(index: number): number {
    this.reads++;
    return super.charCodeAt(index);
  }
  override codePointAt(index: number): number | undefined {
    this.reads++;
    return super.codePointAt(index);
  }
  override indexOf(search: string, from = 0): number {
    const at = super.indexOf(search, from);
    this.reads += (at < 0 ? this.length : at + search.length) - from + 1;
    return at;
  }
}

function reads(r: GoRegex, name: string): number {
  const a = new CountingString(name);
  const b = new CountingString(name);
  // The regex API takes strings; a String object is the counting stand-in re2js accepts.
  r.test(a as unknown as string);
  r.exec(b as unknown as string);
  return a.reads + b.reads;
}

const ADVERSARIAL = "^([a-z]+_?)+_seconds_total$";
const adversarialName = (n: number) => `http_request_duration_${"a".repeat(n)}1_seconds_total`;

describe("matching time", () => {
  it("grows linearly on the name that made backtracking take minutes", () => {
    const r = re(ADVERSARIAL);
    const small = reads(r, adversarialName(20));
    const large = reads(r, adversarialName(2000));
    expect(r.test(adversarialName(28))).toBe(false);
    // 2020 more characters cost at most a constant per character (backtracking doubled per "a").
    expect(large).toBeLessThan(small + 2020 * 4 * ADVERSARIAL.length);
    expect(reads(re(".*_total$"), "a".repeat(100_000))).toBeLessThan(2 * 4 * 100_000);
    // Here no literal search can skip ahead: the engine has to step through every character.
    expect(reads(re(".*_total$"), "a_total".repeat(15_000) + "x")).toBeLessThan(2 * 4 * 105_001);
  });

  it("is bounded by pattern size times name length for any pattern and name", () => {
    const atom = fc.constantFrom("a", "_", "[a-z]", "[^_]", ".", "\\w", "\\pL", "(?i)a", "\\b", "^", "$");
    const pattern: fc.Arbitrary<string> = fc.letrec<{ p: string }>((tie) => ({
      p: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        atom,
        fc.tuple(tie("p"), tie("p")).map(([x, y]) => x + y),
        fc.tuple(tie("p"), tie("p")).map(([x, y]) => `(?:${x}|${y})`),
        fc.tuple(tie("p"), fc.constantFrom("*", "+", "?", "*?", "+?")).map(([x, q]) => `(${x})${q}`),
      ),
    })).p;
    const name = fc.string({ unit: fc.constantFrom("a", "b", "_", "1", "A"), maxLength: 300 });
    fc.assert(
      fc.property(pattern, name, (p, s) => {
        const r = compileGoRegex(p);
        if (!r.ok) return true;
        // RE2 visits each (instruction, position) pair at most a constant number of times; the
        // program has at most a few instructions per pattern character.
        expect(reads(r.regex, s)).toBeLessThanOrEqual(16 * (p.length + 1) * (s.length + 1));
      }),
      { numRuns: 300 },
    );
  });
});
