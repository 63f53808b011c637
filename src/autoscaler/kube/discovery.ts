// API discovery: which resource (plural name, scope, scale subresource) a kind names, the way a
// RESTMapper answers it for kube-controller-manager. Resource lists are cached per group/version
// and looked up again (at most every `missRefreshMs`) when a kind is not found, so newly
// installed CRDs are picked up without a restart.
import { z } from "zod";
import { isNotFound, seg, type KubeHttp } from "./rest.js";

const apiResourceListSchema = z.looseObject({
  groupVersion: z.string(),
  resources: z.array(
    z.looseObject({
      name: z.string(),
      kind: z.string(),
      namespaced: z.boolean(),
    }),
  ),
});
const apiGroupSchema = z.looseObject({
  name: z.string(),
  versions: z.array(z.looseObject({ groupVersion: z.string(), version: z.string() })),
  preferredVersion: z.looseObject({ groupVersion: z.string(), version: z.string() }).optional(),
});

export interface ResourceInfo {
  group: string;
  version: string;
  /** the plural resource name, e.g. "deployments" */
  resource: string;
  kind: string;
  namespaced: boolean;
  hasScale: boolean;
}

export class DiscoveryError extends Error {
  override readonly name = "DiscoveryError";
}

/** "apps/v1" → { group: "apps", version: "v1" }; "v1" → core; "" → core, any version. */
export function parseGroupVersion(apiVersion: string | undefined): { group: string; version: string } {
  const s = (apiVersion ?? "").trim();
  if (s === "") return { group: "", version: "" };
  const parts = s.split("/");
  if (parts.length === 1) return { group: "", version: parts[0] ?? "" };
  if (parts.length === 2 && parts[0] !== "" && parts[1] !== "") return { group: parts[0] ?? "", version: parts[1] ?? "" };
  throw new DiscoveryError(`unexpected GroupVersion string: ${s}`);
}

/** The path prefix of a group/version: /api/v1 or /apis/<group>/<version>. */
export function groupVersionPath(group: string, version: string): string {
  return group === "" ? `/api/${seg(version)}` : `/apis/${seg(group)}/${seg(version)}`;
}

interface CacheEntry {
  fetchedAt: number;
  byKind: Map<string, ResourceInfo>;
}

export interface ResourceMapper {
  resolve(apiVersion: string | undefined, kind: string): Promise<ResourceInfo>;
}

export class Discovery implements ResourceMapper {
  private readonly lists = new Map<string, CacheEntry>();
  private readonly preferred = new Map<string, { fetchedAt: number; versions: string[] }>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly http: KubeHttp,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 10 * 60_000,
    private readonly missRefreshMs = 10_000,
  ) {}

  async resolve(apiVersion: string | undefined, kind: string): Promise<ResourceInfo> {
    const { group, version } = parseGroupVersion(apiVersion);
    const versions = version !== "" ? [version] : [];
    // the named version first, then the group's other versions (a RESTMapper maps a GroupKind in any version)
    for (const v of await this.groupVersions(group)) if (!versions.includes(v)) versions.push(v);
    for (const v of versions) {
      const info = await this.lookup(group, v, kind);
      if (info !== undefined) return info;
    }
    throw new DiscoveryError(`no matches for kind "${kind}" in group "${group}"`);
  }

  private async lookup(group: string, version: string, kind: string): Promise<ResourceInfo | undefined> {
    const gv = `${group}/${version}`;
    let entry = this.lists.get(gv);
    const now = this.now();
    const stale = entry === undefined || now - entry.fetchedAt > this.ttlMs;
    const missedLongAgo = entry !== undefined && !entry.byKind.has(kind) && now - entry.fetchedAt > this.missRefreshMs;
    if (stale || missedLongAgo) {
      try {
        entry = await this.once(`list:${gv}`, () => this.fetchList(group, version));
      } catch (err) {
        if (entry === undefined) {
          if (isNotFound(err)) return undefined; // the group/version is not served
          throw err;
        }
      }
    }
    return entry?.byKind.get(kind);
  }

  private async fetchList(group: string, version: string): Promise<CacheEntry> {
    const list = apiResourceListSchema.parse(await this.http.request("GET", groupVersionPath(group, version)));
    const names = new Set(list.resources.map((r) => r.name));
    const byKind = new Map<string, ResourceInfo>();
    for (const r of list.resources) {
      if (r.name.includes("/")) continue;
      if (byKind.has(r.kind)) continue;
      byKind.set(r.kind, { group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced, hasScale: names.has(`${r.name}/scale`) });
    }
    const entry = { fetchedAt: this.now(), byKind };
    this.lists.set(`${group}/${version}`, entry);
    return entry;
  }

  private async groupVersions(group: string): Promise<string[]> {
    if (group === "") return ["v1"];
    const cached = this.preferred.get(group);
    if (cached !== undefined && this.now() - cached.fetchedAt < this.ttlMs) return cached.versions;
    try {
      const g = apiGroupSchema.parse(await this.once(`group:${group}`, () => this.http.request("GET", `/apis/${seg(group)}`)));
      const versions = [g.preferredVersion?.version, ...g.versions.map((v) => v.version)].filter((v): v is string => v !== undefined);
      const uniq = [...new Set(versions)];
      this.preferred.set(group, { fetchedAt: this.now(), versions: uniq });
      return uniq;
    } catch {
      return cached?.versions ?? [];
    }
  }

  /** Collapse concurrent identical discovery calls (many HPAs resolve the same kind at start). */
  private once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.inflight.get(key);
    if (existing !== undefined) return existing as Promise<T>;
    const p = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}
