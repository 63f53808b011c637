// Loads prometheus-adapter's metrics-discovery config file as is, and finds every mistake in it
// at start-up rather than per request: unknown keys (as Go's strict YAML decoding does), regexes
// RE2 would refuse, templates with unknown fields or bad syntax, and queries that do not parse
// as PromQL once rendered with sample values.
import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, parseDocument, type Document } from "yaml";
import { z } from "zod";
import { compileGoRegex } from "./goregex.js";
import { checkPromQL } from "./promql.js";
import {
  QUERY_FIELDS,
  compileResourceTemplate,
  compileTemplate,
  queryTemplateData,
  renderTemplate,
  type QueryTemplateArgs,
} from "./templates.js";
import type {
  BackendConfig,
  ConfigIssue,
  DelegateConfig,
  DelegatedAPI,
  DiscoveryRule,
  MetricsDiscoveryConfig,
  ResourceMappingConfig,
  ResourceRule,
  ResourceRules,
} from "./types.js";

export type LoadResult = { ok: true; config: MetricsDiscoveryConfig } | { ok: false; issues: ConfigIssue[] };

// ---- shape (zod), mirroring upstream's Go structs; strict objects = UnmarshalStrict

const groupResourceSchema = z.strictObject({
  group: z.string().nullish(),
  resource: z.string().min(1, "resource must not be empty"),
});

const resourceMappingSchema = z.strictObject({
  template: z.string().nullish(),
  overrides: z.record(z.string(), groupResourceSchema).nullish(),
  namespaced: z.boolean().nullish(),
});

const regexFilterSchema = z.strictObject({ is: z.string().nullish(), isNot: z.string().nullish() });

const discoveryRuleSchema = z.strictObject({
  seriesQuery: z.string().min(1, "seriesQuery is required"),
  seriesFilters: z.array(regexFilterSchema).nullish(),
  resources: resourceMappingSchema.nullish(),
  name: z.strictObject({ matches: z.string().nullish(), as: z.string().nullish() }).nullish(),
  metricsQuery: z.string().min(1, "metricsQuery is required"),
  labelValueReplacements: z
    .array(z.strictObject({ find: z.string().nullish(), replace: z.string().nullish() }))
    .nullish(),
  nanAsZero: z.boolean().nullish(),
  backend: z.string().min(1, "must not be empty").nullish(),
});

const resourceRuleSchema = z.strictObject({
  containerQuery: z.string().min(1, "containerQuery is required"),
  nodeQuery: z.string().min(1, "nodeQuery is required"),
  resources: resourceMappingSchema.nullish(),
  containerLabel: z.string().min(1, "containerLabel is required (the label holding the container name)"),
});

const resourceRulesSchema = z.strictObject({
  cpu: resourceRuleSchema,
  memory: resourceRuleSchema,
  window: z.string().nullish(),
});

// A DNS-1123 label, as Kubernetes names Services and namespaces; delegates and backends are
// named the same way so their names fit in a Status message and a metric label.
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (lower case letters, digits, '-')")
  .max(63, "must be at most 63 characters");

const delegateSchema = z.strictObject({
  name: dnsLabel,
  service: z
    .strictObject({
      namespace: dnsLabel,
      name: dnsLabel,
      port: z.number().int().min(1).max(65535).nullish(),
    })
    .nullish(),
  url: z.string().nullish(),
  caBundle: z.string().nullish(),
  caFile: z.string().min(1).nullish(),
  insecureSkipTLSVerify: z.boolean().nullish(),
  apis: z
    .array(z.enum(["external", "custom"]))
    .min(1, "name at least one API")
    .nullish(),
  metrics: z.string().min(1, "must not be empty").nullish(),
  namespaces: z.array(dnsLabel).min(1, "name at least one namespace").nullish(),
});

const backendSchema = z.strictObject({
  name: dnsLabel,
  url: z.string(),
  headers: z.record(z.string(), z.string()).nullish(),
  bearerTokenFile: z.string().min(1).nullish(),
  basicAuthFile: z.string().min(1).nullish(),
  caFile: z.string().min(1).nullish(),
  insecureSkipTLSVerify: z.boolean().nullish(),
});

const topSchema = z.strictObject({
  rules: z.array(z.unknown()).nullish(),
  externalRules: z.array(z.unknown()).nullish(),
  resourceRules: z.unknown().optional(),
  delegates: z.array(z.unknown()).nullish(),
  backends: z.array(z.unknown()).nullish(),
});

type RawRule = z.infer<typeof discoveryRuleSchema>;
type RawMapping = z.infer<typeof resourceMappingSchema>;

// ---- path formatting

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

function zodIssues(prefix: string, error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const i of error.issues) {
    if (i.code === "unrecognized_keys") {
      for (const k of i.keys)
        issues.push({ path: joinPath(prefix, [...i.path, k]), message: "unknown field" });
      continue;
    }
    let message = i.message;
    if (i.code === "invalid_type")
      message = i.input === undefined ? "required" : `expected ${i.expected}, got ${describe(i.input)}`;
    issues.push({ path: joinPath(prefix, i.path), message });
  }
  return issues;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

export function formatIssue(i: ConfigIssue): string {
  return i.path === "" ? i.message : `${i.path}: ${i.message}`;
}

// ---- durations (Prometheus model.Duration: 1h30m, 5m, 30s, 250ms, 1d, 1w, 1y). Not Go's
// time.ParseDuration (src/kube/duration.ts): resourceRules.window is a Prometheus duration.

const DURATION_UNITS: [string, number][] = [
  ["y", 365 * 24 * 3600],
  ["w", 7 * 24 * 3600],
  ["d", 24 * 3600],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
  ["ms", 0.001],
];

export function parsePromDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const m = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m || text === "") return undefined;
  let seconds = 0;
  DURATION_UNITS.forEach(([, mult], idx) => {
    const v = m[idx + 1];
    if (v !== undefined) seconds += Number(v) * mult;
  });
  return seconds;
}

// ---- sample values used to render query templates at load time

const CUSTOM_SAMPLES: QueryTemplateArgs[] = [
  {
    series: "sample_series_total",
    labelMatchers: 'namespace="default",pod=~"web-0|web-1"',
    labelValuesByName: { namespace: "default", pod: "web-0|web-1" },
    groupBy: "pod",
    groupBySlice: ["pod"],
  },
  {
    series: "sample_series_total",
    labelMatchers: 'pod="web-0"',
    labelValuesByName: { pod: "web-0" },
    groupBy: "pod,container",
    groupBySlice: ["pod", "container"],
  },
];
const EXTERNAL_SAMPLES: QueryTemplateArgs[] = [
  {
    series: "sample_series_total",
    labelMatchers: 'namespace="default",queue="jobs"',
    labelValuesByName: { namespace: "default", queue: "jobs" },
    groupBy: "",
    groupBySlice: [],
  },
];
const CONTAINER_SAMPLES: QueryTemplateArgs[] = [
  {
    series: "",
    labelMatchers: 'namespace="default",pod=~"web-0|web-1"',
    labelValuesByName: { namespace: "default", pod: "web-0|web-1" },
    groupBy: "pod,container",
    groupBySlice: ["pod", "container"],
  },
];
const NODE_SAMPLES: QueryTemplateArgs[] = [
  {
    series: "",
    labelMatchers: 'node=~"node-a|node-b"',
    labelValuesByName: { node: "node-a|node-b" },
    groupBy: "node",
    groupBySlice: ["node"],
  },
];

function checkQueryTemplate(
  path: string,
  source: string,
  samples: QueryTemplateArgs[],
  issues: ConfigIssue[],
): void {
  const t = compileTemplate("metrics-query", source, QUERY_FIELDS);
  if (!t.ok) {
    issues.push({ path, message: t.message });
    return;
  }
  for (const sample of samples) {
    const out = renderTemplate(t.value, queryTemplateData(sample));
    if (!out.ok) {
      issues.push({ path, message: out.message });
      return;
    }
    if (out.value.trim() === "") {
      issues.push({ path, message: "the template renders to an empty query" });
      return;
    }
    const check = checkPromQL(out.value);
    if (!check.ok) {
      const hint =
        !t.value.hasActions() && source.includes("${")
          ? " (the query has no << >> actions; ${ }$ delimiters were prometheus-adapter v0.2's syntax)"
          : "";
      issues.push({
        path,
        message: `${check.message}${hint}; rendered with sample values as: ${out.value.trim()}`,
      });
      return;
    }
  }
}

// Resource names compare equal in singular or plural: "pod" ~ "pods", "ingress" ~ "ingresses".
function sameResource(a: string, b: string): boolean {
  const forms = (x: string): string[] => {
    const l = x.toLowerCase().replace(/\..*$/, "");
    return [l, l + "s", l + "es", l.endsWith("y") ? l.slice(0, -1) + "ies" : l];
  };
  const fa = forms(a);
  return forms(b).some((f) => fa.includes(f));
}

function checkResources(
  path: string,
  mapping: RawMapping | null | undefined,
  issues: ConfigIssue[],
): ResourceMappingConfig {
  const overrides: ResourceMappingConfig["overrides"] = {};
  for (const [label, gr] of Object.entries(mapping?.overrides ?? {})) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) {
      issues.push({
        path: `${path}.overrides.${label}`,
        message: `${JSON.stringify(label)} is not a valid Prometheus label name`,
      });
    }
    overrides[label] = { group: gr.group ?? "", resource: gr.resource };
  }
  const out: ResourceMappingConfig = { overrides };
  if (mapping?.namespaced !== undefined && mapping.namespaced !== null) out.namespaced = mapping.namespaced;
  let template: ReturnType<typeof compileResourceTemplate> | undefined;
  if (mapping?.template) {
    out.template = mapping.template;
    template = compileResourceTemplate(mapping.template);
    if (!template.ok) issues.push({ path: `${path}.template`, message: template.message });
  }
  // One resource reached from two override labels makes the label used for it depend on map
  // order upstream; refuse it, and say where the template disagrees with an override.
  const byResource = new Map<string, string[]>();
  for (const [label, gr] of Object.entries(overrides)) {
    const key =
      [...byResource.keys()].find((k) => sameResource(k, gr.resource) && byResource.get(k) !== undefined) ??
      gr.resource;
    byResource.set(key, [...(byResource.get(key) ?? []), label]);
  }
  for (const [resource, labels] of byResource) {
    if (labels.length < 2) continue;
    const notes: string[] = [];
    if (template?.ok) {
      for (const label of labels) {
        const viaTemplate = template.value.parse(label);
        // A resource name has no "_": "pod_name" from kubernetes_<<.Resource>> is no resource.
        if (
          viaTemplate &&
          !viaTemplate.resource.includes("_") &&
          !sameResource(viaTemplate.resource, resource)
        ) {
          notes.push(
            `label ${label} maps to ${viaTemplate.resource} via template ${template.value.source} but to ${resource} via overrides`,
          );
        }
      }
    }
    notes.push(`resource ${resource} is mapped from more than one label (${labels.join(", ")})`);
    issues.push({ path, message: notes.join("; ") });
  }
  return out;
}

function checkRule(
  path: string,
  raw: unknown,
  external: boolean,
  issues: ConfigIssue[],
): DiscoveryRule | undefined {
  const parsed = discoveryRuleSchema.safeParse(raw);
  if (!parsed.success) {
    issues.push(...zodIssues(path, parsed.error));
    return undefined;
  }
  const r: RawRule = parsed.data;
  const seriesCheck = checkPromQL(r.seriesQuery);
  if (!seriesCheck.ok) issues.push({ path: `${path}.seriesQuery`, message: seriesCheck.message });
  else if (seriesCheck.topNode !== "VectorSelector") {
    issues.push({
      path: `${path}.seriesQuery`,
      message: `must be a series selector such as {__name__=~"http_.*",namespace!=""}, not an expression`,
    });
  }
  const seriesFilters = (r.seriesFilters ?? []).map((f, j) => {
    const fp = `${path}.seriesFilters[${j}]`;
    if (f.is && f.isNot) issues.push({ path: fp, message: "set either is or isNot, not both" });
    else if (!f.is && !f.isNot) issues.push({ path: fp, message: "set one of is or isNot" });
    for (const key of ["is", "isNot"] as const) {
      const pattern = f[key];
      if (!pattern) continue;
      const re = compileGoRegex(pattern);
      if (!re.ok)
        issues.push({
          path: `${fp}.${key}`,
          message: `invalid regex ${JSON.stringify(pattern)}: ${re.message}`,
        });
    }
    const out: { is?: string; isNot?: string } = {};
    if (f.is) out.is = f.is;
    if (f.isNot) out.isNot = f.isNot;
    return out;
  });
  const matches = r.name?.matches ?? "";
  const as = r.name?.as ?? "";
  if (matches !== "") {
    const re = compileGoRegex(matches);
    if (!re.ok)
      issues.push({
        path: `${path}.name.matches`,
        message: `invalid regex ${JSON.stringify(matches)}: ${re.message}`,
      });
    else if (as === "" && re.regex.groups > 1) {
      issues.push({
        path: `${path}.name.as`,
        message: `required when name.matches has more than one capture group (${JSON.stringify(matches)} has ${re.regex.groups})`,
      });
    }
  }
  const resources = checkResources(`${path}.resources`, r.resources, issues);
  checkQueryTemplate(
    `${path}.metricsQuery`,
    r.metricsQuery,
    external ? EXTERNAL_SAMPLES : CUSTOM_SAMPLES,
    issues,
  );
  const rule: DiscoveryRule = {
    seriesQuery: r.seriesQuery,
    seriesFilters,
    resources,
    name: { matches, as },
    metricsQuery: r.metricsQuery,
  };
  const repl = (r.labelValueReplacements ?? []).map((x) => ({
    find: x.find ?? "",
    replace: x.replace ?? "",
  }));
  if (repl.length > 0) rule.labelValueReplacements = repl;
  if (r.nanAsZero === true) rule.nanAsZero = true;
  if (r.backend) rule.backend = r.backend;
  return rule;
}

function checkHttpsUrl(path: string, raw: string, issues: ConfigIssue[], schemes: string[]): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    issues.push({ path, message: `${JSON.stringify(raw)} is not a URL` });
    return;
  }
  if (!schemes.includes(url.protocol))
    issues.push({ path, message: `must be ${schemes.map((s) => s.replace(":", "://")).join(" or ")}` });
}

function checkDelegate(path: string, raw: unknown, issues: ConfigIssue[]): DelegateConfig | undefined {
  const parsed = delegateSchema.safeParse(raw);
  if (!parsed.success) {
    issues.push(...zodIssues(path, parsed.error));
    return undefined;
  }
  const d = parsed.data;
  let endpoint: DelegateConfig["endpoint"] | undefined;
  if (d.service && d.url) issues.push({ path, message: "set either service or url, not both" });
  else if (d.service)
    endpoint = {
      kind: "service",
      namespace: d.service.namespace,
      name: d.service.name,
      port: d.service.port ?? 443,
    };
  else if (d.url) {
    checkHttpsUrl(`${path}.url`, d.url, issues, ["https:"]);
    endpoint = { kind: "url", url: d.url.replace(/\/+$/, "") };
  } else issues.push({ path: `${path}.service`, message: "required (or url)" });
  if (d.caBundle && d.caFile) issues.push({ path, message: "set either caBundle or caFile, not both" });
  else if (
    d.caBundle !== undefined &&
    d.caBundle !== null &&
    !d.caBundle.includes("-----BEGIN CERTIFICATE-----")
  )
    issues.push({ path: `${path}.caBundle`, message: "no PEM certificate in it" });
  else if (!d.caBundle && !d.caFile && d.insecureSkipTLSVerify !== true)
    issues.push({
      path: `${path}.caBundle`,
      message: "required (or caFile) to verify the delegate's serving certificate",
    });
  if (!d.metrics && !d.namespaces)
    issues.push({
      path: `${path}.metrics`,
      message: "required (or namespaces): which requests go to this delegate",
    });
  if (d.metrics) {
    const re = compileGoRegex(d.metrics);
    if (!re.ok)
      issues.push({
        path: `${path}.metrics`,
        message: `invalid regex ${JSON.stringify(d.metrics)}: ${re.message}`,
      });
  }
  if (endpoint === undefined) return undefined;
  const out: DelegateConfig = {
    name: d.name,
    endpoint,
    apis: [...new Set<DelegatedAPI>(d.apis ?? ["external", "custom"])],
  };
  if (d.caBundle) out.caBundle = d.caBundle;
  if (d.caFile) out.caFile = d.caFile;
  if (d.insecureSkipTLSVerify === true) out.insecureSkipTLSVerify = true;
  if (d.metrics) out.metrics = d.metrics;
  if (d.namespaces) out.namespaces = d.namespaces;
  return out;
}

function checkBackend(path: string, raw: unknown, issues: ConfigIssue[]): BackendConfig | undefined {
  const parsed = backendSchema.safeParse(raw);
  if (!parsed.success) {
    issues.push(...zodIssues(path, parsed.error));
    return undefined;
  }
  const b = parsed.data;
  checkHttpsUrl(`${path}.url`, b.url, issues, ["http:", "https:"]);
  if (b.bearerTokenFile && b.basicAuthFile)
    issues.push({ path, message: "set either bearerTokenFile or basicAuthFile, not both" });
  for (const name of Object.keys(b.headers ?? {}))
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))
      issues.push({ path: `${path}.headers.${name}`, message: "not a valid HTTP header name" });
  const out: BackendConfig = { name: b.name, url: b.url, headers: b.headers ?? {} };
  if (b.bearerTokenFile) out.bearerTokenFile = b.bearerTokenFile;
  if (b.basicAuthFile) out.basicAuthFile = b.basicAuthFile;
  if (b.caFile) out.caFile = b.caFile;
  if (b.insecureSkipTLSVerify === true) out.insecureSkipTLSVerify = true;
  return out;
}

/** Two entries of one list with the same name: the second is named in an issue. */
function checkUniqueNames(path: string, names: (string | undefined)[], issues: ConfigIssue[]): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (n === undefined) return;
    if (seen.has(n))
      issues.push({ path: `${path}[${i}].name`, message: `${JSON.stringify(n)} is used twice` });
    seen.add(n);
  });
}

function checkResourceRules(path: string, raw: unknown, issues: ConfigIssue[]): ResourceRules | undefined {
  const parsed = resourceRulesSchema.safeParse(raw);
  if (!parsed.success) {
    issues.push(...zodIssues(path, parsed.error));
    return undefined;
  }
  const window = parsed.data.window ?? "0";
  const windowSeconds = parsePromDuration(window);
  if (windowSeconds === undefined)
    issues.push({
      path: `${path}.window`,
      message: `invalid duration ${JSON.stringify(window)} (e.g. 1m, 30s, 1h30m)`,
    });
  const rule = (key: "cpu" | "memory"): ResourceRule => {
    const r = parsed.data[key];
    const p = `${path}.${key}`;
    checkQueryTemplate(`${p}.containerQuery`, r.containerQuery, CONTAINER_SAMPLES, issues);
    checkQueryTemplate(`${p}.nodeQuery`, r.nodeQuery, NODE_SAMPLES, issues);
    return {
      containerQuery: r.containerQuery,
      nodeQuery: r.nodeQuery,
      containerLabel: r.containerLabel,
      resources: checkResources(`${p}.resources`, r.resources, issues),
    };
  };
  return { cpu: rule("cpu"), memory: rule("memory"), window, windowSeconds: windowSeconds ?? 0 };
}

/** The path of the last field that starts before `offset`: where a YAML syntax error sits. */
function yamlPathAt(doc: Document, offset: number): string {
  const path: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      let best: { key: string; value: unknown } | undefined;
      for (const pair of node.items) {
        const key: unknown = pair.key;
        if (!isScalar(key)) continue;
        const start = key.range?.[0];
        if (start !== undefined && start <= offset) best = { key: String(key.value), value: pair.value };
      }
      if (!best) break;
      path.push(best.key);
      node = best.value;
    } else if (isSeq(node)) {
      let idx = -1;
      node.items.forEach((item, i) => {
        const start = (item as { range?: [number, number, number] }).range?.[0];
        if (start !== undefined && start <= offset) idx = i;
      });
      if (idx < 0) break;
      path.push(idx);
      node = node.items[idx];
    } else break;
  }
  return joinPath("", path);
}

/** Parses and validates a config document; `issues` lists every mistake found, each with its path. */
export function parseConfig(text: string): LoadResult {
  // Go's yaml.v2 (what prometheus-adapter uses) honours anchors, aliases and << merge keys.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, merge: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const reason = (e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
        const hint = /Unexpected scalar|Implicit keys/.test(reason)
          ? " (a double-quoted value with an unescaped \" inside? quote it with ' instead)"
          : "";
        return {
          path: yamlPathAt(doc, e.pos[0]),
          message: `invalid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ""}: ${reason}${hint}`,
        };
      }),
    };
  }
  const data: unknown = doc.toJS() ?? {};
  const top = topSchema.safeParse(data);
  if (!top.success) return { ok: false, issues: zodIssues("", top.error) };
  const issues: ConfigIssue[] = [];
  const rules = (top.data.rules ?? []).map((r, i) => checkRule(`rules[${i}]`, r, false, issues));
  const externalRules = (top.data.externalRules ?? []).map((r, i) =>
    checkRule(`externalRules[${i}]`, r, true, issues),
  );
  const resourceRules =
    top.data.resourceRules === undefined || top.data.resourceRules === null
      ? undefined
      : checkResourceRules("resourceRules", top.data.resourceRules, issues);
  const delegates =
    top.data.delegates === undefined || top.data.delegates === null
      ? undefined
      : top.data.delegates.map((d, i) => checkDelegate(`delegates[${i}]`, d, issues));
  if (delegates)
    checkUniqueNames(
      "delegates",
      delegates.map((d) => d?.name),
      issues,
    );
  const backends =
    top.data.backends === undefined || top.data.backends === null
      ? undefined
      : top.data.backends.map((b, i) => checkBackend(`backends[${i}]`, b, issues));
  if (backends)
    checkUniqueNames(
      "backends",
      backends.map((b) => b?.name),
      issues,
    );
  const backendNames = new Set((backends ?? []).flatMap((b) => (b ? [b.name] : [])));
  const checkBackendRef = (path: string, rule: DiscoveryRule | undefined): void => {
    if (rule?.backend === undefined || backendNames.has(rule.backend)) return;
    const declared = [...backendNames].join(", ");
    issues.push({
      path: `${path}.backend`,
      message: `no backend named ${JSON.stringify(rule.backend)} in backends${declared ? ` (declared: ${declared})` : ""}`,
    });
  };
  rules.forEach((r, i) => checkBackendRef(`rules[${i}]`, r));
  externalRules.forEach((r, i) => checkBackendRef(`externalRules[${i}]`, r));
  if (issues.length > 0) return { ok: false, issues };
  const config: MetricsDiscoveryConfig = {
    rules: rules.filter((r): r is DiscoveryRule => r !== undefined),
    externalRules: externalRules.filter((r): r is DiscoveryRule => r !== undefined),
  };
  if (resourceRules) config.resourceRules = resourceRules;
  if (delegates) config.delegates = delegates.filter((d): d is DelegateConfig => d !== undefined);
  if (backends) config.backends = backends.filter((b): b is BackendConfig => b !== undefined);
  return { ok: true, config };
}

export async function loadConfigFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    return {
      ok: false,
      issues: [{ path: "", message: `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}` }],
    };
  }
  return parseConfig(text);
}
