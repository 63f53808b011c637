import { z } from "zod";
import { horizontalPodAutoscalerBehaviorSchema } from "../../kube/objects.js";
import { normalizeDesiredReplicasWithBehaviors } from "../../autoscaler/algorithm/behavior.js";
import { normalizeDesiredReplicas } from "../../autoscaler/algorithm/normalize.js";
import { withDefaults, type ControllerSettings } from "../../autoscaler/algorithm/settings.js";
import { mismatch, type KindRunner } from "../vector.js";
import { rfc3339ToEpochMs } from "./times.js";

export const controllerSettingsSchema = z
  .object({
    tolerance: z.number().nonnegative(),
    cpuInitializationPeriodSeconds: z.number().int().nonnegative(),
    delayOfInitialReadinessStatusSeconds: z.number().int().nonnegative(),
    downscaleStabilizationWindowSeconds: z.number().int().nonnegative(),
    scaleUpLimitFactor: z.number().positive(),
    scaleUpLimitMinimum: z.number().nonnegative(),
    upscaleDelaySeconds: z.number().int().nonnegative(),
    downscaleDelaySeconds: z.number().int().nonnegative(),
    scaleToZero: z.boolean(),
  })
  .partial()
  .optional()
  // The vectors come from releases where the HPAScaleToZero gate was alpha (off); 1.37 turned it on.
  .transform((partial): ControllerSettings => withDefaults({ scaleToZero: false, ...partial }));

export const historySchemas = {
  recommendations: z.array(z.object({ timestamp: rfc3339ToEpochMs, replicas: z.number().int() })),
  scaleEvents: z.array(
    z.object({
      timestamp: rfc3339ToEpochMs,
      replicaChange: z.number().int().nonnegative(),
      outdated: z.boolean().optional(),
    }),
  ),
};

const inputSchema = z.object({
  now: rfc3339ToEpochMs,
  controller: controllerSettingsSchema,
  currentReplicas: z.number().int(),
  recommendedReplicas: z.number().int(),
  minReplicas: z.number().int(),
  maxReplicas: z.number().int(),
  behavior: horizontalPodAutoscalerBehaviorSchema.nullable(),
  recommendations: historySchemas.recommendations,
  scaleUpEvents: historySchemas.scaleEvents,
  scaleDownEvents: historySchemas.scaleEvents,
});

export const conditionExpectSchema = z.object({
  type: z.string(),
  status: z.string(),
  reason: z.string(),
  message: z.string().optional(),
});

const expectSchema = z.object({
  desiredReplicas: z.number().int(),
  condition: conditionExpectSchema.optional(),
});

/** `normalize` vectors: from a recommendation to the new size (see ../shared/conformance/README.md). */
export const runNormalize: KindRunner = (vector) => {
  const input = inputSchema.parse(vector.input);
  const expect = expectSchema.parse(vector.expect);
  const common = {
    now: input.now,
    settings: input.controller,
    currentReplicas: input.currentReplicas,
    recommendedReplicas: input.recommendedReplicas,
    minReplicas: input.minReplicas,
    maxReplicas: input.maxReplicas,
  };
  const result = input.behavior
    ? normalizeDesiredReplicasWithBehaviors({
        ...common,
        behavior: input.behavior,
        history: {
          recommendations: input.recommendations,
          scaleUpEvents: input.scaleUpEvents,
          scaleDownEvents: input.scaleDownEvents,
        },
      })
    : normalizeDesiredReplicas({ ...common, recommendations: input.recommendations });
  const conditions = [result.ableToScale, result.scalingLimited];
  const condition = expect.condition ? conditions.find((c) => c.type === expect.condition?.type) : undefined;
  const got = {
    desiredReplicas: result.desiredReplicas,
    ...(expect.condition ? { condition: condition && pick(condition, expect.condition) } : {}),
  };
  const conditionOk =
    !expect.condition ||
    (condition !== undefined &&
      condition.status === expect.condition.status &&
      condition.reason === expect.condition.reason &&
      (expect.condition.message === undefined || condition.message === expect.condition.message));
  return result.desiredReplicas === expect.desiredReplicas && conditionOk
    ? { ok: true }
    : mismatch(expect, got);
};

/** The fields of `condition` that `expected` names, for a readable mismatch line. */
function pick(
  condition: { type: string; status: string; reason: string; message: string },
  expected: z.infer<typeof conditionExpectSchema>,
) {
  return {
    type: condition.type,
    status: condition.status,
    reason: condition.reason,
    ...(expected.message !== undefined ? { message: condition.message } : {}),
  };
}
