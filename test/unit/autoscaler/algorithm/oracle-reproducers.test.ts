// The smallest reproducers the Go-oracle differential found (npm run differential -- --oracle go),
// each with kube-controller-manager v1.37.2's answer. A fixed class must answer as v1.37.2 does;
// a documented deviation (README) or upstream nondeterminism pins what we answer.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ourOutcome, outcomeSchema } from "../../../../scripts/differential/calculator.js";

const fileSchema = z.object({
  reproducers: z.array(
    z.object({
      name: z.string(),
      class: z.string(),
      input: z.unknown(),
      oracle: outcomeSchema,
      ours: outcomeSchema,
    }),
  ),
});
const { reproducers } = fileSchema.parse(
  JSON.parse(readFileSync(new URL("./oracle-reproducers.json", import.meta.url), "utf8")),
);

const isAccepted = (cls: string) =>
  cls.startsWith("known deviation") || cls.startsWith("a request error about another pod");

describe("replica calculator against kube-controller-manager v1.37.2 (Go oracle reproducers)", () => {
  for (const r of reproducers) {
    if (isAccepted(r.class)) {
      it(`keeps the accepted difference: ${r.class} (${r.name})`, () => {
        expect(ourOutcome(r.input)).toEqual(r.ours);
        expect(r.ours).not.toEqual(r.oracle);
      });
    } else {
      it(`answers as v1.37.2 does: ${r.class} (${r.name})`, () => {
        expect(ourOutcome(r.input)).toEqual(r.oracle);
      });
    }
  }
});
