import { z } from "zod";
import { shouldScale } from "../../autoscaler/algorithm/legacy-delay.js";
import { mismatch, type KindRunner } from "../vector.js";
import { rfc3339ToEpochMs } from "./times.js";

const inputSchema = z.object({
  now: rfc3339ToEpochMs,
  currentReplicas: z.number().int(),
  desiredReplicas: z.number().int(),
  lastScaleTime: rfc3339ToEpochMs.nullable(),
  upscaleDelaySeconds: z.number().int().nonnegative(),
  downscaleDelaySeconds: z.number().int().nonnegative(),
});
const expectSchema = z.object({ shouldScale: z.boolean() });

/** `legacyDelay` vectors: 1.9–1.11's shouldScale (see ../shared/conformance/README.md). */
export const runLegacyDelay: KindRunner = (vector) => {
  const input = inputSchema.parse(vector.input);
  const expect = expectSchema.parse(vector.expect);
  const got = shouldScale(input);
  return got === expect.shouldScale ? { ok: true } : mismatch(expect, { shouldScale: got });
};
