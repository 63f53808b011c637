// One request through the adapter: authenticate → authorize → route → provider → encode.
// Every answer is JSON (or health text); every failure is a Kubernetes Status; nothing a
// client sends or a provider returns can throw out of here.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../log/logger.js";
import type {
  CustomMetricsProvider,
  ExternalMetricsProvider,
  ProviderError,
  ResourceMetricsProvider,
} from "../provider.js";
import { RepeatFolder } from "../../log/fold.js";
import { forbiddenMessage, requestAttributes } from "../auth/attributes.js";
import type { Authenticator, Authorizer, UserInfo } from "../auth/types.js";
import {
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  rootPaths,
  type ServedAPIs,
} from "./api-discovery.js";
import {
  externalMetricValueList,
  metricValueList,
  nodeMetrics,
  nodeMetricsList,
  podMetrics,
  podMetricsList,
} from "./encode.js";
import { runHealth, type HealthChecks } from "./health.js";
import type { AdapterMetrics } from "./metrics.js";
import type { OpenAPIDocuments } from "./openapi.js";
import {
  CUSTOM_GROUP,
  EXTERNAL_GROUP,
  RESOURCE_GROUP,
  parseRoute,
  splitGroupResource,
  type Route,
} from "./routes.js";
import { canonicalSelector, toLabelSelector } from "./selectors.js";
import { failure, statusFromProviderError, type Status, type StatusDetails } from "./status.js";
import { RequestTiming } from "./timing.js";

export interface Providers {
  custom: CustomMetricsProvider;
  external: ExternalMetricsProvider;
  resource: ResourceMetricsProvider;
}

export interface HandlerOptions {
  providers: Providers;
  apis: ServedAPIs;
  authenticator: Authenticator;
  authorizer: Authorizer;
  health: HealthChecks;
  metrics: AdapterMetrics;
  openapi: OpenAPIDocuments;
  logger: Logger;
  /** Answered on /version as gitVersion. */
  version: string;
  now?: () => Date;
  /** How long repeats of one failure cause are folded before their count is logged. */
  failureLogIntervalMs?: number;
}

type Answer =
  | { kind: "json"; code: number; body: string; etag?: string; cache?: string; cause?: string }
  | { kind: "text"; code: number; body: string; contentType?: string };

const json = (value: unknown, code = 200, pretty = false): Answer => ({
  kind: "json",
  code,
  body: pretty ? JSON.stringify(value, null, 2) + "\n" : JSON.stringify(value),
});
const statusAnswer = (status: Status): Answer => ({
  kind: "json",
  code: status.code,
  body: JSON.stringify(status),
});
/** A provider's failure as a Status; its internal cause stays with the answer for the log. */
const providerAnswer = (error: ProviderError, details?: StatusDetails): Answer => {
  const status = statusFromProviderError(error, details);
  const a: Answer = { kind: "json", code: status.code, body: JSON.stringify(status) };
  if (error.kind === "Unavailable" && error.cause !== undefined) a.cause = error.cause;
  return a;
};

/** Failed requests are logged once per cause per this interval, then as a count. */
export const FAILURE_LOG_INTERVAL_MS = 60_000;

// Media types a client may ask for that we answer with plain JSON.
function acceptsJSON(accept: string | undefined): boolean {
  if (accept === undefined || accept === "") return true;
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";").map((s) => s.trim().toLowerCase());
    if (type !== "application/json" && type !== "*/*" && type !== "application/*") continue;
    // A JSON variant naming another kind (aggregated discovery, Table) is not plain JSON.
    if (params.some((p) => p.startsWith("as=") || p.startsWith("g="))) continue;
    if (params.some((p) => p === "q=0" || p === "q=0.0")) continue;
    return true;
  }
  return false;
}

/** Labels of the request metrics: bounded, never the object name or metric name. */
function metricLabels(route: Route | undefined): { group: string; version: string; resource: string } {
  if (route === undefined) return { group: "", version: "", resource: "unknown" };
  switch (route.kind) {
    case "customObject":
      return { group: CUSTOM_GROUP, version: route.version, resource: route.resource };
    case "customNamespace":
      return { group: CUSTOM_GROUP, version: route.version, resource: "namespaces" };
    case "external":
      return { group: EXTERNAL_GROUP, version: "v1beta1", resource: "*" };
    case "podMetrics":
      return { group: RESOURCE_GROUP, version: "v1beta1", resource: "pods" };
    case "nodeMetrics":
      return { group: RESOURCE_GROUP, version: "v1beta1", resource: "nodes" };
    case "apis":
    case "group":
    case "groupVersion":
    case "root":
      return { group: "", version: "", resource: "discovery" };
    case "openapiV2":
    case "openapiV3":
    case "openapiV3GroupVersion":
      return { group: "", version: "", resource: "openapi" };
    case "health":
      return { group: "", version: "", resource: route.endpoint };
    case "metrics":
      return { group: "", version: "", resource: "metrics" };
    case "version":
      return { group: "", version: "", resource: "version" };
  }
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function createRequestHandler(options: HandlerOptions): RequestListener {
  const { providers, apis, authenticator, authorizer, health, metrics, openapi, logger, version } = options;
  const now = options.now ?? (() => new Date());
  const versionInfo = JSON.stringify({
    major: "",
    minor: "",
    gitVersion: version,
    gitCommit: "",
    gitTreeState: "",
    buildDate: "",
    goVersion: "",
    compiler: "",
    platform: `${process.platform}/${process.arch}`,
  });

  const groupServed = (group: string): boolean =>
    (group === CUSTOM_GROUP && apis.custom) ||
    (group === EXTERNAL_GROUP && apis.external) ||
    (group === RESOURCE_GROUP && apis.resource);

  async function answer(
    req: IncomingMessage,
    route: Route,
    query: URLSearchParams | undefined,
    wait?: RequestTiming,
    caller?: UserInfo,
  ): Promise<Answer> {
    const pretty = query?.get("pretty") === "true";
    switch (route.kind) {
      case "root":
        return json(rootPaths(apis), 200, pretty);
      case "apis":
      case "group": {
        // The aggregator asks /apis for aggregated discovery (apidiscovery.k8s.io/v2) only;
        // 406 tells it to fall back to the legacy documents below.
        if (!acceptsJSON(req.headers.accept)) return notAcceptable(req.headers.accept);
        if (route.kind === "apis") return json(apiGroupList(apis), 200, pretty);
        const doc = apiGroupDocument(apis, route.group);
        return doc === undefined ? statusAnswer(notFound()) : json(doc, 200, pretty);
      }
      case "groupVersion": {
        if (!acceptsJSON(req.headers.accept)) return notAcceptable(req.headers.accept);
        const doc = apiResourceList(apis, route.group, route.version, {
          customMetrics: () => providers.custom.listCustomMetrics(),
          externalMetrics: () => providers.external.listExternalMetrics(),
        });
        return doc === undefined ? statusAnswer(notFound()) : json(doc, 200, pretty);
      }
      case "openapiV2":
        return { kind: "json", code: 200, body: openapi.v2.body, etag: openapi.v2.etag };
      case "openapiV3":
        return { kind: "json", code: 200, body: openapi.v3Index.body, etag: openapi.v3Index.etag };
      case "openapiV3GroupVersion": {
        const doc = openapi.v3.get(`apis/${route.group}/${route.version}`);
        if (doc === undefined) return statusAnswer(notFound());
        // A request naming the current hash may be cached forever (as kube-apiserver does).
        const cache = query?.get("hash") === doc.hash ? "public, immutable" : "no-cache, private";
        return { kind: "json", code: 200, body: doc.body, etag: doc.etag, cache };
      }
      case "health": {
        const result = runHealth(health, route.endpoint, route.check, query);
        if (result === undefined) return statusAnswer(notFound());
        return { kind: "text", code: result.code, body: result.body };
      }
      case "metrics": {
        const body = await metrics.registry.metrics();
        return { kind: "text", code: 200, body, contentType: metrics.registry.contentType };
      }
      case "version":
        return { kind: "json", code: 200, body: versionInfo };
      default:
        break;
    }
    if (!acceptsJSON(req.headers.accept)) return notAcceptable(req.headers.accept);
    const labelSelector = canonicalSelector(query?.get("labelSelector"), "labelSelector");
    if (!labelSelector.ok) return statusAnswer(failure("BadRequest", labelSelector.message));
    switch (route.kind) {
      case "customObject":
      case "customNamespace": {
        if (!apis.custom) return statusAnswer(notFound());
        const metricSelector = canonicalSelector(query?.get("metricLabelSelector"), "metricLabelSelector");
        if (!metricSelector.ok) return statusAnswer(failure("BadRequest", metricSelector.message));
        const groupResource =
          route.kind === "customObject"
            ? splitGroupResource(route.resource)
            : { group: "", resource: "namespaces" };
        const name = route.kind === "customObject" ? route.name : route.namespace;
        const namespace = route.kind === "customObject" ? route.namespace : undefined;
        const details = {
          name,
          group: CUSTOM_GROUP,
          kind: route.kind === "customObject" ? route.resource : "namespaces",
        };
        if (name === "*") {
          const result = await providers.custom.getMetricBySelector({
            namespace,
            groupResource,
            selector: labelSelector.selector,
            metric: route.metric,
            metricSelector: metricSelector.selector,
            wait,
            caller,
          });
          if (!result.ok) return providerAnswer(result.error, details);
          return json(metricValueList(route.version, result.value, toLabelSelector), 200, pretty);
        }
        const result = await providers.custom.getMetricByName({
          namespace,
          groupResource,
          name,
          metric: route.metric,
          metricSelector: metricSelector.selector,
          wait,
          caller,
        });
        if (!result.ok) return providerAnswer(result.error, details);
        return json(metricValueList(route.version, [result.value], toLabelSelector), 200, pretty);
      }
      case "external": {
        if (!apis.external) return statusAnswer(notFound());
        const result = await providers.external.getExternalMetric({
          namespace: route.namespace,
          metric: route.metric,
          metricSelector: labelSelector.selector,
          wait,
          caller,
        });
        if (!result.ok) return providerAnswer(result.error, { name: route.metric, group: EXTERNAL_GROUP });
        return json(externalMetricValueList(result.value), 200, pretty);
      }
      case "podMetrics": {
        if (!apis.resource) return statusAnswer(notFound());
        const request =
          route.name === undefined
            ? { namespace: route.namespace, selector: labelSelector.selector, wait }
            : { namespace: route.namespace, name: route.name, selector: "", wait };
        const result = await providers.resource.getPodMetrics(request);
        if (!result.ok)
          return providerAnswer(result.error, { name: route.name, group: RESOURCE_GROUP, kind: "pods" });
        if (route.name === undefined) return json(podMetricsList(result.value, now()), 200, pretty);
        const pod = result.value.find((p) => p.name === route.name);
        if (pod === undefined) {
          return statusAnswer(
            failure(
              "NotFound",
              `podmetrics.metrics.k8s.io "${route.namespace ?? ""}/${route.name}" not found`,
              { name: route.name, group: RESOURCE_GROUP, kind: "pods" },
            ),
          );
        }
        return json(podMetrics(pod, now()), 200, pretty);
      }
      case "nodeMetrics": {
        if (!apis.resource) return statusAnswer(notFound());
        const request =
          route.name === undefined
            ? { selector: labelSelector.selector, wait }
            : { name: route.name, selector: "", wait };
        const result = await providers.resource.getNodeMetrics(request);
        if (!result.ok)
          return providerAnswer(result.error, { name: route.name, group: RESOURCE_GROUP, kind: "nodes" });
        if (route.name === undefined) return json(nodeMetricsList(result.value, now()), 200, pretty);
        const node = result.value.find((n) => n.name === route.name);
        if (node === undefined) {
          return statusAnswer(
            failure("NotFound", `nodemetrics.metrics.k8s.io "${route.name}" not found`, {
              name: route.name,
              group: RESOURCE_GROUP,
              kind: "nodes",
            }),
          );
        }
        return json(nodeMetrics(node, now()), 200, pretty);
      }
      default:
        return statusAnswer(notFound());
    }
  }

  function send(req: IncomingMessage, res: ServerResponse, a: Answer, timing?: RequestTiming): number {
    if (a.kind === "json" && a.etag !== undefined && req.headers["if-none-match"] === a.etag) {
      res.writeHead(304, { ETag: a.etag });
      res.end();
      return 304;
    }
    const headers: Record<string, string | number> = {
      "Content-Type": a.kind === "json" ? "application/json" : (a.contentType ?? "text/plain; charset=utf-8"),
      "Content-Length": Buffer.byteLength(a.body),
      "Cache-Control": a.kind === "json" && a.cache !== undefined ? a.cache : "no-cache, private",
      "X-Content-Type-Options": "nosniff",
    };
    if (a.kind === "json" && a.etag !== undefined) headers.ETag = a.etag;
    if (timing !== undefined) headers["Server-Timing"] = timing.header();
    res.writeHead(a.code, headers);
    res.end(req.method === "HEAD" ? undefined : a.body);
    return a.code;
  }

  const debug = logger.isLevelEnabled("debug");
  const logFailure = (e: FailureEntry): void =>
    e.code === 503 ? logger.warn(e, "request failed") : logger.error(e, "request failed");
  const failures = new RepeatFolder<FailureEntry>(
    {
      first: logFailure,
      repeated: (e, r) =>
        (e.code === 503 ? logger.warn.bind(logger) : logger.error.bind(logger))(
          { ...e, repeated: r.count, firstAt: r.firstAt.toISOString(), lastAt: r.lastAt.toISOString() },
          "request failed (repeats folded)",
        ),
    },
    options.failureLogIntervalMs ?? FAILURE_LOG_INTERVAL_MS,
  );
  // Summaries of closed intervals are written even when no further failure comes.
  setInterval(() => failures.flush(), options.failureLogIntervalMs ?? FAILURE_LOG_INTERVAL_MS).unref();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? undefined : new URLSearchParams(url.slice(q + 1));
    const method = req.method ?? "GET";
    const routed = parseRoute(pathname);
    const route = routed.ok ? routed.route : undefined;
    const labels = metricLabels(route);
    const timing = route !== undefined && isMetricRoute(route) ? new RequestTiming(started) : undefined;
    let verb = "get";
    let code = 500;
    let user: UserInfo | undefined;
    try {
      let a: Answer;
      if (route?.kind === "health") {
        // Health endpoints are open, as kube servers' always-allow paths are.
        a =
          method === "GET" || method === "HEAD"
            ? await answer(req, route, query)
            : statusAnswer(methodNotAllowed());
      } else {
        const authn = await authenticator.authenticate(req);
        if (!authn.ok) {
          logger.debug({ path: pathname, reason: authn.message }, "request not authenticated");
          a = statusAnswer(failure("Unauthorized", "Unauthorized"));
        } else {
          user = authn.user;
          const attributes = requestAttributes(method, pathname);
          verb = attributes.verb;
          const decision = await authorizer.authorize(user, attributes);
          if (decision.decision === "deny") {
            a = statusAnswer(forbidden(user.name, attributes, decision.reason));
          } else if (decision.decision === "error") {
            a = statusAnswer(
              failure("InternalError", `Internal Server Error: "${pathname}": ${decision.message}`),
            );
          } else if (!routed.ok) {
            a = statusAnswer(
              routed.reason === "BadRequest" ? failure("BadRequest", routed.message) : notFound(),
            );
          } else if (method !== "GET" && method !== "HEAD") {
            a = statusAnswer(methodNotAllowed());
          } else if (route !== undefined && isGroupRoute(route) && !groupServed(routeGroup(route))) {
            a = statusAnswer(notFound());
          } else {
            a = await answer(req, route!, query, timing, user);
          }
        }
      }
      // Logged here, once per cause per interval: 503 is an outage of a dependency (warn), 500
      // a bug (error). An outage fails every request alike, so repeats are folded into a count.
      if (a.kind === "json" && a.code >= 500) {
        const entry: FailureEntry = { method, path: pathname, user: user?.name, code: a.code, body: a.body };
        if (a.cause !== undefined) entry.cause = a.cause;
        failures.note(`${a.code} ${a.cause ?? a.body}`, entry);
      }
      code = send(req, res, a, timing);
    } catch (err) {
      // A bug, not a client error: log it once with its context and answer 500.
      logger.error({ err, path: pathname, user: user?.name }, "request handler threw");
      if (!res.headersSent)
        code = send(req, res, statusAnswer(failure("InternalError", `Internal Server Error: "${pathname}"`)));
      else res.destroy();
    }
    // The resource segment of a refused or failed request is whatever the client wrote: keep
    // it out of the label set so nobody can grow our series by asking for made-up resources.
    const resource = route?.kind === "customObject" && code >= 400 && code < 500 ? "other" : labels.resource;
    const seconds = (performance.now() - started) / 1000;
    metrics.observeRequest(labels.group, labels.version, resource, verb, code, seconds);
    if (debug)
      logger.debug(
        { method, path: pathname, code, user: user?.name, ms: Math.round(seconds * 1e4) / 10 },
        "request",
      );
  }

  return (req, res) => {
    void handle(req, res);
  };
}

function isMetricRoute(route: Route): boolean {
  switch (route.kind) {
    case "customObject":
    case "customNamespace":
    case "external":
    case "podMetrics":
    case "nodeMetrics":
      return true;
    default:
      return false;
  }
}

function isGroupRoute(
  route: Route,
): route is Extract<Route, { kind: "group" | "groupVersion" | "openapiV3GroupVersion" }> {
  return route.kind === "group" || route.kind === "groupVersion" || route.kind === "openapiV3GroupVersion";
}
function routeGroup(
  route: Extract<Route, { kind: "group" | "groupVersion" | "openapiV3GroupVersion" }>,
): string {
  return route.group;
}

function notFound(): Status {
  return failure("NotFound", "the server could not find the requested resource");
}
function methodNotAllowed(): Status {
  return failure("MethodNotAllowed", "the server does not allow this method on the requested resource");
}
function notAcceptable(accept: string | undefined): Answer {
  return statusAnswer(
    failure(
      "NotAcceptable",
      `only the following media types are accepted: application/json (asked for ${accept ?? ""})`,
    ),
  );
}
function forbidden(
  userName: string,
  attributes: ReturnType<typeof requestAttributes>,
  reason: string,
): Status {
  const details = attributes.resourceRequest
    ? { name: attributes.name, group: attributes.group, kind: attributes.resource }
    : undefined;
  return failure("Forbidden", forbiddenMessage(userName, attributes, reason), details);
}

interface FailureEntry {
  method: string;
  path: string;
  user: string | undefined;
  code: number;
  body: string;
  cause?: string;
}
