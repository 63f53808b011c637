import { z } from "zod";
import {
  horizontalPodAutoscalerBehaviorSchema,
  labelSelectorSchema,
  metricResponseSchema,
  metricSpecSchema,
  podSchema,
} from "../../kube/objects.js";
import { labelSelectorAsSelector, type ParsedSelector } from "../../kube/selector.js";
import {
  computeReplicasForMetric,
  tolerancesFor,
  type ProposalResult,
} from "../../autoscaler/algorithm/replica-calculator.js";
import { mismatch, type KindRunner } from "../vector.js";
import { controllerSettingsSchema } from "./normalize.js";
import { rfc3339ToEpochMs } from "./times.js";

// The API objects go through the same objects.ts schemas the autoscaler parses live responses with.
// The Go-oracle differential (scripts/differential) feeds its random cases through the same two.
export const replicaCalcInputSchema = z.object({
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

export type ReplicaCalcInput = z.infer<typeof replicaCalcInputSchema>;

/** One `replicaCalc` input (its selector already parsed) through the replica calculator. */
export function computeReplicaCalc(input: ReplicaCalcInput, selector: ParsedSelector): ProposalResult {
  return computeReplicasForMetric({
    now: input.now,
    settings: input.controller,
    currentReplicas: input.currentReplicas,
    ...(input.specReplicas !== undefined ? { specReplicas: input.specReplicas } : {}),
    metric: input.metric,
    selector,
    pods: input.pods,
    response: input.metricResponse,
    tolerances: tolerancesFor(input.behavior, input.controller),
    ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
  });
}

const expectSchema = z.union([
  z.object({ error: z.string() }),
  z.object({
    replicas: z.number().int(),
    utilization: z.number().int().optional(),
    rawValue: z.string().optional(),
  }),
]);

/** `replicaCalc` vectors: one metric through the replica calculator (see ../shared/conformance/README.md). */
export const runReplicaCalc: KindRunner = (vector) => {
  const input = replicaCalcInputSchema.parse(vector.input);
  const expect = expectSchema.parse(vector.expect);
  const selector = labelSelectorAsSelector(input.selector);
  if (!selector.ok) return mismatch(expect, { error: `invalid selector: ${selector.error}` });

  const result = computeReplicaCalc(input, selector.selector);

  if ("error" in expect) {
    // upstream's tests check that the calculator's error contains the expected text
    if (!result.ok && result.message.includes(expect.error)) return { ok: true };
    return mismatch(expect, result.ok ? { replicas: result.proposal.replicas } : { error: result.message });
  }
  if (!result.ok) return mismatch(expect, { error: result.message, reason: result.reason });
  const { proposal } = result;
  const got = {
    replicas: proposal.replicas,
    ...(expect.utilization !== undefined ? { utilization: proposal.utilization } : {}),
    ...(expect.rawValue !== undefined ? { rawValue: proposal.rawValue.toString() } : {}),
  };
  const same =
    got.replicas === expect.replicas &&
    got.utilization === expect.utilization &&
    got.rawValue === expect.rawValue;
  return same ? { ok: true } : mismatch(expect, got);
};
