// Records, from watches on a namespace's Deployments and HPAs, every scale the built-in HPA
// controller made (a change of a Deployment's spec.replicas; the built-in controller is the only
// writer, and each HPA here is named after its Deployment) and every decision our dry-run
// autoscaler wrote (the dry-run decision annotation), each stamped with the local time it was
// seen. The HPA status's lastScaleTime is not used for the built-in's scales: the built-in
// controller writes its status with a plain update, which is refused with a conflict whenever
// the HPA changed since its informer saw it (our dry-run annotation does that), and the
// lastScaleTime of that sync is then lost.
import { Watch } from "@kubernetes/client-node";
import { z } from "zod";
import { DRY_RUN_DECISION_ANNOTATION } from "../../../src/autoscaler/index.js";
import type { ClusterHandle } from "../../../scripts/cluster/handle.js";
import { hpaSchema } from "./autoscaler-env.js";

export interface BuiltinAction {
  seenAt: number;
  from: number;
  to: number;
}

export interface DryRunDecision {
  seenAt: number;
  time: string;
  from: number | null;
  to: number;
  wouldScale: boolean;
  reason: string | null;
}

const decisionSchema = z.object({
  currentReplicas: z.number().nullable(),
  desiredReplicas: z.number(),
  wouldScale: z.boolean(),
  reason: z.string().nullable(),
  time: z.string(),
});

const deploymentSchema = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ replicas: z.number() }),
});

export interface DecisionRecorder {
  /** Scales of the Deployment named like the HPA. */
  builtin(hpa: string): BuiltinAction[];
  ours(hpa: string): DryRunDecision[];
  /** The last dry-run decision seen for the HPA. */
  lastOurs(hpa: string): DryRunDecision | undefined;
  stop(): void;
}

export async function recordDecisions(cluster: ClusterHandle, namespace: string): Promise<DecisionRecorder> {
  const builtin = new Map<string, BuiltinAction[]>();
  const ours = new Map<string, DryRunDecision[]>();
  const replicas = new Map<string, number>();
  const lastDecision = new Map<string, string>();
  let stopped = false;

  const onObject = (raw: unknown) => {
    const parsed = hpaSchema.safeParse(raw);
    if (!parsed.success) return;
    const h = parsed.data;
    const name = h.metadata.name;
    const now = Date.now();
    const text = h.metadata.annotations?.[DRY_RUN_DECISION_ANNOTATION];
    if (text !== undefined && text !== lastDecision.get(name)) {
      lastDecision.set(name, text);
      const d = decisionSchema.safeParse(JSON.parse(text));
      if (d.success) {
        ours.set(name, [
          ...(ours.get(name) ?? []),
          {
            seenAt: now,
            time: d.data.time,
            from: d.data.currentReplicas,
            to: d.data.desiredReplicas,
            wouldScale: d.data.wouldScale,
            reason: d.data.reason,
          },
        ]);
      }
    }
  };

  const onDeployment = (raw: unknown) => {
    const parsed = deploymentSchema.safeParse(raw);
    if (!parsed.success) return;
    const name = parsed.data.metadata.name;
    const to = parsed.data.spec.replicas;
    const from = replicas.get(name);
    replicas.set(name, to);
    if (from !== undefined && from !== to)
      builtin.set(name, [...(builtin.get(name) ?? []), { seenAt: Date.now(), from, to }]);
  };

  const watch = new Watch(cluster.kubeConfig());
  const aborts: AbortController[] = [];
  const start = async (path: string, on: (obj: unknown) => void): Promise<void> => {
    const abort = await watch.watch(
      path,
      {},
      (_phase, obj) => on(obj),
      () => {
        // The apiserver ends watches now and then; a fresh one lists everything again, and
        // what was already seen is dropped above.
        if (!stopped) setTimeout(() => void start(path, on).catch(() => undefined), 200);
      },
    );
    aborts.push(abort);
  };
  await start(`/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`, onObject);
  await start(`/apis/apps/v1/namespaces/${namespace}/deployments`, onDeployment);
  return {
    builtin: (hpa) => builtin.get(hpa) ?? [],
    ours: (hpa) => ours.get(hpa) ?? [],
    lastOurs: (hpa) => ours.get(hpa)?.at(-1),
    stop() {
      stopped = true;
      for (const a of aborts) a.abort();
    },
  };
}
