// ObjectLister over metadata caches: the first request for a resource starts its list+watch
// and waits (bounded) for the first list; every later request reads the cache.
import { z } from "zod";
import type { KubeClient } from "../../kube/client.js";
import { Reflector, type RawObject } from "../../kube/reflector.js";
import type { Logger } from "../../log/logger.js";
import { parseSelector, selectorMatches, type ParsedSelector } from "../../kube/selector.js";
import type { GroupResource, ObjectLister, ResourceMapper, Result, SelectorString } from "../provider.js";

export interface ObjectMeta {
  name: string;
  namespace: string; // "" for cluster-scoped objects
  labels: Readonly<Record<string, string>>;
}

// Only metadata is kept: the server sends PartialObjectMetadata when it can (full objects otherwise).
const LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
const labelsSchema = z.record(z.string(), z.string()).nullable().optional();

/** Name, namespace and labels of one resource's objects, per namespace, from a reflector. */
export class MetadataCache {
  private readonly byNamespace = new Map<string, Map<string, ObjectMeta>>();
  private readonly reflector: Reflector;

  constructor(options: { client: KubeClient; path: string; logger: Logger }) {
    const upsert = (obj: RawObject): void => {
      const meta = toMeta(obj);
      let m = this.byNamespace.get(meta.namespace);
      if (m === undefined) this.byNamespace.set(meta.namespace, (m = new Map()));
      m.set(meta.name, meta);
    };
    this.reflector = new Reflector({
      ...options,
      listAccept: LIST_ACCEPT,
      watchAccept: WATCH_ACCEPT,
      // Name, namespace, labels and the version: not managedFields, annotations or owners.
      transform: (obj) => ({
        metadata: {
          name: obj.metadata.name,
          ...(obj.metadata.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
          ...(obj.metadata.resourceVersion !== undefined
            ? { resourceVersion: obj.metadata.resourceVersion }
            : {}),
          labels: obj.metadata.labels,
        },
      }),
      handlers: {
        add: upsert,
        update: upsert,
        delete: (obj) => {
          const ns = obj.metadata.namespace ?? "";
          const m = this.byNamespace.get(ns);
          m?.delete(obj.metadata.name);
          if (m?.size === 0) this.byNamespace.delete(ns);
        },
      },
    });
  }

  get synced(): boolean {
    return this.reflector.synced;
  }

  get lastError(): string | undefined {
    return this.reflector.lastError?.message;
  }

  start(): void {
    this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }

  waitForSync(timeoutMs: number): Promise<boolean> {
    return this.reflector.waitForSync(timeoutMs);
  }

  /** Objects in `namespace`, or in every namespace when undefined. */
  *objects(namespace?: string): Iterable<ObjectMeta> {
    if (namespace !== undefined) {
      const m = this.byNamespace.get(namespace);
      if (m !== undefined) yield* m.values();
      return;
    }
    for (const m of this.byNamespace.values()) yield* m.values();
  }

  get(namespace: string, name: string): ObjectMeta | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }
}

function toMeta(obj: RawObject): ObjectMeta {
  const labels = labelsSchema.safeParse(obj.metadata.labels);
  return {
    name: obj.metadata.name,
    namespace: obj.metadata.namespace ?? "",
    labels: (labels.success ? labels.data : undefined) ?? {},
  };
}

export interface InformerListerOptions {
  client: KubeClient;
  mapper: ResourceMapper;
  logger: Logger;
  /** How long a request waits for a new resource's first list before answering Unavailable. */
  syncTimeoutMs?: number;
}

export class InformerObjectLister implements ObjectLister {
  private readonly reflectors = new Map<string, MetadataCache>();
  private readonly selectors = new Map<string, ParsedSelector | string>();

  constructor(private readonly options: InformerListerOptions) {}

  /** Starts watching a resource ahead of the first request (pods, at start-up). */
  warm(groupResource: GroupResource): Result<MetadataCache> {
    return this.reflectorFor(groupResource);
  }

  /** True once every started reflector has listed once. */
  get synced(): boolean {
    for (const r of this.reflectors.values()) if (!r.synced) return false;
    return true;
  }

  stop(): void {
    for (const r of new Set(this.reflectors.values())) void r.stop();
    this.reflectors.clear();
  }

  /** Cached objects of a resource (for resource metrics' labels); undefined until synced. */
  objects(groupResource: GroupResource, namespace?: string): Iterable<ObjectMeta> | undefined {
    const r = this.reflectors.get(key(groupResource));
    return r?.synced ? r.objects(namespace) : undefined;
  }

  async listNames(req: {
    groupResource: GroupResource;
    namespace?: string;
    selector: SelectorString;
  }): Promise<Result<string[]>> {
    const selector = this.parse(req.selector);
    if (typeof selector === "string") return { ok: false, error: { kind: "BadRequest", message: selector } };
    const reflector = this.reflectorFor(req.groupResource);
    if (!reflector.ok) return reflector;
    const r = reflector.value;
    if (!r.synced && !(await r.waitForSync(this.options.syncTimeoutMs ?? 10_000))) {
      return {
        ok: false,
        error: {
          kind: "Unavailable",
          message: `the object cache for ${describe(req.groupResource)} has not synced yet${r.lastError ? `: ${r.lastError}` : ""}`,
        },
      };
    }
    const names: string[] = [];
    for (const o of r.objects(req.namespace)) if (selectorMatches(selector, o.labels)) names.push(o.name);
    return { ok: true, value: names };
  }

  private parse(s: string): ParsedSelector | string {
    let p = this.selectors.get(s);
    if (p === undefined) {
      const r = parseSelector(s);
      p = r.ok ? r.selector : `invalid selector ${JSON.stringify(s)}: ${r.error}`;
      if (this.selectors.size > 1024) this.selectors.clear();
      this.selectors.set(s, p);
    }
    return p;
  }

  private reflectorFor(groupResource: GroupResource): Result<MetadataCache> {
    const k = key(groupResource);
    const existing = this.reflectors.get(k);
    if (existing !== undefined) return { ok: true, value: existing };
    const mapping = this.options.mapper.resolve(
      groupResource.group === ""
        ? groupResource.resource
        : `${groupResource.resource}.${groupResource.group}`,
    );
    if (mapping === undefined)
      return {
        ok: false,
        error: {
          kind: "NotFound",
          message: `the server does not know the resource ${describe(groupResource)}`,
        },
      };
    const gr = mapping.groupResource;
    const canonical = key(gr);
    const shared = this.reflectors.get(canonical);
    if (shared !== undefined) {
      this.reflectors.set(k, shared);
      return { ok: true, value: shared };
    }
    const path =
      gr.group === ""
        ? `/api/${mapping.version}/${gr.resource}`
        : `/apis/${gr.group}/${mapping.version}/${gr.resource}`;
    const reflector = new MetadataCache({ client: this.options.client, path, logger: this.options.logger });
    reflector.start();
    this.reflectors.set(canonical, reflector);
    if (canonical !== k) this.reflectors.set(k, reflector);
    return { ok: true, value: reflector };
  }
}

function key(gr: GroupResource): string {
  return `${gr.resource}.${gr.group}`;
}

function describe(gr: GroupResource): string {
  return gr.group === "" ? gr.resource : `${gr.resource}.${gr.group}`;
}
