import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Quantity, quantitySchema, type QuantityFormat } from "../../../src/kube/quantity.js";

const q = (s: string): Quantity => Quantity.mustParse(s);
const MAX_INT64 = (1n << 63n) - 1n;

describe("Quantity.parse", () => {
  it.each([
    ["1", 1000n],
    ["1500m", 1500n],
    ["1k", 1_000_000n],
    ["1Ki", 1_024_000n],
    ["1.5Gi", 1_610_612_736_000n],
    ["2e3", 2_000_000n],
    ["1.3E+6", 1_300_000_000n],
    ["-0.005", -5n],
    [".5", 500n],
    ["1.", 1000n],
  ])("reads %s as %d milli-units", (text, milli) => {
    expect(q(text).milliValue()).toBe(milli);
  });

  it("keeps values past the int64 range exactly", () => {
    expect(q("99999999999999999999999").toString()).toBe("99999999999999999999999");
    expect(q("9223372036854775808").cmp(q("9223372036854775807"))).toBe(1);
    expect(q("10000000000000000000.1").toString()).toBe("10000000000000000000100m");
  });

  it("rounds a value finer than a nano-unit away from zero", () => {
    expect(q("0.9n").toString()).toBe("1n");
    expect(q("-3.001n").toString()).toBe("-4n");
    expect(q("0.00000012345").toString()).toBe("124n");
    expect(q("1e-5000").toString()).toBe("1e-9");
  });

  it("caps a binary-suffixed value at 2^63-1 in magnitude", () => {
    expect(q("9Ei").toString()).toBe("9223372036854775807");
    expect(q("-9Ei").toString()).toBe("-9223372036854775807");
    expect(q("9223372036854775807Ki").value()).toBe(MAX_INT64);
  });

  it("switches a binary value between 0 and 1 to DecimalSI", () => {
    const tiny = q("0.000000000001Ki");
    expect(tiny.format).toBe("DecimalSI");
    expect(tiny.toString()).toBe("2n");
  });

  it.each([
    "",
    "1.1.M",
    "1+1.0M",
    "aoeu",
    "-3.01e-",
    " 1",
    "1 ",
    "1KB",
    "1k1",
    "1e",
    "1K",
    "1ki",
    "1Gb",
    "1E+",
    "--1",
    "1..5",
    "0x10",
    "Inf",
    "NaN",
    "1Zi",
    "\t1",
    ".Ei",
  ])("rejects %j with an error naming the input", (text) => {
    const parsed = Quantity.parse(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(JSON.stringify(text));
  });

  it("rejects exponents too large to turn into a number, instead of hanging", () => {
    const parsed = Quantity.parse("1e10000");
    expect(parsed).toEqual({ ok: false, error: expect.stringContaining("exponent 10000") });
    expect(q("1e9999").toString()).toBe("1e9999");
  });

  it("mustParse throws the parse error", () => {
    expect(() => Quantity.mustParse("12 cores")).toThrow('invalid quantity "12 cores"');
  });
});

describe("Quantity.toString (canonical form)", () => {
  it.each([
    ["1.5Gi", "1536Mi"],
    ["1024Mi", "1Gi"],
    ["1.1Ki", "1126400m"],
    ["0.5", "500m"],
    ["1000M", "1G"],
    ["0.001T", "1G"],
    ["5000m", "5"],
    ["-1e13", "-10e12"],
    ["0.5e0", "500e-3"],
    ["1.53E12", "1530e9"],
    ["1000E", "1e21"],
    ["9999999999999999999000m", "9999999999999999999"],
    ["0Ki", "0"],
    ["-.", "0"],
  ])("prints %s as %s", (text, canonical) => {
    expect(q(text).toString()).toBe(canonical);
  });

  it.each(["1E6", "+1", "100.035k", "1.G", "1E-3", "0001Ki"])(
    "prints %s unchanged, as upstream keeps the input text on its fast path",
    (text) => {
      expect(q(text).toString()).toBe(text);
    },
  );

  it("prints whole units given as BinarySI below 1024 in decimal", () => {
    expect(Quantity.fromValue(1000, "BinarySI").toString()).toBe("1k");
    expect(Quantity.fromValue(1025, "BinarySI").toString()).toBe("1025");
    expect(Quantity.fromValue(1073741824, "BinarySI").toString()).toBe("1Gi");
  });

  it("prints milli-units, whole units and exponents per format", () => {
    expect(Quantity.fromMilli(1500).toString()).toBe("1500m");
    expect(Quantity.fromMilli(1234000n, "DecimalSI").toString()).toBe("1234");
    expect(Quantity.fromMilli(1024, "BinarySI").toString()).toBe("1024m");
    expect(Quantity.fromMilli(80, "DecimalExponent").toString()).toBe("80e-3");
    expect(Quantity.fromValue(3000, "DecimalExponent").toString()).toBe("3e3");
    expect(Quantity.fromValue(1000).toString()).toBe("1k");
  });

  it("serializes to JSON as the canonical string", () => {
    expect(JSON.stringify({ cpu: Quantity.fromMilli(250), memory: q("1.5Gi") })).toBe(
      '{"cpu":"250m","memory":"1536Mi"}',
    );
  });

  it("refuses non-integer numbers of units but takes any integral float exactly", () => {
    expect(() => Quantity.fromMilli(1.5)).toThrow(RangeError);
    expect(() => Quantity.fromValue(NaN)).toThrow(RangeError);
    expect(Quantity.fromMilli(1e20).toString()).toBe("100P");
  });

  it("keeps the Ei suffix for binary values past the largest suffix", () => {
    expect(Quantity.fromValue(1n << 70n, "BinarySI").toString()).toBe("1024Ei");
  });
});

describe("Quantity values and arithmetic", () => {
  it("rounds milliValue and value away from zero", () => {
    expect(q("0.5m").milliValue()).toBe(1n);
    expect(q("1001u").milliValue()).toBe(2n);
    expect(q("-1001u").milliValue()).toBe(-2n);
    expect(q("1.5").value()).toBe(2n);
    expect(q("-1.5").value()).toBe(-2n);
    expect(q("1Ki").value()).toBe(1024n);
  });

  it("approximates as a float like AsApproximateFloat64", () => {
    expect(q("1500m").toNumber()).toBe(1.5);
    expect(q("1Gi").toNumber()).toBe(1073741824);
    expect(q("-2.5k").toNumber()).toBe(-2500);
  });

  it("adds and subtracts exactly, a zero receiver taking the other's format", () => {
    expect(q("1").add(q("500m")).toString()).toBe("1500m");
    expect(q("1Gi").sub(q("512Mi")).toString()).toBe("512Mi");
    expect(q("9223372036854775807").add(q("1")).toString()).toBe("9223372036854775808");
    const zero = Quantity.fromValue(0);
    expect(zero.add(q("1Ki")).format).toBe("BinarySI");
    expect(zero.sub(q("1Ki")).toString()).toBe("-1Ki");
    expect(q("1k").add(q("1Ki")).format).toBe("DecimalSI");
  });

  it("compares across suffixes and formats", () => {
    expect(q("1").cmp(q("1000m"))).toBe(0);
    expect(q("10000T").cmp(q("100Gi"))).toBe(1);
    expect(q("800m").cmp(q("0.79"))).toBe(1);
    expect(q("0.1").cmp(q("9223372036854775807"))).toBe(-1);
    expect(q("0").isZero()).toBe(true);
    expect(q("0.0Ki").isZero()).toBe(true);
  });
});

describe("Quantity.fromNumber", () => {
  it("keeps the shortest decimal of the float", () => {
    expect(Quantity.fromNumber(0.1).toString()).toBe("100m");
    expect(Quantity.fromNumber(123456789.123).toString()).toBe("123456789123m");
    expect(Quantity.fromNumber(-2.5).toString()).toBe("-2500m");
    expect(Quantity.fromNumber(1e21).toString()).toBe("1e21");
    expect(Quantity.fromNumber(2048, "BinarySI").toString()).toBe("2Ki");
  });

  it("rounds below a nano-unit away from zero", () => {
    expect(Quantity.fromNumber(1 / 3).toString()).toBe("333333334n");
    expect(Quantity.fromNumber(5e-324).toString()).toBe("1n");
  });

  it("maps NaN to 0 and infinities to the int64 milli-unit limits", () => {
    expect(Quantity.fromNumber(NaN).toString()).toBe("0");
    expect(Quantity.fromNumber(Infinity).toString()).toBe("9223372036854775807m");
    expect(Quantity.fromNumber(-Infinity).toString()).toBe("-9223372036854775808m");
  });
});

describe("quantitySchema", () => {
  it("accepts strings and JSON numbers", () => {
    expect(quantitySchema.parse("1.5Gi").toString()).toBe("1536Mi");
    expect(quantitySchema.parse(0.25).toString()).toBe("250m");
    expect(quantitySchema.parse(1e21).toString()).toBe("1e21");
  });

  it("trims surrounding whitespace like UnmarshalJSON", () => {
    expect(quantitySchema.parse(" 100m ").toString()).toBe("100m");
  });

  it("reports an invalid quantity as an issue carrying the parse error", () => {
    const result = quantitySchema.safeParse("1KB");
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('invalid quantity "1KB"');
    expect(quantitySchema.safeParse(true).success).toBe(false);
    expect(quantitySchema.safeParse(NaN).success).toBe(false);
    expect(quantitySchema.safeParse(Infinity).success).toBe(false);
  });
});

// ---- properties ----

const formatArb = fc.constantFrom<QuantityFormat>("DecimalSI", "BinarySI", "DecimalExponent");
const unscaledArb = fc.oneof(
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
  fc.bigInt({ min: -100_000n, max: 100_000n }),
);

/** A quantity with a known exact value: unscaled × 10^exponent, built through parse. */
const exactArb = fc.record({ unscaled: unscaledArb, exponent: fc.integer({ min: -9, max: 30 }) });
const fromExact = ({ unscaled, exponent }: { unscaled: bigint; exponent: number }): Quantity =>
  q(`${unscaled}e${exponent}`);

/** Exact comparison of a×10^ea with b×10^eb, independent of the implementation. */
function exactCmp(a: bigint, ea: number, b: bigint, eb: number): number {
  const m = Math.min(ea, eb);
  const x = a * 10n ** BigInt(ea - m);
  const y = b * 10n ** BigInt(eb - m);
  return x < y ? -1 : x > y ? 1 : 0;
}

const SUFFIX_VALUES: Array<[string, bigint, bigint]> = [
  // suffix, numerator, denominator of its multiplier
  ["n", 1n, 10n ** 9n],
  ["u", 1n, 10n ** 6n],
  ["m", 1n, 1000n],
  ["", 1n, 1n],
  ["k", 1000n, 1n],
  ["M", 10n ** 6n, 1n],
  ["G", 10n ** 9n, 1n],
  ["Ki", 1024n, 1n],
  ["Mi", 1024n ** 2n, 1n],
  ["Gi", 1024n ** 3n, 1n],
  ["Ti", 1024n ** 4n, 1n],
];

describe("Quantity properties", () => {
  it("parse(toString(q)) gives back the same value, and the same text once decimal", () => {
    const quantityArb = fc.oneof(
      exactArb.map(fromExact),
      fc
        .record({ units: unscaledArb, format: formatArb, milli: fc.boolean() })
        // BinarySI parses are capped at 2^63-1, so only smaller binary values can round-trip.
        .filter(
          ({ units, format, milli }) =>
            format !== "BinarySI" || (units < 0n ? -units : units) <= (milli ? MAX_INT64 * 1000n : MAX_INT64),
        )
        .map(({ units, format, milli }) =>
          milli ? Quantity.fromMilli(units, format) : Quantity.fromValue(units, format),
        ),
      fc
        .record({
          n: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
          frac: fc.option(fc.nat({ max: 999 })),
          s: fc.constantFrom(...SUFFIX_VALUES),
        })
        .map(({ n, frac, s }) => q(`${n}${frac === null ? "" : `.${frac}`}${s[0]}`)),
    );
    fc.assert(
      fc.property(quantityArb, (quantity) => {
        const text = quantity.toString();
        const again = Quantity.mustParse(text);
        expect(again.cmp(quantity)).toBe(0);
        // A BinarySI value printed without a binary suffix (e.g. 25000) reads back as
        // DecimalSI and prints decimally (25k), as upstream does; otherwise the text is kept.
        if (!(quantity.format === "BinarySI" && /^-?\d+$/.test(text))) expect(again.toString()).toBe(text);
        expect(Quantity.mustParse(again.toString()).toString()).toBe(again.toString());
      }),
      { numRuns: 500 },
    );
  });

  it("cmp agrees with the exact values and is antisymmetric", () => {
    fc.assert(
      fc.property(exactArb, exactArb, (a, b) => {
        const qa = fromExact(a);
        const qb = fromExact(b);
        const expected = exactCmp(a.unscaled, a.exponent, b.unscaled, b.exponent);
        expect(qa.cmp(qb)).toBe(expected);
        expect(qb.cmp(qa)).toBe(-expected || 0);
        expect(qa.sub(qb).sign()).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("cmp agrees with exact values written with SI and binary suffixes", () => {
    const suffixed = fc.record({
      n: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
      s: fc.constantFrom(...SUFFIX_VALUES),
    });
    fc.assert(
      fc.property(suffixed, suffixed, (a, b) => {
        const [sa, na, da] = a.s;
        const [sb, nb, db] = b.s;
        // a.n×na/da vs b.n×nb/db, cross-multiplied (denominators are positive)
        // binary-suffixed values are capped at 2^63-1 in magnitude when parsed
        const cap = (n: bigint, s: string): bigint =>
          !s.endsWith("i") ? n : n > MAX_INT64 ? MAX_INT64 : n < -MAX_INT64 ? -MAX_INT64 : n;
        const x = cap(a.n * na, sa) * db;
        const y = cap(b.n * nb, sb) * da;
        const expected = x < y ? -1 : x > y ? 1 : 0;
        expect(q(`${a.n}${sa}`).cmp(q(`${b.n}${sb}`))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("milliValue is the exact milli-value rounded away from zero", () => {
    fc.assert(
      fc.property(exactArb, (a) => {
        const milli = fromExact(a).milliValue();
        // |milli| ≥ |exact×1000| > |milli| - 1, with the sign of the value
        const sign = a.unscaled < 0n ? -1n : 1n;
        expect(milli * sign >= 0n).toBe(true);
        expect(exactCmp(milli * sign, 0, a.unscaled * sign, a.exponent + 3)).toBeGreaterThanOrEqual(0);
        if (milli !== 0n) expect(exactCmp(milli * sign - 1n, 0, a.unscaled * sign, a.exponent + 3)).toBe(-1);
      }),
      { numRuns: 500 },
    );
  });
});
