// The REST mapper, from API discovery: which resource a name ("pods", "pod", "deployment.apps")
// or a kind ("apps/v1" Deployment) stands for, its version, scope and whether it has a scale
// subresource. Resource lists are cached per group/version: a full run (core, then each group's
// preferred version, in the aggregator's priority order) fills the name table and is repeated
// periodically; a name or kind that is not known triggers a new look (rate-limited), so CRDs
// installed after start-up resolve without a restart.
import { z } from "zod";
import type { Logger } from "../log/logger.js";
import { parseAnswer, seg, type KubeApi } from "./client.js";
import { fail, isNotFound, KubeError, ok, type KubeResult } from "./errors.js";

const apiResourceListSchema = z.looseObject({
  groupVersion: z.string(),
  resources: z.array(
    z.looseObject({
      name: z.string(),
      singularName: z.string().optional(),
      namespaced: z.boolean(),
      kind: z.string(),
      verbs: z.array(z.string()).optional(),
    }),
  ),
});
const groupVersionSchema = z.looseObject({ groupVersion: z.string(), version: z.string() });
const apiGroupSchema = z.looseObject({
  name: z.string(),
  preferredVersion: groupVersionSchema.optional(),
  versions: z.array(groupVersionSchema),
});
const apiGroupListSchema = z.looseObject({ groups: z.array(apiGroupSchema) });

export type APIResourceList = z.infer<typeof apiResourceListSchema>;

export interface GroupResource {
  group: string; // "" for the core group
  resource: string; // plural, lower case: "pods", "deployments"
}

/** A resource by name, as the adapter resolves names from Prometheus labels and URLs. */
export interface ResourceMapping {
  groupResource: GroupResource;
  kind: string; // "Pod"
  version: string; // preferred version: "v1"
  namespaced: boolean;
}

/** A resource by kind, as a scale target or a described object names it. */
export interface RESTMapping {
  group: string;
  version: string;
  /** the plural resource name, e.g. "deployments" */
  resource: string;
  kind: string;
  namespaced: boolean;
  hasScale: boolean;
}

/** Resolves kinds to resources (what the autoscaler needs; tests fake it). */
export interface KindMapper {
  restMapping(apiVersion: string | undefined, kind: string): Promise<KubeResult<RESTMapping>>;
}

/** "apps/v1" → { group: "apps", version: "v1" }; "v1" → core; "" → core, any version. */
export function parseGroupVersion(
  apiVersion: string | undefined,
): KubeResult<{ group: string; version: string }> {
  const s = (apiVersion ?? "").trim();
  if (s === "") return ok({ group: "", version: "" });
  const parts = s.split("/");
  if (parts.length === 1) return ok({ group: "", version: parts[0] ?? "" });
  if (parts.length === 2 && parts[0] !== "" && parts[1] !== "")
    return ok({ group: parts[0] ?? "", version: parts[1] ?? "" });
  return fail(new KubeError("config", `unexpected GroupVersion string: ${s}`));
}

/** The path prefix of a group/version: /api/v1 or /apis/<group>/<version>. */
export function groupVersionPath(group: string, version: string): string {
  return group === "" ? `/api/${seg(version)}` : `/apis/${seg(group)}/${seg(version)}`;
}

/** The lookup table of one discovery run by name (pure: tested without a cluster). */
export function buildMappings(lists: APIResourceList[]): Map<string, ResourceMapping> {
  const table = new Map<string, ResourceMapping>();
  // Lists come core first, then in the aggregator's priority order: the first claim of a
  // bare name wins ("events" → core, not events.k8s.io).
  for (const list of lists) {
    const { group, version } = splitGroupVersion(list.groupVersion);
    for (const r of list.resources) {
      if (r.name.includes("/")) continue; // subresources
      const mapping: ResourceMapping = {
        groupResource: { group, resource: r.name },
        kind: r.kind,
        version,
        namespaced: r.namespaced,
      };
      const names = new Set([r.name, (r.singularName ?? "") || r.kind.toLowerCase(), r.kind.toLowerCase()]);
      for (const n of names) {
        if (n === "") continue;
        const lower = n.toLowerCase();
        if (!table.has(lower)) table.set(lower, mapping);
        if (group !== "") {
          const qualified = `${lower}.${group}`;
          if (!table.has(qualified)) table.set(qualified, mapping);
        }
      }
    }
  }
  return table;
}

function splitGroupVersion(gv: string): { group: string; version: string } {
  const slash = gv.indexOf("/");
  return slash < 0 ? { group: "", version: gv } : { group: gv.slice(0, slash), version: gv.slice(slash + 1) };
}

/** The kinds of one resource list (first resource of a kind wins; subresources only mark scale). */
function byKind(list: APIResourceList): Map<string, RESTMapping> {
  const { group, version } = splitGroupVersion(list.groupVersion);
  const names = new Set(list.resources.map((r) => r.name));
  const out = new Map<string, RESTMapping>();
  for (const r of list.resources) {
    if (r.name.includes("/") || out.has(r.kind)) continue;
    out.set(r.kind, {
      group,
      version,
      resource: r.name,
      kind: r.kind,
      namespaced: r.namespaced,
      hasScale: names.has(`${r.name}/scale`),
    });
  }
  return out;
}

interface CachedList {
  fetchedAt: number;
  byKind: Map<string, RESTMapping>;
}

export interface RESTMapperOptions {
  client: KubeApi;
  logger: Logger;
  /** Full discovery runs this often once started (default 5 min). */
  refreshIntervalMs?: number;
  /** Cached resource lists and group versions are fetched again after this (default 10 min). */
  ttlMs?: number;
  /** An unknown name or kind looks again at most this often (default 10 s). */
  missRefreshMs?: number;
  onRun?: (ok: boolean, seconds: number) => void;
  now?: () => number;
}

export class RESTMapper implements KindMapper {
  private table = new Map<string, ResourceMapping>();
  private readonly lists = new Map<string, CachedList>();
  private readonly groupVersionsCache = new Map<string, { fetchedAt: number; versions: string[] }>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private lastRun = Number.NEGATIVE_INFINITY;
  private running: Promise<boolean> | undefined;
  private everSucceeded = false;
  private readonly now: () => number;
  /** The last full run's failure, cleared by the next success. */
  lastError: string | undefined;

  constructor(private readonly options: RESTMapperOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A full discovery run has succeeded at least once. */
  get ready(): boolean {
    return this.everSucceeded;
  }

  /** Runs full discovery once (resolves false if it failed) and then every refresh interval. */
  async start(): Promise<boolean> {
    const done = await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs ?? 300_000);
    this.timer.unref();
    return done;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Plural, singular or kind, lower case, optionally `.group`: "pods", "pod", "deployments.apps". */
  resolve(resource: string): ResourceMapping | undefined {
    const found = this.table.get(resource.toLowerCase());
    // An unknown name may be a CRD installed since the last run: look again, rate-limited.
    if (found === undefined && this.now() - this.lastRun > (this.options.missRefreshMs ?? 10_000))
      void this.refresh();
    return found;
  }

  /** Every mapping by name (one per resource). */
  mappings(): ResourceMapping[] {
    return [...new Set(this.table.values())];
  }

  /** One full discovery run (concurrent callers share it). */
  refresh(): Promise<boolean> {
    if (this.running !== undefined) return this.running;
    this.lastRun = this.now();
    this.running = this.discover().finally(() => (this.running = undefined));
    return this.running;
  }

  private async discover(): Promise<boolean> {
    const started = performance.now();
    const { logger } = this.options;
    const get = this.get.bind(this);
    const failed = (error: KubeError): boolean => {
      this.lastError = error.message;
      logger.warn({ err: error.message }, "API discovery failed");
      this.options.onRun?.(false, (performance.now() - started) / 1000);
      return false;
    };
    const core = await get("/api/v1", apiResourceListSchema);
    if (!core.ok) return failed(core.error);
    const groups = await get("/apis", apiGroupListSchema);
    if (!groups.ok) return failed(groups.error);
    const at = this.now();
    this.lists.set("/v1", { fetchedAt: at, byKind: byKind(core.value) });
    const lists: APIResourceList[] = [core.value];
    const fetched = await Promise.all(
      groups.value.groups.map((g) => {
        this.groupVersionsCache.set(g.name, { fetchedAt: at, versions: versionsOf(g) });
        const gv = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
        return gv === undefined ? Promise.resolve(undefined) : get(`/apis/${gv}`, apiResourceListSchema);
      }),
    );
    for (const r of fetched) {
      // One unavailable aggregated API (even our own, early on) must not hide the others.
      if (r?.ok) {
        lists.push(r.value);
        const { group, version } = splitGroupVersion(r.value.groupVersion);
        this.lists.set(`${group}/${version}`, { fetchedAt: at, byKind: byKind(r.value) });
      }
    }
    this.table = buildMappings(lists);
    this.everSucceeded = true;
    this.lastError = undefined;
    this.options.onRun?.(true, (performance.now() - started) / 1000);
    return true;
  }

  /**
   * The resource of a kind: in the named version first, then in the group's other versions
   * (as a RESTMapper maps a GroupKind in any version).
   */
  async restMapping(apiVersion: string | undefined, kind: string): Promise<KubeResult<RESTMapping>> {
    const gv = parseGroupVersion(apiVersion);
    if (!gv.ok) return gv;
    const { group, version } = gv.value;
    const versions = version !== "" ? [version] : [];
    for (const v of await this.groupVersions(group)) if (!versions.includes(v)) versions.push(v);
    for (const v of versions) {
      const found = await this.lookup(group, v, kind);
      if (!found.ok) return found;
      if (found.value !== undefined) return ok(found.value);
    }
    return fail(new KubeError("api", `no matches for kind "${kind}" in group "${group}"`, 404, "NotFound"));
  }

  private async lookup(
    group: string,
    version: string,
    kind: string,
  ): Promise<KubeResult<RESTMapping | undefined>> {
    const gv = `${group}/${version}`;
    let entry = this.lists.get(gv);
    const now = this.now();
    const stale = entry === undefined || now - entry.fetchedAt > (this.options.ttlMs ?? 600_000);
    const missedLongAgo =
      entry !== undefined &&
      !entry.byKind.has(kind) &&
      now - entry.fetchedAt > (this.options.missRefreshMs ?? 10_000);
    if (stale || missedLongAgo) {
      const r = await this.once(`list:${gv}`, () =>
        this.get(groupVersionPath(group, version), apiResourceListSchema),
      );
      if (r.ok) {
        entry = {
          fetchedAt: this.now(),
          byKind: byKind({ ...r.value, groupVersion: group === "" ? version : gv }),
        };
        this.lists.set(gv, entry);
      } else if (entry === undefined) {
        return isNotFound(r.error) ? ok(undefined) : r; // a group/version the server does not serve
      }
    }
    return ok(entry?.byKind.get(kind));
  }

  private async groupVersions(group: string): Promise<string[]> {
    if (group === "") return ["v1"];
    const cached = this.groupVersionsCache.get(group);
    if (cached !== undefined && this.now() - cached.fetchedAt < (this.options.ttlMs ?? 600_000))
      return cached.versions;
    const r = await this.once(`group:${group}`, () => this.get(`/apis/${seg(group)}`, apiGroupSchema));
    if (!r.ok) return cached?.versions ?? [];
    const versions = versionsOf(r.value);
    this.groupVersionsCache.set(group, { fetchedAt: this.now(), versions });
    return versions;
  }

  private async get<T>(path: string, schema: z.ZodType<T>): Promise<KubeResult<T>> {
    const r = await this.options.client.request("GET", path);
    return r.ok ? parseAnswer("GET", path, schema, r.value) : r;
  }

  /** Collapses concurrent identical discovery calls (many HPAs resolve the same kind at start). */
  private once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.inflight.get(key);
    if (existing !== undefined) return existing as Promise<T>;
    const p = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}

function versionsOf(g: z.infer<typeof apiGroupSchema>): string[] {
  return [
    ...new Set(
      [g.preferredVersion?.version, ...g.versions.map((v) => v.version)].filter((v) => v !== undefined),
    ),
  ];
}
