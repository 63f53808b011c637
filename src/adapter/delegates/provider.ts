// DelegatingProvider: our custom and external providers plus the delegates of the config's
// `delegates:` section behind one APIService. A request a delegate's route admits is forwarded
// to it with the caller's identity; everything else is ours. Discovery lists are ours plus each
// delegate's, fetched periodically; a delegate that stops answering keeps its last list, and its
// metrics answer 503 naming it (never its address) while ours keep working.
import { silentLogger, type Logger } from "../../log/logger.js";
import type {
  Caller,
  CustomMetricByNameRequest,
  CustomMetricBySelectorRequest,
  CustomMetricInfo,
  CustomMetricValue,
  CustomMetricsProvider,
  ExternalMetricInfo,
  ExternalMetricRequest,
  ExternalMetricValue,
  ExternalMetricsProvider,
  GroupResource,
  ProviderError,
  Result,
} from "../provider.js";
import type { DelegateAnswer, DelegateTransport } from "./client.js";
import { claimedEverywhere, listedFor, routeRequest, type DelegateRoute } from "./routing.js";
import {
  apiResourceListSchema,
  customInfos,
  customValues,
  externalInfos,
  externalMetricValueListSchema,
  externalValues,
  metricValueListSchema,
  statusSchema,
} from "./wire.js";

const CUSTOM = "custom.metrics.k8s.io";
const EXTERNAL = "external.metrics.k8s.io";

/**
 * Who our own discovery requests are made as: any authenticated user may read discovery
 * (kube's system:discovery role), so no privilege is claimed.
 */
export const DISCOVERY_CALLER: Caller = {
  name: "system:prom-hpa-adapter:delegate-discovery",
  groups: ["system:authenticated"],
  extra: {},
};

export interface Delegate {
  route: DelegateRoute;
  transport: DelegateTransport;
}

interface DelegateState {
  custom: CustomMetricInfo[];
  external: ExternalMetricInfo[];
  /** The custom.metrics.k8s.io version it serves (v1beta2 preferred); requests are forwarded in it. */
  customVersion: "v1beta1" | "v1beta2";
  /** Why its last discovery failed, without its address (shown on /readyz?verbose). */
  lastError?: string;
  listed: boolean;
}

export interface DelegatingProviderOptions {
  ours: { custom: CustomMetricsProvider; external: ExternalMetricsProvider };
  delegates: Delegate[];
  /** How often the delegates' discovery lists are fetched; default 30 s. */
  refreshIntervalMs?: number;
  logger?: Logger;
}

type Failure = { ok: false; error: ProviderError };

export class DelegatingProvider implements CustomMetricsProvider, ExternalMetricsProvider {
  private readonly ours: DelegatingProviderOptions["ours"];
  private readonly delegates: Delegate[];
  private readonly routes: DelegateRoute[];
  private readonly state = new Map<string, DelegateState>();
  private readonly logger: Logger;
  private readonly refreshMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: DelegatingProviderOptions) {
    this.ours = options.ours;
    this.delegates = options.delegates;
    this.routes = options.delegates.map((d) => d.route);
    this.logger = options.logger ?? silentLogger;
    this.refreshMs = options.refreshIntervalMs ?? 30_000;
    for (const d of this.delegates)
      this.state.set(d.route.name, { custom: [], external: [], customVersion: "v1beta2", listed: false });
  }

  /** Fetches every delegate's lists once, then keeps doing so every refresh interval. */
  async start(): Promise<void> {
    await this.refresh();
    const tick = (): void => {
      this.timer = setTimeout(() => void this.refresh().finally(tick), this.refreshMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all(this.delegates.map((d) => d.transport.close()));
  }

  /** One discovery round over every delegate. */
  async refresh(): Promise<void> {
    await Promise.all(this.delegates.map((d) => this.refreshOne(d)));
  }

  /** Delegates whose discovery is failing, one line each: readiness warnings, not failures. */
  warnings(): string[] {
    return [...this.state].flatMap(([name, s]) =>
      s.lastError === undefined ? [] : [`delegate ${name}: ${s.lastError}`],
    );
  }

  private async refreshOne(d: Delegate): Promise<void> {
    const s = this.state.get(d.route.name)!;
    const problems: string[] = [];
    if (d.route.apis.has("external")) {
      const list = await this.fetchList(d, `/apis/${EXTERNAL}/v1beta1`);
      if (list.ok) s.external = externalInfos(list.value).filter((i) => listedFor(d.route, i.metric));
      else problems.push(list.message);
    }
    if (d.route.apis.has("custom")) {
      let version: DelegateState["customVersion"] = "v1beta2";
      let list = await this.fetchList(d, `/apis/${CUSTOM}/v1beta2`);
      if (!list.ok && list.notServed) {
        version = "v1beta1";
        list = await this.fetchList(d, `/apis/${CUSTOM}/v1beta1`);
      }
      if (list.ok) {
        s.customVersion = version;
        s.custom = customInfos(list.value).filter((i) => listedFor(d.route, i.metric));
      } else problems.push(list.message);
    }
    const error = problems.length > 0 ? problems.join("; ") : undefined;
    if (error !== undefined && s.lastError === undefined)
      this.logger.warn(
        { delegate: d.route.name, err: error, haveMetrics: s.listed },
        "delegate discovery failed; keeping its previous metric list",
      );
    else if (error === undefined && s.lastError !== undefined)
      this.logger.info({ delegate: d.route.name }, "delegate discovery recovered");
    if (error === undefined) s.listed = true;
    s.lastError = error;
  }

  private async fetchList(
    d: Delegate,
    path: string,
  ): Promise<
    | { ok: true; value: ReturnType<typeof apiResourceListSchema.parse> }
    | { ok: false; message: string; notServed: boolean }
  > {
    const answer = await d.transport.get(path, DISCOVERY_CALLER);
    if (!answer.ok) {
      this.logger.debug({ delegate: d.route.name, cause: answer.cause }, "delegate discovery request failed");
      return { ok: false, message: "unreachable", notServed: false };
    }
    if (answer.status !== 200)
      return { ok: false, message: `${path} answered ${answer.status}`, notServed: answer.status === 404 };
    const parsed = apiResourceListSchema.safeParse(answer.body);
    if (!parsed.success) return { ok: false, message: `${path} is not an APIResourceList`, notServed: false };
    return { ok: true, value: parsed.data };
  }

  // ---- lists

  listExternalMetrics(): ExternalMetricInfo[] {
    const ours = this.ours.external
      .listExternalMetrics()
      .filter((i) => !claimedEverywhere(this.routes, "external", i.metric));
    return [...ours, ...this.delegates.flatMap((d) => this.state.get(d.route.name)!.external)];
  }

  listCustomMetrics(): CustomMetricInfo[] {
    const ours = this.ours.custom
      .listCustomMetrics()
      .filter((i) => !claimedEverywhere(this.routes, "custom", i.metric));
    return [...ours, ...this.delegates.flatMap((d) => this.state.get(d.route.name)!.custom)];
  }

  // ---- requests

  private delegateFor(api: "external" | "custom", metric: string, namespace: string | undefined) {
    const route = routeRequest(this.routes, api, metric, namespace);
    return route === undefined ? undefined : this.delegates.find((d) => d.route === route);
  }

  async getExternalMetric(req: ExternalMetricRequest): Promise<Result<ExternalMetricValue[]>> {
    const d = this.delegateFor("external", req.metric, req.namespace);
    if (d === undefined) return this.ours.external.getExternalMetric(req);
    const query = req.metricSelector === "" ? "" : `?labelSelector=${encodeURIComponent(req.metricSelector)}`;
    const path = `/apis/${EXTERNAL}/v1beta1/namespaces/${seg(req.namespace)}/${seg(req.metric)}${query}`;
    const answer = await this.forward(d, path, req.caller, req.wait);
    if (!answer.ok) return answer;
    const list = externalMetricValueListSchema.safeParse(answer.value);
    if (!list.success) return unreadable(d, "ExternalMetricValueList", list.error.message);
    return { ok: true, value: externalValues(list.data) };
  }

  async getMetricByName(req: CustomMetricByNameRequest): Promise<Result<CustomMetricValue>> {
    const d = this.delegateFor(
      "custom",
      req.metric,
      customNamespace(req.namespace, req.groupResource, req.name),
    );
    if (d === undefined) return this.ours.custom.getMetricByName(req);
    const values = await this.forwardCustom(d, req.namespace, req.groupResource, req.name, req);
    if (!values.ok) return values;
    const value = values.value[0];
    if (value === undefined)
      return {
        ok: false,
        error: {
          kind: "NotFound",
          message: `delegate ${d.route.name}: no value of ${req.metric} for ${req.groupResource.resource} ${req.name}`,
        },
      };
    return { ok: true, value };
  }

  async getMetricBySelector(req: CustomMetricBySelectorRequest): Promise<Result<CustomMetricValue[]>> {
    const d = this.delegateFor("custom", req.metric, req.namespace);
    if (d === undefined) return this.ours.custom.getMetricBySelector(req);
    return this.forwardCustom(d, req.namespace, req.groupResource, "*", req, req.selector);
  }

  private async forwardCustom(
    d: Delegate,
    namespace: string | undefined,
    gr: GroupResource,
    name: string,
    req: {
      metric: string;
      metricSelector: string;
      caller?: Caller;
      wait?: CustomMetricByNameRequest["wait"];
    },
    selector = "",
  ): Promise<Result<CustomMetricValue[]>> {
    const version = this.state.get(d.route.name)!.customVersion;
    const resource = gr.group === "" ? gr.resource : `${gr.resource}.${gr.group}`;
    let path = `/apis/${CUSTOM}/${version}`;
    if (namespace !== undefined)
      path += `/namespaces/${seg(namespace)}/${seg(resource)}/${seg(name)}/${seg(req.metric)}`;
    else if (gr.group === "" && gr.resource === "namespaces")
      path += `/namespaces/${seg(name)}/metrics/${seg(req.metric)}`;
    else path += `/${seg(resource)}/${seg(name)}/${seg(req.metric)}`;
    const params = new URLSearchParams();
    if (selector !== "") params.set("labelSelector", selector);
    if (req.metricSelector !== "") params.set("metricLabelSelector", req.metricSelector);
    const query = params.size > 0 ? `?${params.toString()}` : "";
    const answer = await this.forward(d, path + query, req.caller, req.wait);
    if (!answer.ok) return answer;
    const list = metricValueListSchema.safeParse(answer.value);
    if (!list.success) return unreadable(d, "MetricValueList", list.error.message);
    return {
      ok: true,
      value: customValues(list.data).map((v) => {
        const out: CustomMetricValue = {
          describedObject: v.describedObject,
          metric:
            req.metricSelector === ""
              ? { name: v.metric || req.metric }
              : { name: v.metric || req.metric, selector: req.metricSelector },
          timestamp: v.timestamp,
          value: v.value,
        };
        if (v.windowSeconds !== undefined) out.windowSeconds = v.windowSeconds;
        return out;
      }),
    };
  }

  private async forward(
    d: Delegate,
    path: string,
    caller: Caller | undefined,
    wait: ExternalMetricRequest["wait"],
  ): Promise<Result<unknown>> {
    wait?.start();
    let answer: DelegateAnswer;
    try {
      answer = await d.transport.get(path, caller);
    } finally {
      wait?.stop();
    }
    return fromDelegateAnswer(d.route.name, answer);
  }
}

/** The namespace a custom request is about: a namespace's own metric is about that namespace. */
function customNamespace(namespace: string | undefined, gr: GroupResource, name: string): string | undefined {
  return namespace ?? (gr.group === "" && gr.resource === "namespaces" ? name : undefined);
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

function unreadable(d: Delegate, kind: string, detail: string): Failure {
  return {
    ok: false,
    error: {
      kind: "Unavailable",
      message: `delegate ${d.route.name} answered with an unreadable ${kind}`,
      cause: detail,
    },
  };
}

/**
 * A delegate's answer as ours: 200 is its body; its refusals (400, 403, 404) pass through with
 * its message; no answer, 401 (it does not accept our client certificate) and 5xx are 503
 * naming the delegate. Its address goes only to the log (cause).
 */
export function fromDelegateAnswer(name: string, answer: DelegateAnswer): Result<unknown> {
  if (!answer.ok)
    return {
      ok: false,
      error: { kind: "Unavailable", message: `delegate ${name} unreachable`, cause: answer.cause },
    };
  if (answer.status === 200) return { ok: true, value: answer.body };
  const status = statusSchema.safeParse(answer.body);
  const said = status.success && status.data.message ? status.data.message : `HTTP ${answer.status}`;
  const message = `delegate ${name}: ${said}`;
  switch (answer.status) {
    case 400:
      return { ok: false, error: { kind: "BadRequest", message } };
    case 403:
      return { ok: false, error: { kind: "Forbidden", message } };
    case 404:
      return { ok: false, error: { kind: "NotFound", message } };
    case 401:
      return {
        ok: false,
        error: {
          kind: "Unavailable",
          message: `delegate ${name} did not accept the adapter's client certificate`,
          cause: said,
        },
      };
    default:
      // Its 5xx message may name its own backends' addresses: logged, not passed on.
      return {
        ok: false,
        error: {
          kind: "Unavailable",
          message: `delegate ${name} unavailable (HTTP ${answer.status})`,
          cause: said,
        },
      };
  }
}
