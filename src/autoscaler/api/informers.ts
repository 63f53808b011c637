// Informer caches of HPAs and pods (the shared reflector: a paged list, then a watch), so a
// sync never lists anything. Objects are parsed with zod once, when they arrive; pods are kept
// per namespace and selected with a cached parsed selector.
import { seg, type KubeClient } from "../../kube/client.js";
import { horizontalPodAutoscalerSchema, podSchema, type Pod } from "../../kube/objects.js";
import { Reflector, type RawObject, type ReflectorHandlers } from "../../kube/reflector.js";
import type { Logger } from "../../log/logger.js";
import type { CachedHpa, HpaLister, PodLister } from "../controller/ports.js";
import { parseSelector, selectorMatches, type ParsedSelector } from "../../kube/selector.js";

type Raw = RawObject;

/** One reflector per collection path (cluster-wide or one namespace each). */
function reflectors(
  client: KubeClient,
  paths: string[],
  labelSelector: string | undefined,
  handlers: ReflectorHandlers,
  logger: Logger,
): Reflector[] {
  return paths.map((path) => new Reflector({ client, path, labelSelector, handlers, logger, initialBackoffMs: 500 }));
}

/** Starts every reflector and resolves once each has listed (its cache is synced). */
async function startAll(rs: Reflector[]): Promise<void> {
  for (const r of rs) r.start();
  await Promise.all(rs.map((r) => r.waitForSync()));
}

function key(ns: string | undefined, name: string | undefined): string {
  return `${ns ?? ""}/${name ?? ""}`;
}

export interface HpaInformerOptions {
  namespaces: string[]; // empty = all
  labelSelector?: string | undefined;
}

/** HPAs, parsed; handlers get the `namespace/name` key. */
export class HpaInformer implements HpaLister {
  private readonly byKey = new Map<string, CachedHpa>();
  private readonly informers: Reflector[];
  /** namespace → its reflector when watching listed namespaces; undefined = one cluster-wide */
  private readonly byNamespace: Map<string, Reflector> | undefined;

  constructor(
    client: KubeClient,
    opts: HpaInformerOptions,
    handlers: { changed(key: string, before: CachedHpa | undefined, after: CachedHpa): void; deleted(key: string): void },
    log: Logger,
  ) {
    const paths =
      opts.namespaces.length === 0
        ? ["/apis/autoscaling/v2/horizontalpodautoscalers"]
        : opts.namespaces.map((ns) => `/apis/autoscaling/v2/namespaces/${seg(ns)}/horizontalpodautoscalers`);
    const upsert = (raw: Raw) => {
      const k = key(raw.metadata?.namespace, raw.metadata?.name);
      const parsed = horizontalPodAutoscalerSchema.safeParse(raw);
      const entry: CachedHpa = parsed.success
        ? { ok: true, hpa: parsed.data }
        : { ok: false, namespace: raw.metadata?.namespace ?? "", name: raw.metadata?.name ?? "", error: parsed.error.message, raw };
      const before = this.byKey.get(k);
      this.byKey.set(k, entry);
      handlers.changed(k, before, entry);
    };
    const remove = (raw: Raw) => {
      const k = key(raw.metadata?.namespace, raw.metadata?.name);
      this.byKey.delete(k);
      handlers.deleted(k);
    };
    this.informers = reflectors(client, paths, opts.labelSelector, { add: upsert, update: upsert, delete: remove }, log);
    this.byNamespace =
      opts.namespaces.length === 0 ? undefined : new Map(opts.namespaces.map((ns, i) => [ns, this.informers[i] as Reflector]));
  }

  get(namespace: string, name: string): CachedHpa | undefined {
    return this.byKey.get(`${namespace}/${name}`);
  }
  lastSyncResourceVersion(namespace: string): string {
    const r = this.byNamespace === undefined ? this.informers[0] : this.byNamespace.get(namespace);
    return r?.lastSyncResourceVersion ?? "";
  }
  keys(): string[] {
    return [...this.byKey.keys()];
  }
  get size(): number {
    return this.byKey.size;
  }

  async start(): Promise<void> {
    await startAll(this.informers);
  }
  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

/** Pods, parsed, per namespace. */
export class PodInformer implements PodLister {
  private readonly byNamespace = new Map<string, Map<string, Pod>>();
  private readonly selectors = new Map<string, ParsedSelector | null>();
  private readonly informers: Reflector[];

  constructor(client: KubeClient, namespaces: string[], log: Logger) {
    const paths = namespaces.length === 0 ? ["/api/v1/pods"] : namespaces.map((ns) => `/api/v1/namespaces/${seg(ns)}/pods`);
    const upsert = (raw: Raw) => {
      const parsed = podSchema.safeParse(raw);
      if (!parsed.success) {
        log.warn({ pod: key(raw.metadata?.namespace, raw.metadata?.name), err: parsed.error.message }, "ignoring a pod that does not parse");
        return;
      }
      const ns = parsed.data.metadata.namespace ?? "";
      let m = this.byNamespace.get(ns);
      if (m === undefined) this.byNamespace.set(ns, (m = new Map()));
      m.set(parsed.data.metadata.name, parsed.data);
    };
    const remove = (raw: Raw) => {
      this.byNamespace.get(raw.metadata?.namespace ?? "")?.delete(raw.metadata?.name ?? "");
    };
    this.informers = reflectors(client, paths, undefined, { add: upsert, update: upsert, delete: remove }, log);
  }

  list(namespace: string, selector: string): Pod[] {
    const pods = this.byNamespace.get(namespace);
    if (pods === undefined) return [];
    let parsed = this.selectors.get(selector);
    if (parsed === undefined) {
      const r = parseSelector(selector);
      parsed = r.ok ? r.selector : null; // the algorithm reports a bad selector; give it every pod
      if (this.selectors.size > 10_000) this.selectors.clear();
      this.selectors.set(selector, parsed);
    }
    const out: Pod[] = [];
    for (const p of pods.values()) if (parsed === null || selectorMatches(parsed, p.metadata.labels)) out.push(p);
    return out;
  }

  async start(): Promise<void> {
    await startAll(this.informers);
  }
  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
