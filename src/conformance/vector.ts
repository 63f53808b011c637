// The shared conformance file format (../shared/conformance/README.md): parsed once here.
import { z } from "zod";

export const vectorSchema = z.object({
  name: z.string(),
  kind: z.string(),
  input: z.unknown(),
  expect: z.unknown(),
  note: z.string().optional(),
});
export type Vector = z.infer<typeof vectorSchema>;

export const vectorFileSchema = z.object({
  source: z.string(),
  vectors: z.array(vectorSchema),
});

/** What one vector produced: `ok`, or what was expected against what came out. */
export type VectorOutcome = { ok: true } | { ok: false; expected: string; got: string };

/** A kind's runner: parse `input`/`expect` with zod, run the code under test, compare. */
export type KindRunner = (vector: Vector) => VectorOutcome;

export function mismatch(expected: unknown, got: unknown): VectorOutcome {
  return { ok: false, expected: JSON.stringify(expected), got: JSON.stringify(got) };
}
