// StaleControllerConsistencyHPA (beta, on in Kubernetes 1.37): remember the resourceVersion of
// our own last write to each HPA, and do not reconcile it again until the HPA cache has caught up
// with that version. A sync on an older cache would see its own previous status (and history
// annotation) missing, and its status update, based on that stale copy, would conflict.
// Upstream's pkg/controller/util/consistency, for the one resource the HPA controller writes.

/** Why a reconcile waits: the cache is behind our own write. */
export interface StaleCache {
  wroteResourceVersion: string;
  readResourceVersion: string;
}

interface Written {
  uid: string | undefined;
  resourceVersion: string;
}

/**
 * Compares two resourceVersions as the API server orders them (decimal integers without leading
 * zeros); undefined when either is not one, as upstream then lets the sync go ahead.
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  const valid = (rv: string) => /^[1-9][0-9]*$/.test(rv);
  if (!valid(a) || !valid(b)) return undefined;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class ConsistencyStore {
  private readonly written = new Map<string, Written>();

  /** A write of ours to the HPA `key` returned this resourceVersion; only a newer one replaces it. */
  wroteAt(key: string, uid: string | undefined, resourceVersion: string | undefined): void {
    if (resourceVersion === undefined || resourceVersion === "") return;
    const known = this.written.get(key);
    if (known !== undefined && known.uid === uid) {
      const c = compareResourceVersions(known.resourceVersion, resourceVersion);
      if (c !== undefined && c >= 0) return;
    }
    this.written.set(key, { uid, resourceVersion });
  }

  /** Forget the HPA (deleted); with a uid, only that incarnation of it. */
  clear(key: string, uid?: string): void {
    const known = this.written.get(key);
    if (known !== undefined && (uid === undefined || known.uid === uid)) this.written.delete(key);
  }

  /**
   * undefined when the cache (caught up with `readResourceVersion`) has seen our last write, which
   * is then forgotten; otherwise what is missing. An unknown or unordered version never holds a sync.
   */
  ensureReady(key: string, readResourceVersion: string | undefined): StaleCache | undefined {
    const known = this.written.get(key);
    if (known === undefined) return undefined;
    if (readResourceVersion !== undefined && readResourceVersion !== "") {
      const c = compareResourceVersions(known.resourceVersion, readResourceVersion);
      if (c !== undefined && c > 0)
        return { wroteResourceVersion: known.resourceVersion, readResourceVersion };
    }
    this.written.delete(key);
    return undefined;
  }

  clearAll(): void {
    this.written.clear();
  }
}
