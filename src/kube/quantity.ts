// Kubernetes resource quantities with the semantics of apimachinery's resource.Quantity:
// what ParseQuantity accepts and rejects, how it rounds, how String() prints the canonical
// form, how Cmp/Add/Sub/MilliValue/Value behave. The value is kept exactly as
// unscaled × 10^exponent (bigint × power of ten), so nothing is lost past int64.
//
// Where upstream is undefined or plainly broken we pick the sane reading, on purpose:
// - milliValue()/value() return exact bigints (upstream wraps an int64 silently) and always
//   round away from zero (upstream's big-decimal path rounds some negative fractions up);
// - exponents above 9999 are rejected rather than accepted and hung on later;
// - a BinarySI value of 1024Ei or more keeps the Ei suffix (upstream drops the suffix).
import { z } from "zod";

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

export type QuantityParseResult = { ok: true; value: Quantity } | { ok: false; error: string };

const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);
/** Finest scale a parsed quantity keeps: finer non-zero values round away from zero to 1n. */
const NANO = -9;
/** Upstream's fast path handles at most this many digits in an int64. */
const MAX_INT64_DIGITS = 18;
/**
 * Largest decimal exponent we accept when parsing. Upstream takes any int32 exponent, but
 * "1e2000000000" cannot be turned into a number of milli-units without allocating a
 * billion digits; no real quantity comes near this bound, so such input is rejected instead.
 */
const MAX_EXPONENT = 9999;

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIX_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_SUFFIX_BY_POWER = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;
/** Characters that may start a suffix (the scanner's set, upstream's regular expression). */
const SUFFIX_CHARS = "eEinumkKMGTP";

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
const pow10 = (n: number): bigint => 10n ** BigInt(n);
const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/** Divides by 10^k (k ≥ 0), rounding a non-zero remainder away from zero. */
function divPow10AwayFromZero(v: bigint, k: number): bigint {
  if (k <= 0) return v * pow10(-k);
  const digits = abs(v).toString().length;
  if (v === 0n) return 0n;
  if (k > digits) return v < 0n ? -1n : 1n; // |v| < 10^k: a non-zero fraction rounds to ±1
  const d = pow10(k);
  const q = v / d; // truncates toward zero
  return v % d === 0n ? q : q + (v < 0n ? -1n : 1n);
}

interface Scanned {
  negative: boolean;
  /** integer digits without leading zeros ("0" when there are none) */
  num: string;
  /** fraction digits, possibly empty */
  denom: string;
  /** whether the number part has at least one digit (upstream's slow path needs one) */
  hasDigits: boolean;
  suffix: string;
}

// The scanner mirrors upstream's parseQuantityString: sign, leading zeros, integer digits,
// optional "." and fraction digits, then suffix letters, an optional sign and exponent digits.
function scan(str: string): Scanned | undefined {
  let pos = 0;
  const end = str.length;
  let negative = false;
  if (str[0] === "-") {
    negative = true;
    pos++;
  } else if (str[0] === "+") {
    pos++;
  }
  const numberStart = pos;
  while (pos < end && str[pos] === "0") pos++;
  if (pos >= end) return { negative, num: "0", denom: "", hasDigits: true, suffix: "" };
  const intStart = pos;
  while (pos < end && isDigit(str[pos])) pos++;
  const num = str.slice(intStart, pos) || "0";
  let denom = "";
  if (str[pos] === ".") {
    pos++;
    const fracStart = pos;
    while (pos < end && isDigit(str[pos])) pos++;
    denom = str.slice(fracStart, pos);
  }
  const hasDigits = /[0-9]/.test(str.slice(numberStart, pos));
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos] as string)) pos++;
  if (str[pos] === "-" || str[pos] === "+") pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) return undefined;
  return { negative, num, denom, hasDigits, suffix: str.slice(suffixStart) };
}

type Interpreted = { base: 10 | 2; exponent: number; format: QuantityFormat } | { error: string };

function interpretSuffix(suffix: string): Interpreted {
  const dec = DECIMAL_SUFFIXES[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: "DecimalSI" };
  const bin = BINARY_SUFFIXES[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: "BinarySI" };
  if (suffix.length > 1 && (suffix[0] === "e" || suffix[0] === "E")) {
    // Like Go's strconv.ParseInt: an optional sign, then decimal digits only.
    if (!/^[+-]?[0-9]+$/.test(suffix.slice(1))) return { error: `unknown suffix "${suffix}"` };
    const parsed = BigInt(suffix.slice(1));
    if (parsed > MAX_INT64 || parsed < MIN_INT64) return { error: `exponent ${parsed} is out of range` };
    // Upstream parses the exponent as an int64 and then keeps only its low 32 bits.
    const exponent = Number(BigInt.asIntN(32, parsed));
    if (exponent > MAX_EXPONENT)
      return { error: `exponent ${exponent} is larger than the supported ${MAX_EXPONENT}` };
    return { base: 10, exponent, format: "DecimalExponent" };
  }
  return { error: `unknown suffix "${suffix}"` };
}

function canonicalString(unscaled: bigint, exponent: number, format: QuantityFormat): string {
  if (unscaled === 0n) return "0";
  let effective = format;
  if (format === "BinarySI") {
    // Binary suffixes only for whole values of at least 1024 in magnitude; anything else
    // would have to round, so it prints as DecimalSI.
    const whole =
      exponent >= 0
        ? unscaled * pow10(exponent)
        : unscaled % pow10(-exponent) === 0n
          ? unscaled / pow10(-exponent)
          : undefined;
    if (whole !== undefined && abs(whole) >= 1024n) {
      let mantissa = whole;
      let power = 0;
      // Stops at Ei, the largest binary suffix (upstream would drop the suffix past it).
      while (power < BINARY_SUFFIX_BY_POWER.length - 1 && mantissa % 1024n === 0n) {
        mantissa /= 1024n;
        power++;
      }
      return `${mantissa}${BINARY_SUFFIX_BY_POWER[power]}`;
    }
    effective = "DecimalSI";
  }
  let mantissa = unscaled;
  let exp = exponent;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp++;
  }
  // The exponent goes down to a multiple of 3, the mantissa takes the difference.
  const r = ((exp % 3) + 3) % 3;
  mantissa *= pow10(r);
  exp -= r;
  if (effective === "DecimalSI") {
    const suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exp);
    // Past E (or below n) there is no SI suffix: upstream falls back to exponent notation.
    if (suffix !== undefined) return `${mantissa}${suffix}`;
  }
  return exp === 0 ? `${mantissa}` : `${mantissa}e${exp}`;
}

// Go's math.Pow10 tables, so toNumber() multiplies by the same float64 powers as upstream.
const POW10_TAB = Array.from({ length: 32 }, (_, i) => Number(`1e${i}`));
const POW10_POS_TAB32 = Array.from({ length: 10 }, (_, i) => Number(`1e${i * 32}`));
const POW10_NEG_TAB32 = Array.from({ length: 11 }, (_, i) => Number(`1e-${i * 32}`));
function goPow10(n: number): number {
  if (n >= 0 && n <= 308)
    return (POW10_POS_TAB32[Math.floor(n / 32)] as number) * (POW10_TAB[n % 32] as number);
  if (n < 0 && n >= -323)
    return (POW10_NEG_TAB32[Math.floor(-n / 32)] as number) / (POW10_TAB[-n % 32] as number);
  return n > 0 ? Infinity : 0;
}

function toBigInt(v: bigint | number, what: string): bigint {
  if (typeof v === "bigint") return v;
  // Any integral float converts exactly; a fraction is a caller's bug, not a value to round.
  if (!Number.isInteger(v)) throw new RangeError(`${what} must be an integer, got ${v}`);
  return BigInt(v);
}

export class Quantity {
  readonly format: QuantityFormat;
  /** value = unscaled × 10^exponent */
  private readonly unscaled: bigint;
  private readonly exponent: number;
  /**
   * The text upstream keeps from parsing and prints back unchanged: its fast path reuses
   * the input when it looks canonical by a cheap test ("1E6", "+1", "100.035k" survive).
   */
  private readonly text: string | undefined;

  private constructor(unscaled: bigint, exponent: number, format: QuantityFormat, text?: string) {
    this.unscaled = unscaled;
    this.exponent = exponent;
    this.format = format;
    this.text = text;
  }

  static parse(s: string): QuantityParseResult {
    const fail = (why: string): QuantityParseResult => ({
      ok: false,
      error: `invalid quantity ${JSON.stringify(s)}: ${why}`,
    });
    if (s.length === 0) return fail("empty string");
    if (s === "0") return { ok: true, value: new Quantity(0n, 0, "DecimalSI", "0") };
    const scanned = scan(s);
    if (!scanned)
      return fail(
        "must be a number with an optional suffix (n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or e<exponent>)",
      );
    const interpreted = interpretSuffix(scanned.suffix);
    if ("error" in interpreted) return fail(interpreted.error);
    const { negative, num, denom } = scanned;
    const { base, exponent } = interpreted;
    let format = interpreted.format;
    const shifted = num + denom;

    // Upstream's int64 fast path: besides the value, it decides whether the input text is
    // kept as the printed form.
    if (base === 10) {
      const scale = exponent - denom.length;
      if (shifted.length <= MAX_INT64_DIGITS && scale >= NANO) {
        const digits = BigInt(shifted);
        const keepText = scale % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0";
        return {
          ok: true,
          value: new Quantity(negative ? -digits : digits, scale, format, keepText ? s : undefined),
        };
      }
    } else if (denom.length === 0 && 15 - num.length - (exponent * 3) / 10 - 1 >= 0) {
      const digits = BigInt(num);
      const result = digits << BigInt(exponent);
      if (result <= MAX_INT64) {
        const keepText = (digits & 7n) !== 0n;
        return {
          ok: true,
          value: new Quantity(negative ? -result : result, 0, format, keepText ? s : undefined),
        };
      }
    }

    // The general path: exact value, rounded away from zero to whole nano-units,
    // BinarySI capped at 2^63-1 in magnitude.
    if (!scanned.hasDigits) return fail("no digits in the number");
    let magnitude: bigint;
    let scale: number;
    if (base === 10) {
      magnitude = BigInt(shifted);
      scale = exponent - denom.length;
    } else {
      magnitude = BigInt(shifted) << BigInt(exponent);
      scale = -denom.length;
    }
    if (scale < NANO) {
      magnitude = divPow10AwayFromZero(magnitude, NANO - scale);
      scale = NANO;
    }
    if (format === "BinarySI") {
      // scale ≤ 0 here: binary suffixes never scale up by a power of ten
      const unit = pow10(-scale);
      if (magnitude > MAX_INT64 * unit) {
        magnitude = MAX_INT64;
        scale = 0;
      } else if (magnitude !== 0n && magnitude < unit) {
        // Between 0 and 1 there is nothing binary to print; avoid rounding by switching.
        format = "DecimalSI";
      }
    }
    return { ok: true, value: new Quantity(negative ? -magnitude : magnitude, scale, format) };
  }

  /** Parses or throws: for literals in code and tests. */
  static mustParse(s: string): Quantity {
    const parsed = Quantity.parse(s);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.value;
  }

  /** milli/1000 units, like resource.NewMilliQuantity. */
  static fromMilli(milli: bigint | number, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(toBigInt(milli, "milli"), -3, format);
  }

  /** Whole units, like resource.NewQuantity. */
  static fromValue(value: bigint | number, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(toBigInt(value, "value"), 0, format);
  }

  /**
   * A float64 (e.g. a Prometheus sample) as a quantity: the shortest decimal that reads back
   * as the same float, rounded away from zero to whole nano-units like a parse.
   * NaN becomes 0; +Inf and -Inf become the int64 milli-unit limits
   * (9223372036854775807m and -9223372036854775808m), the largest a MilliValue can carry.
   */
  static fromNumber(x: number, format: QuantityFormat = "DecimalSI"): Quantity {
    if (Number.isNaN(x)) return new Quantity(0n, 0, format);
    if (x === Infinity) return new Quantity(MAX_INT64, -3, format);
    if (x === -Infinity) return new Quantity(MIN_INT64, -3, format);
    // String(x) is "123.45", "1e-7" or "1.5e+21": split into digits and a power of ten.
    const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
    if (!m) return new Quantity(0n, 0, format);
    const [, sign = "", int = "0", frac = "", exp = "0"] = m;
    let unscaled = BigInt(int + frac);
    let scale = Number(exp) - frac.length;
    if (scale < NANO) {
      unscaled = divPow10AwayFromZero(unscaled, NANO - scale);
      scale = NANO;
    }
    return new Quantity(sign === "-" ? -unscaled : unscaled, scale, format);
  }

  /** ceil(|q| × 1000) with q's sign: whole milli-units, rounded away from zero. */
  milliValue(): bigint {
    return divPow10AwayFromZero(this.unscaled, -3 - this.exponent);
  }

  /** Whole units, rounded away from zero (like Value()). */
  value(): bigint {
    return divPow10AwayFromZero(this.unscaled, -this.exponent);
  }

  /** A float64 approximation, computed like AsApproximateFloat64. */
  toNumber(): number {
    const base = Number(this.unscaled);
    return this.exponent === 0 ? base : base * goPow10(this.exponent);
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    const e = Math.min(this.exponent, other.exponent);
    const a = this.unscaled * pow10(this.exponent - e);
    const b = other.unscaled * pow10(other.exponent - e);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** The exact sum; a zero receiver takes the other's format, like Add. */
  add(other: Quantity): Quantity {
    return this.combine(other, 1n);
  }

  /** The exact difference; a zero receiver takes the other's format, like Sub. */
  sub(other: Quantity): Quantity {
    return this.combine(other, -1n);
  }

  private combine(other: Quantity, sign: bigint): Quantity {
    const e = Math.min(this.exponent, other.exponent);
    const sum = this.unscaled * pow10(this.exponent - e) + sign * other.unscaled * pow10(other.exponent - e);
    return new Quantity(sum, e, this.unscaled === 0n ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.unscaled, this.exponent, this.format);
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled < 0n ? -1 : this.unscaled > 0n ? 1 : 0;
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  /** The canonical form, exactly as apimachinery's String() prints it. */
  toString(): string {
    return this.text ?? canonicalString(this.unscaled, this.exponent, this.format);
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * A quantity in a JSON document: a string, or a number read as its decimal text (as upstream's
 * UnmarshalJSON does, which also trims surrounding whitespace from strings). NaN and ±Infinity
 * cannot come from JSON and are rejected. Invalid input is a zod issue
 * carrying the parse error.
 */
export const quantitySchema: z.ZodType<Quantity, string | number> = z
  .union([z.string(), z.number()])
  .transform((raw, ctx) => {
    // String(1e21) is "1e+21"; JSON would more likely have said "1e21", which reads the same.
    const parsed = Quantity.parse(typeof raw === "number" ? String(raw).replace("e+", "e") : raw.trim());
    if (parsed.ok) return parsed.value;
    ctx.addIssue({ code: "custom", message: parsed.error });
    return z.NEVER;
  });
