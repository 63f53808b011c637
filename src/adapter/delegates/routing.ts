// Which delegate, if any, a metric request goes to: the first delegate, in config order, that
// serves the API and whose metric regex and namespace list both admit the request. Pure.
import { compileGoRegex } from "../config/goregex.js";
import type { DelegateConfig, DelegatedAPI } from "../config/types.js";

export interface DelegateRoute {
  name: string;
  apis: ReadonlySet<DelegatedAPI>;
  /** Absent: every metric name. */
  metrics?: (metric: string) => boolean;
  /** Absent: every namespace. */
  namespaces?: ReadonlySet<string>;
}

/** The config's regex anchored at both ends, a leading flag group such as (?i) kept in front. */
function anchored(pattern: string): string {
  const lead = /^\(\?[a-zA-Z]+\)/.exec(pattern);
  return lead ? `${lead[0]}^(?:${pattern.slice(lead[0].length)})$` : `^(?:${pattern})$`;
}

/** A validated delegate's route; the regex was checked when the config loaded. */
export function compileRoute(config: DelegateConfig): DelegateRoute {
  const route: DelegateRoute = { name: config.name, apis: new Set(config.apis) };
  if (config.metrics !== undefined) {
    const re = compileGoRegex(anchored(config.metrics));
    if (!re.ok) throw new Error(`delegates ${config.name}: invalid metrics regex: ${re.message}`);
    const regex = re.regex;
    route.metrics = (metric) => regex.test(metric);
  }
  if (config.namespaces !== undefined) route.namespaces = new Set(config.namespaces);
  return route;
}

/** The route a request takes; undefined means ours. `namespace` is undefined for cluster-scoped objects. */
export function routeRequest<R extends DelegateRoute>(
  routes: readonly R[],
  api: DelegatedAPI,
  metric: string,
  namespace: string | undefined,
): R | undefined {
  return routes.find(
    (r) =>
      r.apis.has(api) &&
      (r.metrics === undefined || r.metrics(metric)) &&
      (r.namespaces === undefined || (namespace !== undefined && r.namespaces.has(namespace))),
  );
}

/** A delegate's metric a discovery list shows: one its regex admits. */
export function listedFor(route: DelegateRoute, metric: string): boolean {
  return route.metrics === undefined || route.metrics(metric);
}

/** True when a delegate takes every request for this metric, whatever the namespace: ours is unreachable. */
export function claimedEverywhere(
  routes: readonly DelegateRoute[],
  api: DelegatedAPI,
  metric: string,
): boolean {
  return routes.some(
    (r) => r.apis.has(api) && r.namespaces === undefined && r.metrics !== undefined && r.metrics(metric),
  );
}
