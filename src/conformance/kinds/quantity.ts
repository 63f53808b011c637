import { z } from "zod";
import { Quantity, type QuantityFormat } from "../../kube/quantity.js";
import { mismatch, type KindRunner, type VectorOutcome } from "../vector.js";

const formatSchema = z.enum(["DecimalSI", "BinarySI", "DecimalExponent"]);
const integerSchema = z.number().int();

const inputSchema = z.union([
  z.object({ parse: z.string() }).strict(),
  z.object({ milli: integerSchema, format: formatSchema.optional() }).strict(),
  z.object({ value: integerSchema, format: formatSchema.optional() }).strict(),
  z.object({ compare: z.tuple([z.string(), z.string()]) }).strict(),
]);

const expectSchema = z.union([
  z.object({ error: z.literal(true) }).strict(),
  z.object({ cmp: z.union([z.literal(-1), z.literal(0), z.literal(1)]) }).strict(),
  z.object({ canonical: z.string().optional(), milliValue: integerSchema.optional() }).strict(),
]);
type Expect = z.infer<typeof expectSchema>;

function invalid(what: string, error: z.ZodError): VectorOutcome {
  return {
    ok: false,
    expected: `a valid quantity vector ${what}`,
    got: error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
  };
}

/** JSON numbers past 2^53 are already rounded, so compare those as floats. */
function sameMilli(expected: number, got: bigint): boolean {
  return Number.isSafeInteger(expected) ? BigInt(expected) === got : expected === Number(got);
}

function checkQuantity(q: Quantity, expect: Expect): VectorOutcome {
  if ("error" in expect) return mismatch({ error: true }, { canonical: q.toString() });
  if ("cmp" in expect) return mismatch(expect, { canonical: q.toString() });
  const got: { canonical?: string; milliValue?: string } = {};
  let ok = true;
  if (expect.canonical !== undefined) {
    got.canonical = q.toString();
    ok &&= got.canonical === expect.canonical;
  }
  if (expect.milliValue !== undefined) {
    const milli = q.milliValue();
    got.milliValue = milli.toString();
    ok &&= sameMilli(expect.milliValue, milli);
  }
  return ok ? { ok: true } : mismatch(expect, got);
}

function build(kind: "milli" | "value", n: number, format: QuantityFormat | undefined): Quantity {
  return kind === "milli" ? Quantity.fromMilli(n, format) : Quantity.fromValue(n, format);
}

/** `quantity` vectors: see ../shared/conformance/README.md. */
export const runQuantity: KindRunner = (vector) => {
  const input = inputSchema.safeParse(vector.input);
  if (!input.success) return invalid("input", input.error);
  const expected = expectSchema.safeParse(vector.expect);
  if (!expected.success) return invalid("expect", expected.error);
  const expect = expected.data;
  const inp = input.data;

  if ("compare" in inp) {
    const [a, b] = inp.compare.map((s) => Quantity.parse(s));
    if (!a?.ok || !b?.ok)
      return mismatch(expect, { error: [a, b].flatMap((r) => (r && !r.ok ? [r.error] : [])).join("; ") });
    const cmp = a.value.cmp(b.value);
    if (!("cmp" in expect)) return mismatch(expect, { cmp });
    return cmp === expect.cmp ? { ok: true } : mismatch(expect, { cmp });
  }
  if ("parse" in inp) {
    const parsed = Quantity.parse(inp.parse);
    if (!parsed.ok) return "error" in expect ? { ok: true } : mismatch(expect, { error: parsed.error });
    return checkQuantity(parsed.value, expect);
  }
  const q = "milli" in inp ? build("milli", inp.milli, inp.format) : build("value", inp.value, inp.format);
  return checkQuantity(q, expect);
};
