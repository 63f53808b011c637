// The Grafana dashboard for prom-hpa, built with Grafana's foundation SDK. Every query reads only
// metrics the adapter (src/adapter/server/metrics.ts) and the autoscaler (src/autoscaler/
// telemetry.ts) export; the unit test checks the names against their registries and the e2e
// test runs every query against a Prometheus that scraped both programs.
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { JOBS } from "./targets.js";

export const DASHBOARD_UID = "prom-hpa";

/** The dashboard's template variables, as queries spell them. */
export const VARIABLES = {
  datasource: "datasource",
  /** The HPAs' namespace (the autoscaler's metrics carry it; honor_labels keeps it). */
  namespace: "namespace",
  hpa: "hpa",
} as const;

const DATASOURCE: common.DataSourceRef = { type: "prometheus", uid: `\${${VARIABLES.datasource}}` };

interface Query {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Stacked areas for parts of a whole (rates by label). */
  stacked?: boolean;
}

const adapter = `job="${JOBS.adapter}"`;
const autoscaler = `job="${JOBS.autoscaler}"`;
const hpaSelector = `${autoscaler}, namespace=~"$${VARIABLES.namespace}", name=~"$${VARIABLES.hpa}"`;
const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;
const quantile = (q: number, histogram: string, by: string[]) =>
  `histogram_quantile(${q}, sum by (${["le", ...by].join(", ")}) (${rate(`${histogram}_bucket{${adapterOr(histogram)}}`)}))`;
/** The job matcher for a metric, by the program whose prefix it carries. */
function adapterOr(metric: string): string {
  return metric.startsWith("prom_hpa_adapter_") ? adapter : autoscaler;
}

export const ADAPTER_PANELS: PanelSpec[] = [
  {
    title: "Requests by API and code",
    description: "Requests answered per second, by API group, resource and HTTP code.",
    unit: "reqps",
    stacked: true,
    queries: [
      {
        expr: `sum by (group, resource, code) (${rate(`prom_hpa_adapter_requests_total{${adapter}}`)})`,
        legend: "{{group}} {{resource}} {{code}}",
      },
    ],
  },
  {
    title: "Request latency",
    description: "Time from receiving a request to writing its answer, by API group and resource.",
    unit: "s",
    queries: [
      {
        expr: quantile(0.99, "prom_hpa_adapter_request_duration_seconds", ["group", "resource"]),
        legend: "p99 {{group}} {{resource}}",
      },
      {
        expr: quantile(0.5, "prom_hpa_adapter_request_duration_seconds", ["group", "resource"]),
        legend: "p50 {{group}} {{resource}}",
      },
    ],
  },
  {
    title: "Prometheus wait share",
    description:
      "Seconds spent waiting on Prometheus queries per second spent answering metrics API requests: near 1, the adapter's own work is negligible.",
    unit: "percentunit",
    queries: [
      {
        expr: `sum(${rate(`prom_hpa_adapter_prometheus_request_duration_seconds_sum{${adapter}, endpoint="query"}`)}) / sum(${rate(`prom_hpa_adapter_request_duration_seconds_sum{${adapter}, group=~".+"}`)})`,
        legend: "waiting on Prometheus",
      },
    ],
  },
  {
    title: "Prometheus calls",
    description:
      "Calls to Prometheus per second, by API endpoint and outcome (ok, unreachable, timeout, bad_response, query_error).",
    unit: "reqps",
    stacked: true,
    queries: [
      {
        expr: `sum by (endpoint, outcome) (${rate(`prom_hpa_adapter_prometheus_request_duration_seconds_count{${adapter}}`)})`,
        legend: "{{endpoint}} {{outcome}}",
      },
    ],
  },
  {
    title: "Prometheus call latency",
    description: "Duration of calls to Prometheus, by API endpoint.",
    unit: "s",
    queries: [
      {
        expr: quantile(0.99, "prom_hpa_adapter_prometheus_request_duration_seconds", ["endpoint"]),
        legend: "p99 {{endpoint}}",
      },
    ],
  },
  {
    title: "Coalesced queries",
    description:
      "Queries answered by joining an identical query already in flight, per second, against the queries sent to Prometheus.",
    unit: "reqps",
    queries: [
      {
        expr: `sum by (endpoint) (${rate(`prom_hpa_adapter_prometheus_coalesced_total{${adapter}}`)})`,
        legend: "coalesced {{endpoint}}",
      },
      {
        expr: `sum by (endpoint) (${rate(`prom_hpa_adapter_prometheus_request_duration_seconds_count{${adapter}, endpoint="query"}`)})`,
        legend: "sent {{endpoint}}",
      },
    ],
  },
  {
    title: "Series discovery duration",
    description: "Duration of series discovery (relist) runs, by result.",
    unit: "s",
    queries: [
      {
        expr: quantile(0.99, "prom_hpa_adapter_series_discovery_duration_seconds", ["result"]),
        legend: "p99 {{result}}",
      },
    ],
  },
  {
    title: "Series discovered",
    description: "Series returned by each adapter's last successful discovery run.",
    unit: "short",
    queries: [{ expr: `prom_hpa_adapter_series_discovered{${adapter}}`, legend: "{{instance}}" }],
  },
];

export const AUTOSCALER_PANELS: PanelSpec[] = [
  {
    title: "Syncs",
    description: "HPA syncs per second, by result.",
    unit: "ops",
    stacked: true,
    queries: [
      {
        expr: `sum by (result) (${rate(`prom_hpa_autoscaler_syncs_total{${autoscaler}}`)})`,
        legend: "{{result}}",
      },
    ],
  },
  {
    title: "Sync latency",
    description: "Time to sync one HPA.",
    unit: "s",
    queries: [
      { expr: quantile(0.99, "prom_hpa_autoscaler_sync_duration_seconds", []), legend: "p99" },
      { expr: quantile(0.5, "prom_hpa_autoscaler_sync_duration_seconds", []), legend: "p50" },
    ],
  },
  {
    title: "Sync errors by reason",
    description: "Errors per second, by reason (the HPA event's reason, e.g. FailedGetPodsMetric).",
    unit: "ops",
    stacked: true,
    queries: [
      {
        expr: `sum by (reason) (${rate(`prom_hpa_autoscaler_errors_total{${autoscaler}}`)})`,
        legend: "{{reason}}",
      },
    ],
  },
  {
    title: "Desired vs current replicas",
    description: "Per HPA: the replica count the last sync chose and the target's count it saw.",
    unit: "short",
    queries: [
      {
        expr: `max by (namespace, name) (prom_hpa_autoscaler_desired_replicas{${hpaSelector}})`,
        legend: "desired {{namespace}}/{{name}}",
      },
      {
        expr: `max by (namespace, name) (prom_hpa_autoscaler_current_replicas{${hpaSelector}})`,
        legend: "current {{namespace}}/{{name}}",
      },
    ],
  },
  {
    title: "Decisions by reason",
    description: "Sync decisions per second: direction (up, down, none) and why.",
    unit: "ops",
    stacked: true,
    queries: [
      {
        expr: `sum by (direction, reason) (${rate(`prom_hpa_autoscaler_decisions_total{${autoscaler}}`)})`,
        legend: "{{direction}} {{reason}}",
      },
    ],
  },
  {
    title: "Leader",
    description: "1 for the replica that leads (and syncs); the others stand by.",
    unit: "short",
    queries: [
      {
        expr: `max by (instance, mode) (prom_hpa_autoscaler_is_leader{${autoscaler}})`,
        legend: "{{instance}} {{mode}}",
      },
    ],
  },
  {
    title: "HPAs owned and queue depth",
    description: "HPAs the autoscaler owns, and those due for a sync and not yet started.",
    unit: "short",
    queries: [
      { expr: `sum by (instance) (prom_hpa_autoscaler_hpas{${autoscaler}})`, legend: "owned {{instance}}" },
      {
        expr: `sum by (instance) (prom_hpa_autoscaler_queue_depth{${autoscaler}})`,
        legend: "queued {{instance}}",
      },
    ],
  },
];

const PANEL_WIDTH = 12;
const PANEL_HEIGHT = 8;

function panel(spec: PanelSpec, id: number, index: number, top: number): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .min(0)
    .gridPos({
      x: (index % 2) * PANEL_WIDTH,
      y: top + Math.floor(index / 2) * PANEL_HEIGHT,
      w: PANEL_WIDTH,
      h: PANEL_HEIGHT,
    })
    .fillOpacity(spec.stacked === true ? 30 : 0)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  if (spec.stacked === true) p.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  spec.queries.forEach((q, i) => {
    p.withTarget(
      new prometheus.DataqueryBuilder()
        .datasource(DATASOURCE)
        .expr(q.expr)
        .legendFormat(q.legend)
        .refId(String.fromCharCode(65 + i)),
    );
  });
  return p;
}

function rows(): { title: string; panels: PanelSpec[] }[] {
  return [
    { title: "Adapter", panels: ADAPTER_PANELS },
    { title: "Autoscaler", panels: AUTOSCALER_PANELS },
  ];
}

export function buildDashboard(): dashboard.Dashboard {
  const hpaMetric = `prom_hpa_autoscaler_desired_replicas{${autoscaler}}`;
  const b = new dashboard.DashboardBuilder("prom-hpa")
    .uid(DASHBOARD_UID)
    .description(
      "prom-hpa's metrics adapter and autoscaler: requests, Prometheus calls, discovery, syncs and decisions.",
    )
    .tags(["prom-hpa", "kubernetes", "autoscaling"])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .timezone("browser")
    .withVariable(
      new dashboard.DatasourceVariableBuilder(VARIABLES.datasource).label("Data source").type("prometheus"),
    )
    .withVariable(
      new dashboard.QueryVariableBuilder(VARIABLES.namespace)
        .label("Namespace")
        .datasource(DATASOURCE)
        .query(`label_values(${hpaMetric}, namespace)`)
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue(".*"),
    )
    .withVariable(
      new dashboard.QueryVariableBuilder(VARIABLES.hpa)
        .label("HPA")
        .datasource(DATASOURCE)
        .query(
          `label_values(prom_hpa_autoscaler_desired_replicas{${autoscaler}, namespace=~"$${VARIABLES.namespace}"}, name)`,
        )
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue(".*"),
    );
  let top = 0;
  let id = 0;
  for (const row of rows()) {
    b.withRow(new dashboard.RowBuilder(row.title).id(++id).gridPos({ x: 0, y: top, w: 24, h: 1 }));
    top += 1;
    row.panels.forEach((spec, i) => b.withPanel(panel(spec, ++id, i, top)));
    top += Math.ceil(row.panels.length / 2) * PANEL_HEIGHT;
  }
  return b.build();
}

/** dashboard.json as committed: stable key order from the SDK, two-space indent, final newline. */
export function renderDashboard(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

/**
 * A panel query as Grafana sends it: `$__rate_interval` and the template variables replaced
 * (the e2e test runs every query this way; the values are regular expressions for `=~`).
 */
export function expandQuery(
  expr: string,
  values: { rateInterval: string } & Record<Exclude<keyof typeof VARIABLES, "datasource">, string>,
): string {
  return expr
    .replaceAll("$__rate_interval", values.rateInterval)
    .replaceAll(`$${VARIABLES.namespace}`, values.namespace)
    .replaceAll(`$${VARIABLES.hpa}`, values.hpa);
}
