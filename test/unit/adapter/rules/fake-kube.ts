// A ResourceMapper over a fixed table and an ObjectLister over fixed objects, for unit tests.
import { parseSelector, selectorMatches } from "../../../../src/kube/selector.js";
import type {
  ObjectLister,
  ObjectMeta,
  ResourceMapper,
  ResourceMapping,
  Result,
} from "../../../../src/adapter/provider.js";

const TABLE: {
  resource: string;
  singular: string;
  kind: string;
  group: string;
  version: string;
  namespaced: boolean;
}[] = [
  { resource: "pods", singular: "pod", kind: "Pod", group: "", version: "v1", namespaced: true },
  {
    resource: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    group: "",
    version: "v1",
    namespaced: false,
  },
  { resource: "nodes", singular: "node", kind: "Node", group: "", version: "v1", namespaced: false },
  { resource: "services", singular: "service", kind: "Service", group: "", version: "v1", namespaced: true },
  {
    resource: "deployments",
    singular: "deployment",
    kind: "Deployment",
    group: "apps",
    version: "v1",
    namespaced: true,
  },
  {
    resource: "ingresses",
    singular: "ingress",
    kind: "Ingress",
    group: "networking.k8s.io",
    version: "v1",
    namespaced: true,
  },
];

export const fakeMapper: ResourceMapper = {
  resolve(text: string): ResourceMapping | undefined {
    const [name, ...groupParts] = text.split(".");
    const group = groupParts.join(".");
    const named = (r: (typeof TABLE)[number]): boolean =>
      r.resource === name || r.singular === name || r.kind.toLowerCase() === name;
    const row =
      group !== ""
        ? TABLE.find((r) => named(r) && r.group === group)
        : (TABLE.find((r) => named(r) && r.group === "") ?? TABLE.find(named));
    if (!row) return undefined;
    return {
      groupResource: { group: row.group, resource: row.resource },
      kind: row.kind,
      version: row.version,
      namespaced: row.namespaced,
    };
  },
};

export function fakeLister(objects: Record<string, ObjectMeta[]>): ObjectLister & { calls: number } {
  const find = (req: {
    groupResource: { group: string; resource: string };
    namespace?: string;
    selector: string;
  }): Result<ObjectMeta[]> => {
    const key = req.groupResource.group
      ? `${req.groupResource.resource}.${req.groupResource.group}`
      : req.groupResource.resource;
    const sel = parseSelector(req.selector);
    if (!sel.ok) return { ok: false, error: { kind: "BadRequest", message: sel.error } };
    return {
      ok: true,
      value: (objects[key] ?? []).filter(
        (o) =>
          (req.namespace === undefined || o.namespace === req.namespace) &&
          selectorMatches(sel.selector, o.labels),
      ),
    };
  };
  const lister = {
    calls: 0,
    async listNames(req: Parameters<ObjectLister["listNames"]>[0]) {
      lister.calls++;
      const r = find(req);
      return r.ok ? { ok: true as const, value: r.value.map((o) => o.name) } : r;
    },
    async listObjects(req: Parameters<ObjectLister["listNames"]>[0]) {
      lister.calls++;
      return find(req);
    },
  };
  return lister;
}
