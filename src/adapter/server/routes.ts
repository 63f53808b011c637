// Which endpoint a request path names. Pure: a path in, a route out. The shapes follow the
// paths custom-metrics-apiserver and metrics-server serve, so clients built for them work.

export const CUSTOM_GROUP = "custom.metrics.k8s.io";
export const EXTERNAL_GROUP = "external.metrics.k8s.io";
export const RESOURCE_GROUP = "metrics.k8s.io";

export type CustomVersion = "v1beta1" | "v1beta2";
export const CUSTOM_VERSIONS: readonly CustomVersion[] = ["v1beta2", "v1beta1"]; // preferred first

export type HealthEndpoint = "healthz" | "livez" | "readyz";

export type Route =
  | { kind: "root" }
  | { kind: "apis" }
  | { kind: "group"; group: string }
  | { kind: "groupVersion"; group: string; version: string }
  /** `<resource>/<name|*>/<metric>`, namespaced or cluster-scoped; resource as written ("deployments.apps"). */
  | {
      kind: "customObject";
      version: CustomVersion;
      namespace?: string;
      resource: string;
      name: string;
      metric: string;
    }
  /** `namespaces/<ns>/metrics/<metric>`: a metric describing the namespace itself. */
  | { kind: "customNamespace"; version: CustomVersion; namespace: string; metric: string }
  | { kind: "external"; namespace: string; metric: string }
  | { kind: "podMetrics"; namespace?: string; name?: string }
  | { kind: "nodeMetrics"; name?: string }
  | { kind: "openapiV2" }
  | { kind: "openapiV3" }
  | { kind: "openapiV3GroupVersion"; group: string; version: string }
  | { kind: "health"; endpoint: HealthEndpoint; check?: string }
  | { kind: "metrics" }
  | { kind: "version" };

export type RouteResult =
  { ok: true; route: Route } | { ok: false; reason: "NotFound" | "BadRequest"; message: string };

const notFound: RouteResult = {
  ok: false,
  reason: "NotFound",
  message: "the server could not find the requested resource",
};

function splitPath(pathname: string): string[] | undefined {
  const raw = pathname.split("/").filter((s) => s.length > 0);
  const out: string[] = [];
  for (const s of raw) {
    try {
      out.push(s.includes("%") ? decodeURIComponent(s) : s);
    } catch {
      return undefined;
    }
  }
  return out;
}

const ok = (route: Route): RouteResult => ({ ok: true, route });

export function parseRoute(pathname: string): RouteResult {
  const parts = splitPath(pathname);
  if (parts === undefined) return { ok: false, reason: "BadRequest", message: `malformed path: ${pathname}` };
  const [first, ...rest] = parts;
  switch (first) {
    case undefined:
      return ok({ kind: "root" });
    case "healthz":
    case "livez":
    case "readyz":
      if (rest.length > 1) return notFound;
      return ok(
        rest[0] === undefined
          ? { kind: "health", endpoint: first }
          : { kind: "health", endpoint: first, check: rest[0] },
      );
    case "metrics":
      return rest.length === 0 ? ok({ kind: "metrics" }) : notFound;
    case "version":
      return rest.length === 0 ? ok({ kind: "version" }) : notFound;
    case "openapi":
      return parseOpenAPI(rest);
    case "apis":
      return parseApis(rest);
    default:
      return notFound;
  }
}

function parseOpenAPI(rest: string[]): RouteResult {
  if (rest.length === 1 && rest[0] === "v2") return ok({ kind: "openapiV2" });
  if (rest[0] !== "v3") return notFound;
  if (rest.length === 1) return ok({ kind: "openapiV3" });
  if (rest.length === 4 && rest[1] === "apis")
    return ok({ kind: "openapiV3GroupVersion", group: rest[2]!, version: rest[3]! });
  return notFound;
}

function parseApis(rest: string[]): RouteResult {
  const [group, version, ...tail] = rest;
  if (group === undefined) return ok({ kind: "apis" });
  if (version === undefined) return ok({ kind: "group", group });
  if (tail.length === 0) return ok({ kind: "groupVersion", group, version });
  switch (group) {
    case CUSTOM_GROUP:
      if (version !== "v1beta1" && version !== "v1beta2") return notFound;
      return parseCustom(version, tail);
    case EXTERNAL_GROUP:
      if (version !== "v1beta1") return notFound;
      if (tail.length === 3 && tail[0] === "namespaces")
        return ok({ kind: "external", namespace: tail[1]!, metric: tail[2]! });
      return notFound;
    case RESOURCE_GROUP:
      if (version !== "v1beta1") return notFound;
      return parseResource(tail);
    default:
      return notFound;
  }
}

function parseCustom(version: CustomVersion, tail: string[]): RouteResult {
  // Segment counts decide the shape, as upstream's three routes do:
  //   3: <resource>/<name>/<metric>                       (cluster-scoped objects, incl. namespaces/<ns>/<metric>)
  //   4: namespaces/<ns>/metrics/<metric>                 (the namespace itself)
  //   5: namespaces/<ns>/<resource>/<name>/<metric>       (namespaced objects)
  if (tail.length === 3) {
    const [resource, name, metric] = tail as [string, string, string];
    return ok({ kind: "customObject", version, resource, name, metric });
  }
  if (tail.length === 4 && tail[0] === "namespaces" && tail[2] === "metrics") {
    return ok({ kind: "customNamespace", version, namespace: tail[1]!, metric: tail[3]! });
  }
  if (tail.length === 5 && tail[0] === "namespaces") {
    const [, namespace, resource, name, metric] = tail as [string, string, string, string, string];
    return ok({ kind: "customObject", version, namespace, resource, name, metric });
  }
  return notFound;
}

function parseResource(tail: string[]): RouteResult {
  if (tail[0] === "nodes" && tail.length <= 2)
    return ok(tail[1] === undefined ? { kind: "nodeMetrics" } : { kind: "nodeMetrics", name: tail[1] });
  if (tail[0] === "pods" && tail.length === 1) return ok({ kind: "podMetrics" });
  if (tail[0] === "namespaces" && tail[2] === "pods" && (tail.length === 3 || tail.length === 4)) {
    const namespace = tail[1]!;
    return ok(
      tail[3] === undefined
        ? { kind: "podMetrics", namespace }
        : { kind: "podMetrics", namespace, name: tail[3] },
    );
  }
  return notFound;
}

/** "deployments.apps" → {resource: "deployments", group: "apps"}; "pods" → core group. */
export function splitGroupResource(resource: string): { group: string; resource: string } {
  const dot = resource.indexOf(".");
  if (dot < 0) return { group: "", resource };
  return { resource: resource.slice(0, dot), group: resource.slice(dot + 1) };
}
