// The authorization attributes of a request, derived from its path the way the generic
// apiserver's request-info resolver does, because custom-metrics-apiserver and metrics-server
// authorize with exactly those attributes and operators' RBAC rules are written against them:
//   GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/*/http_requests
//     → verb get, group custom.metrics.k8s.io, resource pods, name *, subresource http_requests
//   GET /apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_depth
//     → verb list, resource queue_depth
//   GET /apis, /openapi/v2, /apis/<group>/<version> → non-resource, verb get
import type { RequestAttributes } from "./types.js";

// Subresources of a namespace object itself; anything else after namespaces/<ns>/ is a namespaced resource.
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

const VERBS: Record<string, string> = {
  GET: "get",
  HEAD: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

export function requestAttributes(method: string, pathname: string): RequestAttributes {
  const nonResource: RequestAttributes = {
    resourceRequest: false,
    verb: method.toLowerCase(),
    path: pathname,
  };
  let parts = pathname.split("/").filter((p) => p.length > 0);
  // Only /apis/<group>/<version>/<something> addresses resources; /api is not served here.
  if (parts[0] !== "apis" || parts.length < 4) return nonResource;
  let decoded: string[];
  try {
    decoded = parts.map((p) => (p.includes("%") ? decodeURIComponent(p) : p));
  } catch {
    return nonResource;
  }
  parts = decoded.slice(3);
  const group = decoded[1]!;
  const version = decoded[2]!;
  let verb = VERBS[method] ?? method.toLowerCase();
  let namespace = "";
  if (parts[0] === "namespaces") {
    if (parts.length > 1) {
      namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  const resource = parts[0] ?? "";
  const name = parts[1] ?? "";
  const subresource = parts.length >= 3 ? parts[2]! : "";
  if (verb === "get" && name === "") verb = "list";
  return { resourceRequest: true, verb, group, version, resource, subresource, name, namespace };
}

/** "pods/http_requests" style resource name for messages. */
export function describeResource(a: Extract<RequestAttributes, { resourceRequest: true }>): string {
  return a.subresource === "" ? a.resource : `${a.resource}/${a.subresource}`;
}

/** kube-apiserver's Forbidden message, so operators recognise it. */
export function forbiddenMessage(user: string, a: RequestAttributes, reason: string): string {
  const why = reason === "" ? "" : `: ${reason}`;
  if (!a.resourceRequest) return `forbidden: User "${user}" cannot ${a.verb} path "${a.path}"${why}`;
  const target = `${a.resource}${a.group === "" ? "" : "." + a.group}${a.name === "" ? "" : ` "${a.name}"`}`;
  const scope = a.namespace === "" ? "at the cluster scope" : `in the namespace "${a.namespace}"`;
  return `${target} is forbidden: User "${user}" cannot ${a.verb} resource "${describeResource(a)}" in API group "${a.group}" ${scope}${why}`;
}
