// One list+watch of one collection, the way client-go's reflector keeps an informer's cache:
// list in pages (limit/continue), then watch from the list's resourceVersion with bookmarks,
// resume each new watch from the last resourceVersion seen, and list again when the server
// says that version is gone (410 / Expired). Failures back off (250 ms doubling to 30 s).
// The reflector keeps one object per key (for update's `old` and delete), after `transform`
// when given — as client-go's informers do, so a cache that needs only some fields does not
// hold whole objects; callers keep the objects they need through the add/update/delete
// handlers, which also fire for what a relist changed.
import { z } from "zod";
import type { Logger } from "../log/logger.js";
import type { KubeClient } from "./client.js";
import { isGone, KubeError, type KubeResult } from "./errors.js";

const metadataSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  resourceVersion: z.string().optional(),
});
/** An object as the API sent it; only its metadata is checked here. */
export type RawObject = z.infer<typeof rawObjectSchema>;
const rawObjectSchema = z.looseObject({ metadata: metadataSchema });
const listSchema = z.looseObject({
  metadata: z
    .looseObject({ resourceVersion: z.string().optional(), continue: z.string().optional() })
    .optional(),
  items: z.array(rawObjectSchema).nullable().optional(),
});
const eventSchema = z.looseObject({ type: z.string(), object: z.unknown() });
const statusSchema = z.looseObject({
  kind: z.literal("Status"),
  code: z.number().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

export interface ReflectorHandlers {
  add?(obj: RawObject): void;
  update?(obj: RawObject, old: RawObject): void;
  delete?(obj: RawObject): void;
}

export interface ReflectorOptions {
  client: Pick<KubeClient, "get" | "watch">;
  /** Collection path: "/api/v1/pods", "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers". */
  path: string;
  labelSelector?: string | undefined;
  /** Accept header of the list and of the watch (e.g. to ask for PartialObjectMetadata). */
  listAccept?: string;
  watchAccept?: string;
  handlers: ReflectorHandlers;
  /** Applied to every object on arrival; the store and the handlers see only what it returns. */
  transform?: (obj: RawObject) => RawObject;
  logger: Logger;
  /** Items per list page (default 500). */
  pageSize?: number;
  /** Server-side watch timeout; the watch is re-opened after it (default 5 min). */
  watchTimeoutSeconds?: number;
  /** Deadline of one list page (default 60 s). */
  listTimeoutMs?: number;
  /** Back-off after failures (default 250 ms, doubling up to 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

type Outcome = "watch" | "relist" | "backoff-relist" | "backoff-watch";

export class Reflector {
  private readonly store = new Map<string, RawObject>();
  private resourceVersion = "";
  private hasSynced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  /** The last failure, cleared by the next successful list. */
  lastError: KubeError | undefined;

  constructor(private readonly options: ReflectorOptions) {}

  get synced(): boolean {
    return this.hasSynced;
  }

  /** The resourceVersion the next watch resumes from. */
  get lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  get size(): number {
    return this.store.size;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const w of this.syncWaiters.splice(0)) w();
    await this.loop;
  }

  /** Resolves true once the first list has landed; false after `timeoutMs` or when stopped. */
  waitForSync(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.hasSynced) return Promise.resolve(true);
    if (this.abort.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => resolve(this.hasSynced), timeoutMs)
        : undefined;
      timer?.unref?.();
      this.syncWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.hasSynced);
      });
    });
  }

  private async run(): Promise<void> {
    const initial = this.options.initialBackoffMs ?? 250;
    const max = this.options.maxBackoffMs ?? 30_000;
    let backoffMs = initial;
    const signal = this.abort.signal;
    let next: Outcome = "relist";
    while (!signal.aborted) {
      if (next === "backoff-relist" || next === "backoff-watch") {
        await sleep(backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, max);
        if (signal.aborted) break;
      }
      if (next === "relist" || next === "backoff-relist") {
        const listed = await this.list();
        if (!listed.ok) {
          if (!signal.aborted) this.fail(listed.error, "list failed; retrying");
          next = "backoff-relist";
          continue;
        }
        backoffMs = initial;
      }
      next = await this.watchOnce();
    }
  }

  private fail(error: KubeError, what: string): void {
    this.lastError = error;
    this.options.logger.warn({ path: this.options.path, err: error.message, status: error.status }, what);
  }

  private async list(): Promise<KubeResult<void>> {
    const pageSize = this.options.pageSize ?? 500;
    const fresh = new Map<string, RawObject>();
    let token = "";
    let rv = "";
    do {
      const page = await this.options.client.get(this.options.path, listSchema, {
        query: {
          limit: String(pageSize),
          continue: token === "" ? undefined : token,
          labelSelector: this.options.labelSelector === "" ? undefined : this.options.labelSelector,
        },
        ...(this.options.listAccept !== undefined ? { accept: this.options.listAccept } : {}),
        timeoutMs: this.options.listTimeoutMs ?? 60_000,
      });
      if (!page.ok) return page;
      const transform = this.options.transform;
      for (const item of page.value.items ?? []) fresh.set(key(item), transform ? transform(item) : item);
      token = page.value.metadata?.continue ?? "";
      rv = page.value.metadata?.resourceVersion ?? rv;
    } while (token !== "" && !this.abort.signal.aborted);
    if (this.abort.signal.aborted) return { ok: true, value: undefined };
    this.replace(fresh);
    this.resourceVersion = rv;
    this.lastError = undefined;
    if (!this.hasSynced) {
      this.hasSynced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    return { ok: true, value: undefined };
  }

  /** Makes the store what a list returned, telling the handlers what changed. */
  private replace(fresh: Map<string, RawObject>): void {
    const { handlers } = this.options;
    for (const [k, old] of this.store) {
      if (!fresh.has(k)) {
        this.store.delete(k);
        handlers.delete?.(old);
      }
    }
    for (const [k, obj] of fresh) this.upsert(k, obj);
  }

  private upsert(k: string, obj: RawObject): void {
    const old = this.store.get(k);
    this.store.set(k, obj);
    if (old === undefined) this.options.handlers.add?.(obj);
    else if (
      old.metadata.resourceVersion !== obj.metadata.resourceVersion ||
      obj.metadata.resourceVersion === undefined
    )
      this.options.handlers.update?.(obj, old);
  }

  private async watchOnce(): Promise<Outcome> {
    let failure: KubeError | undefined;
    const end = await this.options.client.watch(this.options.path, {
      query: {
        watch: "1",
        allowWatchBookmarks: "true",
        timeoutSeconds: String(this.options.watchTimeoutSeconds ?? 300),
        resourceVersion: this.resourceVersion,
        labelSelector: this.options.labelSelector === "" ? undefined : this.options.labelSelector,
      },
      ...(this.options.watchAccept !== undefined ? { accept: this.options.watchAccept } : {}),
      signal: this.abort.signal,
      onEvent: (raw) => {
        if (failure !== undefined) return "stop";
        const event = eventSchema.safeParse(raw);
        if (!event.success) return undefined;
        const { type, object } = event.data;
        if (type === "ERROR") {
          const s = statusSchema.safeParse(object);
          const status = s.success ? (s.data.code ?? 0) : 0;
          failure = new KubeError(
            "api",
            s.success ? (s.data.message ?? "watch error") : "watch error",
            status,
            s.success ? s.data.reason : undefined,
          );
          return "stop"; // the server ends the watch after an ERROR; do not wait for it
        }
        const parsed = rawObjectSchema.safeParse(object);
        if (!parsed.success) return undefined;
        const obj = this.options.transform ? this.options.transform(parsed.data) : parsed.data;
        if (obj.metadata.resourceVersion !== undefined) this.resourceVersion = obj.metadata.resourceVersion;
        if (type === "BOOKMARK") return undefined;
        const k = key(obj);
        if (type === "DELETED") {
          const old = this.store.get(k);
          this.store.delete(k);
          this.options.handlers.delete?.(old ?? obj);
        } else if (type === "ADDED" || type === "MODIFIED") this.upsert(k, obj);
        return undefined;
      },
    });
    if (this.abort.signal.aborted) return "watch";
    const error = failure ?? (end.ok ? undefined : end.error);
    if (error === undefined) return "watch"; // the server's timeout: resume from the last resourceVersion
    if (isGone(error)) {
      this.options.logger.debug({ path: this.options.path }, "resourceVersion too old; listing again");
      return "relist";
    }
    this.fail(error, "watch failed");
    // An API error (forbidden, the resource went away…) is answered by listing again; a lost
    // connection by watching again from where it was.
    return error.kind === "api" ? "backoff-relist" : "backoff-watch";
  }
}

function key(obj: RawObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
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
