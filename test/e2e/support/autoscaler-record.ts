// Records every scale the built-in HPA controller made (from a watch on the namespace's
// Deployments: a change of spec.replicas; the built-in controller is the only writer, and each
// HPA here is named after its Deployment) and every decision of our dry-run autoscaler, each
// stamped with the local time it was seen. Our dry run writes nothing on the HPAs (any write
// would make the built-in controller's next status update conflict), so its decisions come from
// its /metrics (polled: the current and desired replicas per HPA, which one sync sets together)
// and its DryRunRescale Events (watched: which of those were would-be scales, and why). A sync
// that could not compute reports the status's previous desired count, which is no scale: only a
// DryRunRescale Event to that size says it is.
import { Watch } from "@kubernetes/client-node";
import { z } from "zod";
import type { ClusterHandle } from "../../../scripts/cluster/handle.js";

export interface BuiltinAction {
  seenAt: number;
  from: number;
  to: number;
}

export interface DryRunDecision {
  seenAt: number;
  /** seenAt as an ISO time */
  time: string;
  /** the target's replicas the sync read (null if it has not read any yet) */
  from: number | null;
  to: number;
  /** a would-be scale: a DryRunRescale Event to this size came with it */
  wouldScale: boolean;
  /** the reason in that Event's message */
  reason: string | null;
}

interface DryRunRescale {
  seenAt: number;
  to: number;
  reason: string;
}

/** Between a decision's first sighting and the next one's, how far its Event may be seen off. */
const EVENT_SLACK_MS = 3_000;

/** One HPA's replica gauges in our /metrics. */
export interface OurReplicas {
  current: number | undefined;
  desired: number;
}

/** The desired (and current) replicas per HPA of the namespace, from our autoscaler's /metrics. */
export async function scrapeOurReplicas(
  metricsUrl: string,
  namespace: string,
): Promise<Map<string, OurReplicas>> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const gauge = (name: string) => {
    const out = new Map<string, number>();
    const re = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, "gm");
    for (const m of text.matchAll(re)) {
      const labels = Object.fromEntries(
        [...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
      );
      if (labels.namespace === namespace && labels.name !== undefined) out.set(labels.name, Number(m[2]));
    }
    return out;
  };
  const desired = gauge("prom_hpa_autoscaler_desired_replicas");
  const current = gauge("prom_hpa_autoscaler_current_replicas");
  return new Map([...desired].map(([name, d]) => [name, { current: current.get(name), desired: d }]));
}

const eventSchema = z.object({
  metadata: z.object({ name: z.string() }),
  involvedObject: z.object({ name: z.string() }),
  reason: z.string().nullish(),
  message: z.string().nullish(),
  count: z.number().nullish(),
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
  stop(): Promise<void>;
}

export async function recordDecisions(
  cluster: ClusterHandle,
  namespace: string,
  ourMetricsUrl: string,
  pollMs = 400,
): Promise<DecisionRecorder> {
  const builtin = new Map<string, BuiltinAction[]>();
  const ours = new Map<string, Omit<DryRunDecision, "wouldScale" | "reason">[]>();
  const rescales = new Map<string, DryRunRescale[]>();
  const eventsSeen = new Set<string>();
  const replicas = new Map<string, number>();
  let stopped = false;

  // Our gauges change at most once a sync (a sync period apart), so a poll well within one sees
  // every decision.
  const poll = async () => {
    while (!stopped) {
      try {
        const seenAt = Date.now();
        for (const [name, r] of await scrapeOurReplicas(ourMetricsUrl, namespace)) {
          const last = ours.get(name)?.at(-1);
          const from = r.current ?? null;
          if (last !== undefined && last.from === from && last.to === r.desired) continue;
          ours.set(name, [
            ...(ours.get(name) ?? []),
            {
              seenAt,
              time: new Date(seenAt).toISOString(),
              from,
              to: r.desired,
            },
          ]);
        }
      } catch {
        // a scrape refused while the autoscaler stops; the next one tells
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  };
  const polling = poll();

  const onEvent = (raw: unknown) => {
    const parsed = eventSchema.safeParse(raw);
    if (!parsed.success || parsed.data.reason !== "DryRunRescale") return;
    const e = parsed.data;
    // a re-list after a dropped watch repeats what was seen
    const key = `${e.metadata.name}/${e.count ?? 1}`;
    if (eventsSeen.has(key)) return;
    eventsSeen.add(key);
    const m = /^New size: (\d+); reason: (.*)$/s.exec(e.message ?? "");
    if (!m) return;
    const hpa = e.involvedObject.name;
    rescales.set(hpa, [
      ...(rescales.get(hpa) ?? []),
      { seenAt: Date.now(), to: Number(m[1]), reason: m[2] ?? "" },
    ]);
  };

  /** Our decisions for the HPA, each marked a would-be scale when its DryRunRescale Event was seen. */
  const decisions = (hpa: string): DryRunDecision[] => {
    const ds = ours.get(hpa) ?? [];
    const rs = rescales.get(hpa) ?? [];
    return ds.map((d, i) => {
      const until = (ds[i + 1]?.seenAt ?? Infinity) + EVENT_SLACK_MS;
      const r =
        d.from !== null && d.from !== d.to
          ? rs.find((x) => x.to === d.to && x.seenAt >= d.seenAt - EVENT_SLACK_MS && x.seenAt <= until)
          : undefined;
      return { ...d, wouldScale: r !== undefined, reason: r?.reason ?? null };
    });
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
  const start = async (
    path: string,
    on: (obj: unknown) => void,
    query: Record<string, string> = {},
  ): Promise<void> => {
    const abort = await watch.watch(
      path,
      query,
      (_phase, obj) => on(obj),
      () => {
        // The apiserver ends watches now and then; a fresh one lists everything again, and
        // what was already seen is dropped above.
        if (!stopped) setTimeout(() => void start(path, on, query).catch(() => undefined), 200);
      },
    );
    aborts.push(abort);
  };
  await start(`/apis/apps/v1/namespaces/${namespace}/deployments`, onDeployment);
  await start(`/api/v1/namespaces/${namespace}/events`, onEvent, { fieldSelector: "reason=DryRunRescale" });
  return {
    builtin: (hpa) => builtin.get(hpa) ?? [],
    ours: decisions,
    lastOurs: (hpa) => decisions(hpa).at(-1),
    async stop() {
      stopped = true;
      for (const a of aborts) a.abort();
      await polling;
    },
  };
}
