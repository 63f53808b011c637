// Our side of the Go-oracle differential: a case (a `replicaCalc` vector's input) through the
// same objects.ts schemas the autoscaler parses live objects with, then computeReplicasForMetric.
import { z } from "zod";
import {
  horizontalPodAutoscalerBehaviorSchema,
  labelSelectorSchema,
  metricResponseSchema,
  metricSpecSchema,
  podSchema,
} from "../../src/kube/objects.js";
import { labelSelectorAsSelector } from "../../src/kube/selector.js";
import {
  computeReplicasForMetric,
  tolerancesFor,
} from "../../src/autoscaler/algorithm/replica-calculator.js";
import { milliValue } from "../../src/autoscaler/algorithm/metric-readings.js";
import { controllerSettingsSchema } from "../../src/conformance/kinds/normalize.js";
import { rfc3339ToEpochMs } from "../../src/conformance/kinds/times.js";

export const caseInputSchema = z.object({
  now: rfc3339ToEpochMs,
  controller: controllerSettingsSchema,
  currentReplicas: z.number().int(),
  specReplicas: z.number().int().optional(),
  metric: metricSpecSchema,
  selector: labelSelectorSchema,
  pods: z.array(podSchema),
  metricResponse: metricResponseSchema,
  behavior: horizontalPodAutoscalerBehaviorSchema.nullable().optional(),
  namespace: z.string().optional(),
});

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
  const parsed = caseInputSchema.safeParse(rawInput);
  if (!parsed.success) return { error: `harness: the case does not parse: ${parsed.error.message}` };
  const input = parsed.data;
  const selector = labelSelectorAsSelector(input.selector);
  if (!selector.ok) return { error: selector.error };
  const result = computeReplicasForMetric({
    now: input.now,
    settings: input.controller,
    currentReplicas: input.currentReplicas,
    ...(input.specReplicas !== undefined ? { specReplicas: input.specReplicas } : {}),
    metric: input.metric,
    selector: selector.selector,
    pods: input.pods,
    response: input.metricResponse,
    tolerances: tolerancesFor(input.behavior, input.controller),
    ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
  });
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
