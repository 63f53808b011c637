// The scale selector of each HPA, per namespace (upstream's hpaSelectorStore, the
// HPAOptimizedSelectorStore gate): an HPA is registered selecting nothing when it is queued as new
// or changed, its selector is recorded by its own sync just before matching, and a selection is
// ambiguous when another HPA's selector also selects one of its pods.
import type { Pod } from "../../kube/objects.js";
import { parseSelector, selectorMatches, type ParsedSelector } from "../../kube/selector.js";

/** null: selects nothing (registered, no valid selector recorded yet) */
interface Entry {
  text: string;
  parsed: ParsedSelector | null;
}

export class HpaSelectors {
  private readonly byNamespace = new Map<string, Map<string, Entry>>();

  /** upstream's PutIfAbsent(…, labels.Nothing()): known from now on, selecting nothing until synced. */
  register(namespace: string, name: string): void {
    let ns = this.byNamespace.get(namespace);
    if (ns === undefined) this.byNamespace.set(namespace, (ns = new Map()));
    if (!ns.has(name)) ns.set(name, { text: "", parsed: null });
  }

  /**
   * upstream's PutIfPresent: record the selector a sync validated; false when the HPA is not
   * registered (deleted meanwhile). An empty or invalid selector fails validation before this
   * point upstream, so it leaves the entry as it was.
   */
  putIfPresent(namespace: string, name: string, text: string): boolean {
    const ns = this.byNamespace.get(namespace);
    const known = ns?.get(name);
    if (ns === undefined || known === undefined) return false;
    if (known.text === text || text === "") return true;
    const r = parseSelector(text);
    if (r.ok) ns.set(name, { text, parsed: r.selector });
    return true;
  }

  forget(namespace: string, name: string): void {
    const ns = this.byNamespace.get(namespace);
    ns?.delete(name);
    if (ns?.size === 0) this.byNamespace.delete(namespace);
  }

  clear(): void {
    this.byNamespace.clear();
  }

  /**
   * The other HPAs of the namespace whose selector also selects one of these pods: only those can
   * make the selection ambiguous, so the algorithm gets a short list instead of every HPA of the
   * namespace.
   */
  overlapping(namespace: string, name: string, pods: Pod[]): { name: string; selector: string }[] {
    const out: { name: string; selector: string }[] = [];
    const ns = this.byNamespace.get(namespace);
    if (ns === undefined || pods.length === 0) return out;
    for (const [other, sel] of ns) {
      if (other === name || sel.parsed === null) continue;
      const parsed = sel.parsed;
      if (pods.some((p) => selectorMatches(parsed, p.metadata.labels)))
        out.push({ name: other, selector: sel.text });
    }
    return out;
  }
}
