// Our side of the Go-oracle differential: a case (a `replicaCalc` vector's input) through the
// conformance runner's own parsing and calculator call, so both judge the same code path.
import { z } from "zod";
import { labelSelectorAsSelector } from "../../src/kube/selector.js";
import { milliValue } from "../../src/autoscaler/algorithm/metric-readings.js";
import { computeReplicaCalc, replicaCalcInputSchema } from "../../src/conformance/kinds/replica-calc.js";

/** What both sides answer for one case; the oracle's JSON has the same fields. */
export const outcomeSchema = z.object({
  replicas: z.number().int().optional(),
  utilization: z.number().int().optional(),
  /** milli-units, int64 as a decimal string */
  rawMilli: z.string().optional(),
  /** epoch ms; Go's zero time where upstream leaves it unset */
  timestamp: z.number().optional(),
  error: z.string().optional(),
});
export type Outcome = z.infer<typeof outcomeSchema>;

export function ourOutcome(rawInput: unknown): Outcome {
  const parsed = replicaCalcInputSchema.safeParse(rawInput);
  if (!parsed.success) return { error: `harness: the case does not parse: ${parsed.error.message}` };
  const input = parsed.data;
  const selector = labelSelectorAsSelector(input.selector);
  if (!selector.ok) return { error: selector.error };
  const result = computeReplicaCalc(input, selector.selector);
  if (!result.ok) return { error: result.error };
  const { proposal } = result;
  return {
    replicas: proposal.replicas,
    ...(proposal.utilization !== undefined ? { utilization: proposal.utilization } : {}),
    rawMilli: milliValue(proposal.rawValue).toString(),
    timestamp: proposal.timestamp,
  };
}

/** The fields two outcomes disagree on, in a fixed order. */
export function differingFields(ours: Outcome, oracle: Outcome): string[] {
  const fields = ["replicas", "utilization", "rawMilli", "timestamp", "error"] as const;
  return fields.filter((f) => ours[f] !== oracle[f]);
}
