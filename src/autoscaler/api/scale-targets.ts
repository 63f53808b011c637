// The scale of the usual targets (apps/v1 Deployments, ReplicaSets, StatefulSets) from watches
// instead of a GET of the scale subresource per sync: what the subresource would answer
// (spec.replicas, and the selector as metav1.LabelSelectorAsSelector(spec.selector).String())
// is kept per object, a few strings each. Any other kind, an object not (yet) in the cache, a
// kind whose watch is not synced (e.g. no list/watch permission) and an object we just scaled
// until the watch shows it are read with the GET, which also gives its exact error messages.
// Writes always go through the subresource: a fresh GET, then the PUT, as upstream does.
import { z } from "zod";
import { seg, type KubeClient } from "../../kube/client.js";
import { labelSelectorSchema, type CrossVersionObjectReference } from "../../kube/objects.js";
import { Reflector, type RawObject } from "../../kube/reflector.js";
import { labelSelectorAsSelector, selectorToString } from "../../kube/selector.js";
import type { Logger } from "../../log/logger.js";
import type { CurrentScale, ScaleClient } from "../controller/ports.js";

const CACHED_KINDS: Readonly<Record<string, string>> = {
  Deployment: "deployments",
  ReplicaSet: "replicasets",
  StatefulSet: "statefulsets",
};
const API_VERSION = "apps/v1";
/** how long a scale we wrote may wait for the watch before the cache is trusted again anyway */
const PENDING_MS = 30_000;

const targetSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  spec: z
    .looseObject({
      replicas: z.number().nullable().optional(),
      selector: labelSelectorSchema.nullable().optional(),
    })
    .optional(),
});

interface Entry {
  replicas: number;
  selector: string;
  /** the replicas we wrote and when, until the watch shows them */
  pending?: { replicas: number; at: number };
}

interface CachedHandle {
  cached: true;
  namespace: string;
  target: CrossVersionObjectReference;
}

export interface ScaleTargetCacheOptions {
  client: KubeClient;
  namespaces: string[]; // empty = all
  /** the GET/PUT of the scale subresource, for everything the cache does not answer */
  fallback: ScaleClient;
  log: Logger;
  now?: () => number;
}

export class ScaleTargetCache implements ScaleClient {
  /** kind → namespace/name → entry */
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly reflectors = new Map<string, Reflector[]>();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly o: ScaleTargetCacheOptions) {
    this.now = o.now ?? Date.now;
    for (const [kind, resource] of Object.entries(CACHED_KINDS)) {
      const byKey = new Map<string, Entry>();
      this.entries.set(kind, byKey);
      const paths =
        o.namespaces.length === 0
          ? [`/apis/${API_VERSION}/${resource}`]
          : o.namespaces.map((ns) => `/apis/${API_VERSION}/namespaces/${seg(ns)}/${resource}`);
      const upsert = (raw: RawObject) => {
        const k = `${raw.metadata.namespace ?? ""}/${raw.metadata.name}`;
        const next = scaleOf(raw);
        if (next === undefined) {
          byKey.delete(k); // the GET reports why it has no scale
          return;
        }
        const pending = byKey.get(k)?.pending;
        if (pending !== undefined && pending.replicas !== next.replicas) next.pending = pending;
        byKey.set(k, next);
      };
      const remove = (raw: RawObject) => byKey.delete(`${raw.metadata.namespace ?? ""}/${raw.metadata.name}`);
      this.reflectors.set(
        kind,
        paths.map(
          (path) =>
            new Reflector({
              client: o.client,
              path,
              handlers: { add: upsert, update: upsert, delete: remove },
              logger: o.log,
              initialBackoffMs: 500,
            }),
        ),
      );
    }
  }

  /** Starts the watches without waiting: until a kind's are synced, its scale is read with a GET. */
  start(): void {
    for (const [kind, rs] of this.reflectors) {
      for (const r of rs) r.start();
      void this.giveUpWhenForbidden(kind, rs);
    }
  }

  /** Resolves once every watch has listed, or after `timeoutMs` (the GET serves meanwhile). */
  async waitForSync(timeoutMs: number): Promise<void> {
    await Promise.all([...this.reflectors.values()].flat().map((r) => r.waitForSync(timeoutMs)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.reflectors.values()].flat().map((r) => r.stop()));
  }

  /** Without list/watch on a kind the watch would retry forever; its targets keep the GET. */
  private async giveUpWhenForbidden(kind: string, rs: Reflector[]): Promise<void> {
    while (!this.stopped && !rs.every((r) => r.synced)) {
      if (rs.some((r) => r.lastError?.status === 403)) {
        this.o.log.info({ kind }, "no list/watch permission: the scale of this kind is read per sync");
        this.reflectors.delete(kind);
        await Promise.all(rs.map((r) => r.stop()));
        return;
      }
      await Promise.all(rs.map((r) => r.waitForSync(1000)));
    }
  }

  private cached(namespace: string, target: CrossVersionObjectReference): Entry | undefined {
    if (target.apiVersion !== API_VERSION) return undefined;
    const rs = this.reflectors.get(target.kind);
    if (rs === undefined || !rs.every((r) => r.synced)) return undefined;
    const entry = this.entries.get(target.kind)?.get(`${namespace}/${target.name}`);
    if (entry?.pending !== undefined) {
      if (this.now() - entry.pending.at < PENDING_MS) return undefined;
      delete entry.pending;
    }
    return entry;
  }

  async getScale(namespace: string, target: CrossVersionObjectReference): Promise<CurrentScale> {
    const entry = this.cached(namespace, target);
    if (entry === undefined) return this.o.fallback.getScale(namespace, target);
    const handle: CachedHandle = { cached: true, namespace, target };
    return { replicas: entry.replicas, selector: entry.selector, handle };
  }

  async updateScale(current: CurrentScale, replicas: number): Promise<void> {
    const h = current.handle as Partial<CachedHandle>;
    if (h.cached !== true || h.namespace === undefined || h.target === undefined)
      return this.o.fallback.updateScale(current, replicas);
    const fresh = await this.o.fallback.getScale(h.namespace, h.target);
    await this.o.fallback.updateScale(fresh, replicas);
    const entry = this.entries.get(h.target.kind)?.get(`${h.namespace}/${h.target.name}`);
    if (entry !== undefined && entry.replicas !== replicas) entry.pending = { replicas, at: this.now() };
  }
}

/** What the scale subresource answers for a Deployment, ReplicaSet or StatefulSet; undefined when it would fail. */
function scaleOf(raw: RawObject): Entry | undefined {
  const parsed = targetSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const selector = labelSelectorAsSelector(parsed.data.spec?.selector);
  if (!selector.ok) return undefined;
  return { replicas: parsed.data.spec?.replicas ?? 0, selector: selectorToString(selector.selector) };
}
