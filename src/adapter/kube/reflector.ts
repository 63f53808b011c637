// A list+watch cache of object metadata (name, namespace, labels) for one resource: what the
// adapter needs to turn `*` + labelSelector into names without a list call per request.
// It asks for PartialObjectMetadata (falling back to full objects), pages the initial list,
// resumes watches from the last resourceVersion with bookmarks, and relists on 410 Gone.
import { z } from "zod";
import type { Logger } from "../../log/logger.js";
import type { KubeClient } from "./client.js";

export interface ObjectMeta {
  name: string;
  namespace: string; // "" for cluster-scoped objects
  labels: Readonly<Record<string, string>>;
}

const metadataSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).nullable().optional(),
  resourceVersion: z.string().optional(),
});
const objectSchema = z.looseObject({ metadata: metadataSchema });
const listSchema = z.looseObject({
  metadata: z
    .looseObject({ resourceVersion: z.string().optional(), continue: z.string().optional() })
    .optional(),
  items: z.array(objectSchema).nullable(),
});
const eventSchema = z.looseObject({ type: z.string(), object: z.unknown() });
const statusSchema = z.looseObject({
  kind: z.literal("Status"),
  code: z.number().optional(),
  message: z.string().optional(),
});

const LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

export interface ReflectorOptions {
  client: KubeClient;
  /** Collection path: "/api/v1/pods", "/apis/apps/v1/deployments". */
  path: string;
  logger: Logger;
  pageSize?: number;
  /** Server-side watch timeout; the watch is re-opened after it. */
  watchTimeoutSeconds?: number;
}

export class MetadataReflector {
  private readonly byNamespace = new Map<string, Map<string, ObjectMeta>>();
  private resourceVersion = "";
  private hasSynced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private running = false;
  lastError: string | undefined;

  constructor(private readonly options: ReflectorOptions) {}

  get synced(): boolean {
    return this.hasSynced;
  }

  get size(): number {
    let n = 0;
    for (const m of this.byNamespace.values()) n += m.size;
    return n;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  stop(): void {
    this.abort.abort();
    this.running = false;
  }

  /** Resolves true once the first list has landed, false after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.hasSynced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.hasSynced), timeoutMs);
      timer.unref?.();
      this.syncWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
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

  private async run(): Promise<void> {
    let backoffMs = 250;
    while (!this.abort.signal.aborted) {
      const listed = await this.list();
      if (!listed) {
        await sleep(backoffMs, this.abort.signal);
        backoffMs = Math.min(backoffMs * 2, 30_000);
        continue;
      }
      backoffMs = 250;
      // Watch until the server says the resourceVersion is too old (relist) or we stop.
      while (!this.abort.signal.aborted) {
        const outcome = await this.watchOnce();
        if (outcome === "relist") break;
        if (outcome === "retry") await sleep(backoffMs, this.abort.signal);
      }
    }
  }

  private async list(): Promise<boolean> {
    const pageSize = this.options.pageSize ?? 500;
    const fresh = new Map<string, Map<string, ObjectMeta>>();
    let token = "";
    let rv = "";
    do {
      const query = `?limit=${pageSize}${token === "" ? "" : `&continue=${encodeURIComponent(token)}`}`;
      const page = await this.options.client.get(this.options.path + query, listSchema, LIST_ACCEPT);
      if (!page.ok) {
        this.lastError = page.message;
        this.options.logger.warn({ path: this.options.path, err: page.message }, "list failed; retrying");
        return false;
      }
      for (const item of page.value.items ?? []) add(fresh, toMeta(item.metadata));
      token = page.value.metadata?.continue ?? "";
      rv = page.value.metadata?.resourceVersion ?? rv;
    } while (token !== "" && !this.abort.signal.aborted);
    this.byNamespace.clear();
    for (const [ns, m] of fresh) this.byNamespace.set(ns, m);
    this.resourceVersion = rv;
    this.lastError = undefined;
    if (!this.hasSynced) {
      this.hasSynced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    return true;
  }

  private async watchOnce(): Promise<"relist" | "again" | "retry"> {
    const timeout = this.options.watchTimeoutSeconds ?? 300;
    const query = `?watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeout}&resourceVersion=${encodeURIComponent(this.resourceVersion)}`;
    let gone = false;
    const end = await this.options.client.watch(
      this.options.path + query,
      WATCH_ACCEPT,
      (raw) => {
        const event = eventSchema.safeParse(raw);
        if (!event.success) return;
        const { type, object } = event.data;
        if (type === "ERROR") {
          const status = statusSchema.safeParse(object);
          if (status.success && status.data.code === 410) gone = true;
          this.lastError = status.success ? (status.data.message ?? "watch error") : "watch error";
          return;
        }
        const parsed = objectSchema.safeParse(object);
        if (!parsed.success) return;
        const meta = parsed.data.metadata;
        if (meta.resourceVersion !== undefined) this.resourceVersion = meta.resourceVersion;
        if (type === "BOOKMARK") return;
        if (type === "DELETED") remove(this.byNamespace, toMeta(meta));
        else if (type === "ADDED" || type === "MODIFIED") add(this.byNamespace, toMeta(meta));
      },
      this.abort.signal,
    );
    if (gone || end.status === 410) return "relist";
    if (end.status === 200) return "again";
    if (!this.abort.signal.aborted)
      this.options.logger.debug({ path: this.options.path, reason: end.message }, "watch ended");
    // A watch that could not even start (expired resourceVersion answered as an error): relist.
    return end.status !== undefined && end.status >= 400 ? "relist" : "retry";
  }
}

function toMeta(m: z.infer<typeof metadataSchema>): ObjectMeta {
  return { name: m.name, namespace: m.namespace ?? "", labels: m.labels ?? {} };
}

function add(store: Map<string, Map<string, ObjectMeta>>, meta: ObjectMeta): void {
  let m = store.get(meta.namespace);
  if (m === undefined) store.set(meta.namespace, (m = new Map()));
  m.set(meta.name, meta);
}

function remove(store: Map<string, Map<string, ObjectMeta>>, meta: ObjectMeta): void {
  const m = store.get(meta.namespace);
  if (m === undefined) return;
  m.delete(meta.name);
  if (m.size === 0) store.delete(meta.namespace);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
