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
  return paths.map(
    (path) => new Reflector({ client, path, labelSelector, handlers, logger, initialBackoffMs: 500 }),
  );
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
    handlers: {
      changed(key: string, before: CachedHpa | undefined, after: CachedHpa): void;
      deleted(key: string): void;
    },
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
        : {
            ok: false,
            namespace: raw.metadata?.namespace ?? "",
            name: raw.metadata?.name ?? "",
            error: parsed.error.message,
            raw,
          };
      const before = this.byKey.get(k);
      this.byKey.set(k, entry);
      handlers.changed(k, before, entry);
    };
    const remove = (raw: Raw) => {
      const k = key(raw.metadata?.namespace, raw.metadata?.name);
      this.byKey.delete(k);
      handlers.deleted(k);
    };
    this.informers = reflectors(
      client,
      paths,
      opts.labelSelector,
      { add: upsert, update: upsert, delete: remove },
      log,
    );
    this.byNamespace =
      opts.namespaces.length === 0
        ? undefined
        : new Map(opts.namespaces.map((ns, i) => [ns, this.informers[i] as Reflector]));
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

/**
 * Pods, parsed, per namespace, with an index of label pairs: a selector with an equality (or
 * `in`) requirement looks only at the pods carrying one of its pairs instead of the whole
 * namespace (with one Deployment per HPA, a sync looks at a handful of pods, not thousands).
 */
export class PodInformer implements PodLister {
  private readonly byNamespace = new Map<string, Map<string, Pod>>();
  /** namespace → "key=value" → pod names */
  private readonly byLabel = new Map<string, Map<string, Set<string>>>();
  private readonly selectors = new Map<string, ParsedSelector | null>();
  private readonly informers: Reflector[];

  constructor(client: KubeClient, namespaces: string[], log: Logger) {
    const paths =
      namespaces.length === 0
        ? ["/api/v1/pods"]
        : namespaces.map((ns) => `/api/v1/namespaces/${seg(ns)}/pods`);
    const upsert = (raw: Raw) => {
      const parsed = podSchema.safeParse(raw);
      if (!parsed.success) {
        log.warn(
          { pod: key(raw.metadata?.namespace, raw.metadata?.name), err: parsed.error.message },
          "ignoring a pod that does not parse",
        );
        return;
      }
      const ns = parsed.data.metadata.namespace ?? "";
      let m = this.byNamespace.get(ns);
      if (m === undefined) this.byNamespace.set(ns, (m = new Map()));
      const name = parsed.data.metadata.name;
      const before = m.get(name);
      if (before !== undefined) this.unindex(ns, before);
      m.set(name, parsed.data);
      this.index(ns, parsed.data);
    };
    const remove = (raw: Raw) => {
      const ns = raw.metadata?.namespace ?? "";
      const m = this.byNamespace.get(ns);
      const before = m?.get(raw.metadata?.name ?? "");
      if (m === undefined || before === undefined) return;
      this.unindex(ns, before);
      m.delete(before.metadata.name);
    };
    this.informers = reflectors(
      client,
      paths,
      undefined,
      { add: upsert, update: upsert, delete: remove },
      log,
    );
  }

  private index(ns: string, pod: Pod): void {
    let idx = this.byLabel.get(ns);
    if (idx === undefined) this.byLabel.set(ns, (idx = new Map()));
    for (const [k, v] of Object.entries(pod.metadata.labels ?? {})) {
      const pair = `${k}=${v}`;
      let names = idx.get(pair);
      if (names === undefined) idx.set(pair, (names = new Set()));
      names.add(pod.metadata.name);
    }
  }

  private unindex(ns: string, pod: Pod): void {
    const idx = this.byLabel.get(ns);
    if (idx === undefined) return;
    for (const [k, v] of Object.entries(pod.metadata.labels ?? {})) {
      const pair = `${k}=${v}`;
      const names = idx.get(pair);
      names?.delete(pod.metadata.name);
      if (names?.size === 0) idx.delete(pair);
    }
  }

  /** The parsed selector, cached; null when it does not parse. */
  private parsed(selector: string): ParsedSelector | null {
    let parsed = this.selectors.get(selector);
    if (parsed === undefined) {
      const r = parseSelector(selector);
      parsed = r.ok ? r.selector : null;
      if (this.selectors.size > 10_000) this.selectors.clear();
      this.selectors.set(selector, parsed);
    }
    return parsed;
  }

  /** The names of the pods an equality requirement narrows the selector to; undefined when none does. */
  private candidates(ns: string, selector: ParsedSelector): Iterable<string> | undefined {
    const idx = this.byLabel.get(ns);
    let best: string[] | undefined;
    for (const r of selector.requirements) {
      if (r.operator !== "=" && r.operator !== "==" && r.operator !== "in") continue;
      const names = r.values.flatMap((v) => [...(idx?.get(`${r.key}=${v}`) ?? [])]);
      if (best === undefined || names.length < best.length) best = names;
    }
    return best;
  }

  list(namespace: string, selector: string): Pod[] {
    const pods = this.byNamespace.get(namespace);
    if (pods === undefined) return [];
    const parsed = this.parsed(selector); // the algorithm reports a bad selector; give it every pod
    if (parsed === null) return [...pods.values()];
    if (parsed.matchesNothing) return [];
    const out: Pod[] = [];
    const names = this.candidates(namespace, parsed);
    if (names === undefined) {
      for (const p of pods.values()) if (selectorMatches(parsed, p.metadata.labels)) out.push(p);
      return out;
    }
    // the order is the index's (upstream's lister has none the algorithm could rely on)
    for (const name of new Set(names)) {
      const p = pods.get(name);
      if (p !== undefined && selectorMatches(parsed, p.metadata.labels)) out.push(p);
    }
    return out;
  }

  /** The names of the pods a valid selector selects; undefined when it does not parse. */
  names(namespace: string, selector: string): Set<string> | undefined {
    if (this.parsed(selector) === null) return undefined;
    return new Set(this.list(namespace, selector).map((p) => p.metadata.name));
  }

  async start(): Promise<void> {
    await startAll(this.informers);
  }
  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
