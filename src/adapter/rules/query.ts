// Renders a rule's query template for one request: .Series is the discovered series name,
// .LabelMatchers the escaped matchers for the metric selector, namespace and object names,
// .GroupBy/.GroupBySlice the label(s) the answer is keyed by.
import { GoTemplate } from "../config/gotemplate.js";
import { queryTemplateData, renderTemplate } from "../config/templates.js";
import type { Requirement } from "../../kube/selector.js";
import type { GroupResource, ProviderError } from "../provider.js";
import {
  isMetricName,
  matcherForValues,
  matchersForRequirements,
  quoteString,
  renderLabelName,
  renderMatchers,
  type LabelMatcher,
} from "./promql.js";
import { NAMESPACES, groupResourceKey, type ResourceConverter } from "./resources.js";

export type QueryResult =
  | { ok: true; query: string; resourceLabel: string; sampleTimeQuery?: string }
  | { ok: false; error: ProviderError };

/**
 * How far back the sample-time query looks for a series' newest sample once Prometheus has marked
 * it stale (a target that stops being scraped is marked at once, while a rate() over it still
 * answers for its whole range); the subquery's step bounds the error, always towards "older", and a
 * stopped series that never met a step (lived less than one) cannot be dated.
 */
export const SAMPLE_TIME_LOOKBACK = "10m";
const SAMPLE_TIME_STEP = "30s";

/**
 * The newest sample time (seconds) of the series under a rule's query, per group, rendered with the
 * same template data as the rule's metricsQuery (--metric-timestamps=sample): exact while the series
 * is fresh, else the newest sample of the last SAMPLE_TIME_LOOKBACK.
 */
const sampleTimeTemplate = GoTemplate.parse(
  "sampleTimeQuery",
  "max by (<<.GroupBy>>) (timestamp(<<.Series>>{<<.LabelMatchers>>})) or " +
    `max by (<<.GroupBy>>) (max_over_time(timestamp(<<.Series>>{<<.LabelMatchers>>})[${SAMPLE_TIME_LOOKBACK}:${SAMPLE_TIME_STEP}]))`,
);

export interface QueryOptions {
  /** also render the sample-time query (--metric-timestamps=sample) */
  sampleTime?: boolean;
}

export interface ObjectQueryRequest {
  series: string;
  groupResource: GroupResource;
  namespace?: string;
  names: readonly string[];
  metricSelector?: readonly Requirement[];
  extraGroupBy?: readonly string[];
}

// A metric name outside the legacy character set has no bare form: Prometheus 3 takes it only
// quoted as the first element inside braces (`{"my.metric",pod="p"}`). Such a template is
// rendered with this placeholder for .Series, which is then moved into the braces that follow
// it, or given braces of its own. Kubernetes values cannot hold a NUL, so nothing else matches.
const SERIES_PLACEHOLDER = "\u0000series\u0000";
const PLACED_SERIES = new RegExp(`${SERIES_PLACEHOLDER}(\\{\\s*(\\})?)?`, "g");

/** `rendered` with every .Series placeholder replaced by a quoted selector for `series`. */
function placeQuotedSeries(rendered: string, series: string): string {
  const name = quoteString(series);
  return rendered.replace(PLACED_SERIES, (_all, open: string | undefined, close: string | undefined) =>
    open === undefined || close !== undefined ? `{${name}}` : `{${name},`,
  );
}

function render(
  template: GoTemplate,
  series: string,
  matchers: LabelMatcher[],
  valuesByName: Record<string, string>,
  groupBy: string[],
  sampleTime: boolean,
): { ok: true; query: string; sampleTimeQuery?: string } | { ok: false; error: ProviderError } {
  const legacySeries = isMetricName(series);
  const data = queryTemplateData({
    series: legacySeries ? series : SERIES_PLACEHOLDER,
    labelMatchers: renderMatchers(matchers),
    labelValuesByName: valuesByName,
    groupBy: groupBy.map(renderLabelName).join(","),
    groupBySlice: groupBy,
  });
  const out = renderTemplate(template, data);
  if (!out.ok)
    return {
      ok: false,
      error: { kind: "Internal", message: `rendering the metrics query failed: ${out.message}` },
    };
  if (out.value.trim() === "")
    return {
      ok: false,
      error: { kind: "Internal", message: "the metrics query template rendered to an empty query" },
    };
  const place = (q: string): string => (legacySeries ? q : placeQuotedSeries(q, series));
  if (!sampleTime) return { ok: true, query: place(out.value) };
  const times = renderTemplate(sampleTimeTemplate, data);
  if (!times.ok)
    return {
      ok: false,
      error: { kind: "Internal", message: `rendering the sample-time query failed: ${times.message}` },
    };
  return { ok: true, query: place(out.value), sampleTimeQuery: place(times.value) };
}

/** A query for named objects of one resource (custom metrics, and resource metrics of pods/nodes). */
export function buildObjectQuery(
  template: GoTemplate,
  resources: ResourceConverter,
  req: ObjectQueryRequest,
  opts: QueryOptions = {},
): QueryResult {
  if (req.names.length === 0)
    return { ok: false, error: { kind: "Internal", message: "no object names to query for" } };
  const fromSelector = matchersForRequirements(req.metricSelector ?? []);
  if (!fromSelector.ok) return fromSelector;
  const { matchers, valuesByName } = fromSelector;
  if (req.namespace !== undefined) {
    const nsLabel = resources.labelForResource(NAMESPACES);
    if (nsLabel === undefined)
      return {
        ok: false,
        error: {
          kind: "Internal",
          message: "the rule maps no label to namespaces, so it cannot answer for a namespace",
        },
      };
    matchers.push({ name: nsLabel, op: "=", value: req.namespace });
    valuesByName[nsLabel] = req.namespace;
  }
  const resourceLabel = resources.labelForResource(req.groupResource);
  if (resourceLabel === undefined) {
    return {
      ok: false,
      error: {
        kind: "Internal",
        message: `the rule maps no label to ${groupResourceKey(req.groupResource)}`,
      },
    };
  }
  matchers.push(matcherForValues(resourceLabel, req.names));
  valuesByName[resourceLabel] = req.names.join("|");
  const r = render(
    template,
    req.series,
    matchers,
    valuesByName,
    [resourceLabel, ...(req.extraGroupBy ?? [])],
    opts.sampleTime === true,
  );
  if (!r.ok) return r;
  return r.sampleTimeQuery === undefined
    ? { ok: true, query: r.query, resourceLabel }
    : { ok: true, query: r.query, resourceLabel, sampleTimeQuery: r.sampleTimeQuery };
}

export interface ExternalQueryRequest {
  series: string;
  /** Added as a matcher on the rule's namespace label; undefined for rules with namespaced: false. */
  namespace?: string;
  metricSelector: readonly Requirement[];
  labelValueReplacements?: readonly { find: string; replace: string }[];
}

export function buildExternalQuery(
  template: GoTemplate,
  resources: ResourceConverter,
  req: ExternalQueryRequest,
  opts: QueryOptions = {},
): { ok: true; query: string; sampleTimeQuery?: string } | { ok: false; error: ProviderError } {
  const repl = req.labelValueReplacements ?? [];
  const replace = (v: string): string =>
    repl.reduce((acc, r) => (r.find === "" ? acc : acc.split(r.find).join(r.replace)), v);
  const requirements =
    repl.length === 0
      ? req.metricSelector
      : req.metricSelector.map((r) => ({ ...r, values: r.values.map(replace) }));
  const fromSelector = matchersForRequirements(requirements);
  if (!fromSelector.ok) return fromSelector;
  const { matchers, valuesByName } = fromSelector;
  if (req.namespace !== undefined) {
    const nsLabel = resources.labelForResource(NAMESPACES);
    // A rule with no namespace label cannot filter by namespace; it answers cluster-wide.
    if (nsLabel !== undefined) {
      matchers.push({ name: nsLabel, op: "=", value: req.namespace });
      valuesByName[nsLabel] = req.namespace;
    }
  }
  return render(template, req.series, matchers, valuesByName, [], opts.sampleTime === true);
}
