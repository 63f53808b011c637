// The simulate scenario file: an autoscaling/v2 HPA, the autoscaler's settings, the pods'
// requests and a script of metric levels. Parsed once here (zod for the shape, then the checks
// that need the HPA, such as which metric a level belongs to); every mistake comes back as
// `path: message`, all of them at once, so a user fixes a file in one go.
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { defaultControllerSettings, type ControllerSettings } from "../autoscaler/algorithm/index.js";
import { DurationError, parseDurationField } from "../kube/duration.js";
import {
  horizontalPodAutoscalerSchema,
  resourceListSchema,
  type HorizontalPodAutoscaler,
  type MetricSpec,
  type ResourceList,
} from "../kube/objects.js";
import { Quantity } from "../kube/quantity.js";

/** The autoscaler's flags, by the same names (see `prom-hpa autoscaler --help`); durations are Go durations. */
export interface SettingsText {
  syncPeriod?: string;
  upscaleDelay?: string;
  downscaleDelay?: string;
  downscaleStabilization?: string;
  tolerance?: string;
  cpuInitializationPeriod?: string;
  initialReadinessDelay?: string;
}

/** What a step says about one metric. */
export type Level =
  /** Resource/ContainerResource/Pods: the total across Ready pods, split evenly; Object/External: the value */
  | { kind: "total"; milli: bigint }
  /** Resource/ContainerResource/Pods: every Ready pod reports this */
  | { kind: "perPod"; milli: bigint }
  /** the metrics API call fails with this message */
  | { kind: "error"; message: string };

/** One HPA metric as the scenario names it. */
export interface ScenarioMetric {
  /** the key steps use: the resource name, `container/resource`, or the metric's name */
  key: string;
  spec: MetricSpec;
}

export interface ScenarioStep {
  name?: string;
  durationMs: number;
  /** every metric's level, carried over from earlier steps where this one says nothing */
  levels: Map<string, Level>;
  /** how long pods created during this step stay not Ready */
  readyAfterMs: number;
}

export interface ContainerRequests {
  name: string;
  requests: ResourceList;
}

export interface Scenario {
  hpa: HorizontalPodAutoscaler;
  metrics: ScenarioMetric[];
  initialReplicas: number;
  containers: ContainerRequests[];
  labels: Record<string, string>;
  metricWindowMs: number;
  settings: SettingsText;
  steps: ScenarioStep[];
}

/** What the simulation runs with: the sync period plus the algorithm's settings. */
export interface SimulationSettings {
  syncPeriodMs: number;
  controller: ControllerSettings;
}

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join("\n  ")}`}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Shape

/** A Go duration; YAML turns a bare `0` into a number, which means "off" here as in a flag. */
const durationText = z
  .union([z.string(), z.number()], { error: "expected a Go duration such as 30s, 3m or 1h30m" })
  .transform((v, ctx) => {
    if (typeof v === "string" || v === 0) return String(v);
    ctx.addIssue({ code: "custom", message: `${v} needs a unit: a Go duration such as ${v}s or ${v}m` });
    return z.NEVER;
  });

const settingsSchema = z.strictObject({
  syncPeriod: durationText.optional(),
  upscaleDelay: durationText.optional(),
  downscaleDelay: durationText.optional(),
  downscaleStabilization: durationText.optional(),
  tolerance: z
    .union([z.number(), z.string()], { error: "expected a number such as 0.1" })
    .transform((v) => String(v))
    .optional(),
  cpuInitializationPeriod: durationText.optional(),
  initialReadinessDelay: durationText.optional(),
});

const containerSchema = z.strictObject({
  name: z.string({ error: "expected a container name" }),
  requests: resourceListSchema.optional(),
});

const podsSchema = z.strictObject({
  /** requests of the one container "app" (shorthand for `containers`) */
  requests: resourceListSchema.optional(),
  containers: z.array(containerSchema).min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  /** how long a newly created pod stays not Ready (a step may say otherwise) */
  readyAfter: durationText.optional(),
  /** the window metric samples report */
  metricWindow: durationText.optional(),
});

const stepSchema = z.strictObject({
  name: z.string().optional(),
  duration: durationText,
  metrics: z.record(z.string(), z.unknown()).optional(),
  readyAfter: durationText.optional(),
});

const fileSchema = z.strictObject({
  hpa: horizontalPodAutoscalerSchema,
  settings: settingsSchema.optional(),
  initialReplicas: z
    .number({ error: "expected a whole number" })
    .int({ error: "expected a whole number" })
    .min(0)
    .optional(),
  pods: podsSchema.optional(),
  steps: z.array(stepSchema).min(1, { error: "expected at least one step" }),
});

/** `steps[2].metrics.cpu` from zod's path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out === "" ? "(file)" : out;
}

// ---------------------------------------------------------------------------------------------
// Checks that need more than the shape

/** the key a step names this metric by; undefined for a type the simulator cannot feed */
export function metricKey(spec: MetricSpec): string | undefined {
  switch (spec.type) {
    case "Resource":
      return spec.resource?.name;
    case "ContainerResource":
      return spec.containerResource
        ? `${spec.containerResource.container}/${spec.containerResource.name}`
        : undefined;
    case "Pods":
      return spec.pods?.metric.name;
    case "Object":
      return spec.object?.metric.name;
    case "External":
      return spec.external?.metric.name;
    default:
      return undefined;
  }
}

const LEVEL_HELP =
  "expected a number or a quantity such as 1200m or 300Mi, or { total: Q }, { perPod: Q } or { error: text }";

function quantityMilli(raw: unknown): bigint | string {
  if (typeof raw === "number" && !Number.isFinite(raw)) return LEVEL_HELP;
  if (typeof raw !== "number" && typeof raw !== "string") return LEVEL_HELP;
  const parsed = Quantity.parse(typeof raw === "number" ? String(raw).replace("e+", "e") : raw.trim());
  if (!parsed.ok) return `${parsed.error}; ${LEVEL_HELP}`;
  if (parsed.value.sign() < 0) return "a metric level must not be negative";
  return parsed.value.milliValue();
}

/** A level as written in a step; the bare form means total for pod metrics and the value for Object/External. */
function parseLevel(raw: unknown, spec: MetricSpec): Level | string {
  const podMetric = spec.type === "Resource" || spec.type === "ContainerResource" || spec.type === "Pods";
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
    const entries = Object.entries(raw);
    const [only] = entries;
    if (entries.length !== 1 || !only) return LEVEL_HELP;
    const [form, value] = only;
    if (form === "error")
      return typeof value === "string"
        ? { kind: "error", message: value }
        : "error: expected the metrics API's error message";
    if (form !== "total" && form !== "perPod") return `unknown form "${form}"; ${LEVEL_HELP}`;
    if (form === "perPod" && !podMetric)
      return `perPod is for Resource, ContainerResource and Pods metrics; a ${spec.type} metric takes its value`;
    const milli = quantityMilli(value);
    return typeof milli === "string" ? milli : { kind: form, milli };
  }
  const milli = quantityMilli(raw);
  return typeof milli === "string" ? milli : { kind: "total", milli };
}

function durationMs(text: string, path: string, problems: string[]): number {
  try {
    return parseDurationField(text, path);
  } catch (err: unknown) {
    problems.push(err instanceof DurationError ? err.message : `${path}: ${String(err)}`);
    return 0;
  }
}

/** Parse and check a scenario file's text; throws ScenarioError listing every problem with its path. */
export function parseScenario(text: string, source: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err: unknown) {
    const where =
      err instanceof YAMLParseError && err.linePos
        ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})`
        : "";
    throw new ScenarioError(source, [
      `not valid YAML${where}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    ]);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success)
    throw new ScenarioError(
      source,
      parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    );
  const file = parsed.data;
  const problems: string[] = [];

  const hpa = file.hpa;
  const metrics: ScenarioMetric[] = [];
  (hpa.spec.metrics ?? []).forEach((spec, i) => {
    const key = metricKey(spec);
    const path = `hpa.spec.metrics[${i}]`;
    if (key === undefined)
      problems.push(
        `${path}: a ${spec.type} metric without its ${spec.type.charAt(0).toLowerCase()}${spec.type.slice(1)} source cannot be simulated`,
      );
    else if (metrics.some((m) => m.key === key))
      problems.push(`${path}: two metrics are both named "${key}"; steps could not tell them apart`);
    else metrics.push({ key, spec });
  });
  if ((hpa.spec.metrics ?? []).length === 0) problems.push("hpa.spec.metrics: expected at least one metric");
  const minReplicas = hpa.spec.minReplicas ?? 1;
  if (hpa.spec.maxReplicas < Math.max(minReplicas, 1))
    problems.push(`hpa.spec.maxReplicas: ${hpa.spec.maxReplicas} is below minReplicas (${minReplicas})`);

  const pods = file.pods ?? {};
  if (pods.requests && pods.containers)
    problems.push("pods: give either requests (one container) or containers, not both");
  const containers: ContainerRequests[] = pods.containers
    ? pods.containers.map((c) => ({ name: c.name, requests: c.requests ?? {} }))
    : [{ name: "app", requests: pods.requests ?? {} }];
  const targetName = hpa.spec.scaleTargetRef.name;
  const labels = pods.labels ?? { app: targetName };
  if (Object.keys(labels).length === 0)
    problems.push("pods.labels: expected at least one label (the scale's selector is built from them)");
  for (const m of metrics) {
    if (m.spec.type !== "ContainerResource") continue;
    const container = m.spec.containerResource?.container ?? "";
    if (!containers.some((c) => c.name === container))
      problems.push(
        `hpa.spec.metrics: container "${container}" of metric ${m.key} is not among pods.containers`,
      );
  }
  const defaultReadyAfterMs =
    pods.readyAfter !== undefined ? durationMs(pods.readyAfter, "pods.readyAfter", problems) : 0;
  const metricWindowMs =
    pods.metricWindow !== undefined ? durationMs(pods.metricWindow, "pods.metricWindow", problems) : 30_000;

  const steps: ScenarioStep[] = [];
  let carried = new Map<string, Level>();
  file.steps.forEach((step, i) => {
    const path = `steps[${i}]`;
    const ms = durationMs(step.duration, `${path}.duration`, problems);
    if (ms <= 0 && !problems.some((p) => p.startsWith(`${path}.duration`)))
      problems.push(`${path}.duration: expected a positive duration`);
    const levels = new Map(carried);
    for (const [key, value] of Object.entries(step.metrics ?? {})) {
      const metric = metrics.find((m) => m.key === key);
      if (!metric) {
        problems.push(
          `${path}.metrics.${key}: the HPA has no metric "${key}" (it has ${metrics.map((m) => m.key).join(", ") || "none"})`,
        );
        continue;
      }
      const level = parseLevel(value, metric.spec);
      if (typeof level === "string") problems.push(`${path}.metrics.${key}: ${level}`);
      else levels.set(key, level);
    }
    if (i === 0) {
      for (const m of metrics)
        if (!levels.has(m.key))
          problems.push(
            `${path}.metrics.${m.key}: missing; the first step must give every metric's level (later steps carry it over)`,
          );
    }
    carried = levels;
    steps.push({
      ...(step.name !== undefined ? { name: step.name } : {}),
      durationMs: ms,
      levels,
      readyAfterMs:
        step.readyAfter !== undefined
          ? durationMs(step.readyAfter, `${path}.readyAfter`, problems)
          : defaultReadyAfterMs,
    });
  });

  const settings: SettingsText = { ...(file.settings ?? {}) };
  // resolve once here so that a bad setting in the file is reported with the other problems
  try {
    resolveSettings(settings, {}, "settings.");
  } catch (err: unknown) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return {
    hpa,
    metrics,
    initialReplicas: file.initialReplicas ?? minReplicas,
    containers,
    labels,
    metricWindowMs,
    settings,
    steps,
  };
}

const FLAG_NAMES: Record<keyof SettingsText, string> = {
  syncPeriod: "--sync-period",
  upscaleDelay: "--upscale-delay",
  downscaleDelay: "--downscale-delay",
  downscaleStabilization: "--downscale-stabilization",
  tolerance: "--tolerance",
  cpuInitializationPeriod: "--cpu-initialization-period",
  initialReadinessDelay: "--initial-readiness-delay",
};

/**
 * The file's settings with the flags given on the command line winning, and the autoscaler's own
 * defaults (sync 15s, delays off) for what neither says. Errors name the flag or the file's field.
 */
export function resolveSettings(
  file: SettingsText,
  flags: SettingsText,
  filePrefix = "settings.",
): SimulationSettings {
  const pick = (k: keyof SettingsText): { text: string; field: string } | undefined => {
    const f = flags[k];
    if (f !== undefined) return { text: f, field: FLAG_NAMES[k] };
    const v = file[k];
    return v !== undefined ? { text: v, field: `${filePrefix}${k}` } : undefined;
  };
  const seconds = (k: keyof SettingsText, fallback: number): number => {
    const p = pick(k);
    return p ? Math.round(parseDurationField(p.text, p.field) / 1000) : fallback;
  };
  const d = defaultControllerSettings;
  const sync = pick("syncPeriod");
  const syncPeriodMs = sync ? parseDurationField(sync.text, sync.field) : 15_000;
  if (syncPeriodMs < 1000)
    throw new Error(`${sync?.field ?? "syncPeriod"}: "${sync?.text ?? ""}" is below the minimum of 1s`);
  const tol = pick("tolerance");
  let tolerance = d.tolerance;
  if (tol) {
    tolerance = Number(tol.text);
    if (tol.text.trim() === "" || !Number.isFinite(tolerance) || tolerance < 0)
      throw new Error(`${tol.field}: "${tol.text}" is not a non-negative number (e.g. 0.1)`);
  }
  return {
    syncPeriodMs,
    controller: {
      ...d,
      tolerance,
      upscaleDelaySeconds: seconds("upscaleDelay", 0),
      downscaleDelaySeconds: seconds("downscaleDelay", 0),
      downscaleStabilizationWindowSeconds: seconds(
        "downscaleStabilization",
        d.downscaleStabilizationWindowSeconds,
      ),
      cpuInitializationPeriodSeconds: seconds("cpuInitializationPeriod", d.cpuInitializationPeriodSeconds),
      delayOfInitialReadinessStatusSeconds: seconds(
        "initialReadinessDelay",
        d.delayOfInitialReadinessStatusSeconds,
      ),
    },
  };
}
