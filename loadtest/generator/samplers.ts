// Samplers that read what an HPA sees from its status (one GET per sample, shared by the
// metric and replica samplers), for the CLI; the demo may bring its own.
import { AutoscalingV2Api, type KubeConfig } from "@kubernetes/client-node";
import { z } from "zod";
import { metricStatusSchema, type MetricStatus } from "../../src/kube/objects.js";
import type { ReplicaCounts, Samplers } from "./runner.js";

const hpaStatusSchema = z.looseObject({
  status: z
    .looseObject({
      currentReplicas: z.number().int().optional(),
      desiredReplicas: z.number().int().optional(),
      currentMetrics: z.array(metricStatusSchema).nullable().optional(),
    })
    .optional(),
});

export type HpaStatus = z.infer<typeof hpaStatusSchema>["status"];

/** The value of one current metric: utilization in percent for Utilization targets, else the quantity. */
export function metricValue(m: MetricStatus): number | null {
  const source = m.pods ?? m.object ?? m.external ?? m.resource ?? m.containerResource;
  const current = source?.current;
  if (!current) return null;
  if (current.averageUtilization !== undefined) return current.averageUtilization;
  const q = current.averageValue ?? current.value;
  return q === undefined ? null : q.toNumber();
}

/** `cpu_system`, `cpu`, `memory`: the name a current metric goes by. */
export function metricNameOf(m: MetricStatus): string | undefined {
  return (
    m.pods?.metric.name ??
    m.object?.metric.name ??
    m.external?.metric.name ??
    m.resource?.name ??
    m.containerResource?.name
  );
}

/** Picks the metric named `name` (or the first one) from an HPA status. */
export function pickMetric(status: HpaStatus, name?: string): number | null {
  const metrics = status?.currentMetrics ?? [];
  const m = name === undefined ? metrics[0] : metrics.find((x) => metricNameOf(x) === name);
  return m === undefined ? null : metricValue(m);
}

export function replicaCounts(status: HpaStatus): ReplicaCounts {
  return { current: status?.currentReplicas ?? null, desired: status?.desiredReplicas ?? null };
}

export interface HpaSamplerOptions {
  namespace: string;
  name: string;
  /** Which current metric to record (its name); the first one when absent. */
  metric?: string;
}

/** Reads the HPA once per sample; both samplers share that read. */
export function hpaStatusSamplers(
  read: () => Promise<unknown>,
  options: Pick<HpaSamplerOptions, "metric">,
): Samplers {
  let inFlight: Promise<HpaStatus> | undefined;
  const status = (): Promise<HpaStatus> => {
    inFlight ??= read()
      .then((raw) => {
        const parsed = hpaStatusSchema.safeParse(raw);
        if (!parsed.success) throw new Error(`unexpected HorizontalPodAutoscaler: ${parsed.error.message}`);
        return parsed.data.status;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  return {
    metric: async () => pickMetric(await status(), options.metric),
    replicas: async () => replicaCounts(await status()),
  };
}

export function kubeHpaSamplers(kubeConfig: KubeConfig, options: HpaSamplerOptions): Samplers {
  const api = kubeConfig.makeApiClient(AutoscalingV2Api);
  return hpaStatusSamplers(
    () => api.readNamespacedHorizontalPodAutoscaler({ namespace: options.namespace, name: options.name }),
    options,
  );
}
