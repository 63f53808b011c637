// ResourceMapper from API discovery: every resource the cluster serves, by plural, singular
// and kind (lower case), each also as "<name>.<group>". Built from /api/v1, /apis and each
// group's preferred version; refreshed periodically, and early (rate-limited) when asked for
// a name it does not know, so CRDs installed after start-up resolve too.
import { z } from "zod";
import type { Logger } from "../../log/logger.js";
import type { ResourceMapper, ResourceMapping } from "../provider.js";
import type { KubeClient } from "./client.js";

const resourceListSchema = z.looseObject({
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
const groupListSchema = z.looseObject({
  groups: z.array(
    z.looseObject({
      name: z.string(),
      preferredVersion: z.looseObject({ groupVersion: z.string(), version: z.string() }).optional(),
      versions: z.array(z.looseObject({ groupVersion: z.string(), version: z.string() })),
    }),
  ),
});

export type APIResourceList = z.infer<typeof resourceListSchema>;

/** The lookup table of one discovery run (pure: tested without a cluster). */
export function buildMappings(lists: APIResourceList[]): Map<string, ResourceMapping> {
  const table = new Map<string, ResourceMapping>();
  // Lists come core first, then in the aggregator's priority order: the first claim of a
  // bare name wins ("events" → core, not events.k8s.io).
  for (const list of lists) {
    const slash = list.groupVersion.indexOf("/");
    const group = slash < 0 ? "" : list.groupVersion.slice(0, slash);
    const version = slash < 0 ? list.groupVersion : list.groupVersion.slice(slash + 1);
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

export interface DiscoveryMapperOptions {
  client: KubeClient;
  logger: Logger;
  refreshIntervalMs?: number;
  onRun?: (ok: boolean, seconds: number) => void;
}

export class DiscoveryResourceMapper implements ResourceMapper {
  private table = new Map<string, ResourceMapping>();
  private timer: NodeJS.Timeout | undefined;
  private lastRefresh = 0;
  private refreshing: Promise<boolean> | undefined;
  private everSucceeded = false;
  lastError: string | undefined;

  constructor(private readonly options: DiscoveryMapperOptions) {}

  get ready(): boolean {
    return this.everSucceeded;
  }

  /** Runs discovery once (resolves false if it failed) and then every refresh interval. */
  async start(): Promise<boolean> {
    const ok = await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs ?? 300_000);
    this.timer.unref();
    return ok;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  resolve(resource: string): ResourceMapping | undefined {
    const key = resource.toLowerCase();
    const found = this.table.get(key);
    // An unknown name may be a CRD installed since the last run: look again, at most every 10 s.
    if (found === undefined && Date.now() - this.lastRefresh > 10_000) void this.refresh();
    return found;
  }

  /** Every mapping (one per resource). */
  mappings(): ResourceMapping[] {
    return [...new Set(this.table.values())];
  }

  refresh(): Promise<boolean> {
    if (this.refreshing !== undefined) return this.refreshing;
    this.lastRefresh = Date.now();
    this.refreshing = this.discover().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async discover(): Promise<boolean> {
    const started = performance.now();
    const { client, logger } = this.options;
    const fail = (message: string): boolean => {
      this.lastError = message;
      logger.warn({ err: message }, "API discovery failed");
      this.options.onRun?.(false, (performance.now() - started) / 1000);
      return false;
    };
    const core = await client.get("/api/v1", resourceListSchema);
    if (!core.ok) return fail(core.message);
    const groups = await client.get("/apis", groupListSchema);
    if (!groups.ok) return fail(groups.message);
    const lists: APIResourceList[] = [core.value];
    const fetched = await Promise.all(
      groups.value.groups.map((g) => {
        const gv = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
        return gv === undefined ? Promise.resolve(undefined) : client.get(`/apis/${gv}`, resourceListSchema);
      }),
    );
    for (const r of fetched) {
      // One unavailable aggregated API (even our own, early on) must not hide the others.
      if (r?.ok) lists.push(r.value);
    }
    this.table = buildMappings(lists);
    this.everSucceeded = true;
    this.lastError = undefined;
    this.options.onRun?.(true, (performance.now() - started) / 1000);
    return true;
  }
}
