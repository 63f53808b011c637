// The scale selector each HPA's last sync saw, per namespace (upstream's hpaSelectors): an HPA's
// selection is ambiguous when another HPA's selector also selects one of its pods.
import type { Pod } from "../../kube/objects.js";
import { parseSelector, selectorMatches, type ParsedSelector } from "../../kube/selector.js";

export class HpaSelectors {
  private readonly byNamespace = new Map<
    string,
    Map<string, { text: string; parsed: ParsedSelector | null }>
  >();

  remember(namespace: string, name: string, text: string): void {
    let ns = this.byNamespace.get(namespace);
    if (ns === undefined) this.byNamespace.set(namespace, (ns = new Map()));
    const known = ns.get(name);
    if (known === undefined || known.text !== text) {
      const r = parseSelector(text);
      ns.set(name, { text, parsed: r.ok && text !== "" ? r.selector : null });
    }
  }

  forget(namespace: string, name: string): void {
    this.byNamespace.get(namespace)?.delete(name);
  }

  /**
   * The other HPAs of the namespace whose last-seen selector also selects one of these pods: only
   * those can make the selection ambiguous, so the algorithm gets a short list instead of every
   * HPA of the namespace.
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
