import { z } from "zod";
import { horizontalPodAutoscalerSchema, metricResponseSchema, podSchema } from "../../kube/objects.js";
import { reconcile } from "../../autoscaler/algorithm/reconcile.js";
import { mismatch, type KindRunner } from "../vector.js";
import { conditionExpectSchema, controllerSettingsSchema, historySchemas } from "./normalize.js";
import { rfc3339ToEpochMs } from "./times.js";

// The vector's API objects go through the same schemas the autoscaler applies to live responses.
const inputSchema = z.object({
  now: rfc3339ToEpochMs,
  controller: controllerSettingsSchema,
  hpa: horizontalPodAutoscalerSchema,
  scale: z.union([
    z.object({ error: z.string() }),
    z.object({ replicas: z.number().int(), selector: z.string().optional() }),
  ]),
  pods: z.array(podSchema),
  metricResponses: z.array(metricResponseSchema),
  recommendations: historySchemas.recommendations.nullable(),
  scaleUpEvents: historySchemas.scaleEvents.optional(),
  scaleDownEvents: historySchemas.scaleEvents.optional(),
});

const expectSchema = z.object({
  desiredReplicas: z.number().int().optional(),
  scaled: z.boolean().optional(),
  conditions: z.array(conditionExpectSchema).optional(),
  events: z.array(z.string()).optional(),
  rescaleReason: z.string().optional(),
});

/** `sync` vectors: one whole reconcile of one HPA (see ../shared/conformance/README.md). */
export const runSync: KindRunner = (vector) => {
  const input = inputSchema.parse(vector.input);
  const expect = expectSchema.parse(vector.expect);
  const scale =
    "error" in input.scale
      ? { error: input.scale.error }
      : { replicas: input.scale.replicas, selector: input.scale.selector ?? "" };
  const result = reconcile({
    now: input.now,
    settings: input.controller,
    hpa: input.hpa,
    scale,
    pods: input.pods,
    metricResponses: input.metricResponses,
    // null recommendations: the controller has no history for this HPA yet
    history:
      input.recommendations === null
        ? null
        : {
            recommendations: input.recommendations,
            scaleUpEvents: input.scaleUpEvents ?? [],
            scaleDownEvents: input.scaleDownEvents ?? [],
          },
  });

  const conditions = result.status.conditions ?? [];
  const got: Record<string, unknown> = {};
  let ok = true;
  if (expect.desiredReplicas !== undefined) {
    got.desiredReplicas = result.desiredReplicas;
    ok &&= result.desiredReplicas === expect.desiredReplicas;
  }
  if (expect.scaled !== undefined) {
    got.scaled = result.scaled;
    ok &&= result.scaled === expect.scaled;
  }
  if (expect.conditions) {
    got.conditions = expect.conditions.map((want) => {
      const c = conditions.find((x) => x.type === want.type);
      if (!c) {
        ok = false;
        return { type: want.type, missing: true };
      }
      const matches =
        c.status === want.status &&
        c.reason === want.reason &&
        (want.message === undefined || c.message === want.message);
      ok &&= matches;
      return {
        type: c.type,
        status: c.status,
        reason: c.reason,
        ...(want.message !== undefined ? { message: c.message } : {}),
      };
    });
  }
  if (expect.events) {
    const reasons = result.events.map((e) => e.reason);
    got.events = reasons;
    ok &&= reasons.length === expect.events.length && reasons.every((r, i) => r === expect.events?.[i]);
  }
  if (expect.rescaleReason !== undefined) {
    got.rescaleReason = result.rescaleReason;
    ok &&= result.rescaleReason === expect.rescaleReason;
  }
  return ok ? { ok: true } : mismatch(expect, got);
};
