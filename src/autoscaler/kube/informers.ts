// Informer caches of HPAs and pods (client-node's ListWatch: one list, then a watch), so a sync
// never lists anything. Objects are parsed with zod once, when they arrive; pods are kept per
// namespace and selected with a cached parsed selector.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import { horizontalPodAutoscalerSchema, podSchema, type Pod } from "../../kube/objects.js";
import type { Logger } from "../../log/logger.js";
import type { CachedHpa, HpaLister, PodLister } from "../controller/ports.js";
import { seg, type KubeHttp } from "./rest.js";
import { parseSelector, selectorMatches, type ParsedSelector } from "../../kube/selector.js";

type Raw = KubernetesObject & { metadata?: { name?: string; namespace?: string } };

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(obj: T): void;
  delete?(obj: T): void;
}

/** One list+watch of one collection path (cluster-wide or one namespace), restarted after errors. */
class RestartingInformer {
  private readonly lw: ListWatch<Raw>;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    kc: KubeConfig,
    http: KubeHttp,
    readonly path: string,
    labelSelector: string | undefined,
    handlers: InformerHandlers<Raw>,
    private readonly log: Logger,
  ) {
    const list = async () =>
      (await http.request("GET", path, { query: { labelSelector: labelSelector === "" ? undefined : labelSelector }, timeoutMs: 120_000 })) as KubernetesListObject<Raw>;
    this.lw = new ListWatch<Raw>(path, new Watch(kc), list, false, labelSelector === "" ? undefined : labelSelector);
    if (handlers.add) this.lw.on("add", handlers.add);
    if (handlers.update) this.lw.on("update", handlers.update);
    if (handlers.delete) this.lw.on("delete", handlers.delete);
    this.lw.on("connect", () => {
      this.failures = 0;
    });
    this.lw.on("error", (err: unknown) => this.restartLater(err));
  }

  /** List and watch again after a growing delay (a failed list or watch, or a watch that could not start). */
  private restartLater(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
    this.log.warn({ path: this.path, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, "informer failed; restarting");
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.stopped) this.lw.start().catch((e: unknown) => this.restartLater(e));
    }, delay);
    this.restartTimer.unref();
  }

  /**
   * Resolves once a list has been delivered (the cache is synced). ListWatch reports a failed
   * list through its error callback rather than by rejecting, so "synced" is a list's
   * resourceVersion having arrived; the error callback restarts it meanwhile.
   */
  async start(): Promise<void> {
    try {
      await this.lw.start();
    } catch (err) {
      this.restartLater(err);
    }
    while (!this.stopped && this.lw.latestResourceVersion() === "") await new Promise((r) => setTimeout(r, 100));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.lw.stop();
  }
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
  private readonly informers: RestartingInformer[];

  constructor(
    kc: KubeConfig,
    http: KubeHttp,
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
    this.informers = paths.map((p) => new RestartingInformer(kc, http, p, opts.labelSelector, { add: upsert, update: upsert, delete: remove }, log));
  }

  get(namespace: string, name: string): CachedHpa | undefined {
    return this.byKey.get(`${namespace}/${name}`);
  }
  keys(): string[] {
    return [...this.byKey.keys()];
  }
  get size(): number {
    return this.byKey.size;
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
  }
  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

/** Pods, parsed, per namespace. */
export class PodInformer implements PodLister {
  private readonly byNamespace = new Map<string, Map<string, Pod>>();
  private readonly selectors = new Map<string, ParsedSelector | null>();
  private readonly informers: RestartingInformer[];

  constructor(kc: KubeConfig, http: KubeHttp, namespaces: string[], log: Logger) {
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
    this.informers = paths.map((p) => new RestartingInformer(kc, http, p, undefined, { add: upsert, update: upsert, delete: remove }, log));
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
    await Promise.all(this.informers.map((i) => i.start()));
  }
  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
