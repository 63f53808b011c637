import { parser } from "@prometheus-io/lezer-promql";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GoTemplate, TemplateError } from "../../../../src/adapter/config/gotemplate.js";
import { quoteRegex, quoteString } from "../../../../src/adapter/rules/promql.js";

/** Decodes the one string literal of `x{a="..."}` (PromQL uses Go's escapes; ours are JSON's subset). */
function onlyLiteral(query: string): { literals: string[]; error: boolean } {
  const literals: string[] = [];
  let error = false;
  parser.parse(query).iterate({
    enter: (n) => {
      if (n.type.isError) error = true;
      if (n.type.name === "StringLiteral") literals.push(JSON.parse(query.slice(n.from, n.to)) as string);
    },
  });
  return { literals, error };
}

// Room for a loaded machine: hundreds of parses per property, nothing here is timed.
describe("escaping properties", { timeout: 60_000 }, () => {
  it("any value becomes exactly one PromQL string literal holding that value", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (v) => {
        expect(onlyLiteral(`x{a=${quoteString(v)}}`)).toEqual({ literals: [v], error: false });
      }),
      { numRuns: 200 },
    );
  });

  it("a regex-quoted value matches itself and nothing else of its length", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (v, other) => {
        const re = new RegExp(`^(?:${quoteRegex(v)})$`);
        expect(re.test(v)).toBe(true);
        if (other !== v) expect(re.test(other)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("the template parser refuses bad input with a TemplateError, never anything else", () => {
    const pieces = fc.constantFrom(
      "<<",
      ">>",
      "<<-",
      " ->>",
      ".Series",
      "$x",
      "$",
      " := ",
      "if",
      "range",
      "end",
      "else",
      "(",
      ")",
      "|",
      '"',
      "`",
      " ",
      "printf",
      "1",
      ".",
      ",",
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 16 }), (parts) => {
        const src = parts.join("");
        try {
          GoTemplate.parse("t", src).execute({ Series: "s" });
        } catch (e) {
          expect(e).toBeInstanceOf(TemplateError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
