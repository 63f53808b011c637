// Random replica-calculator cases in the shape of the `replicaCalc` conformance vectors' input,
// from a seed. Times are whole seconds around CASE_EPOCH, the "now" the Go oracle shifts to its
// own clock (scripts/kube/cmd/hpa-oracle): boundaries then fall on whole seconds on both sides.

export const CASE_EPOCH_MS = Date.UTC(2030, 0, 1);
/** our calculator evaluates at half a second past the epoch, where the oracle's clock also is */
export const CASE_NOW_MS = CASE_EPOCH_MS + 500;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** mulberry32: a small seeded PRNG, enough to spread cases (not for anything secret). */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
}

export interface GenerateOptions {
  /** generate pods in phase Succeeded (our calculator ignores them per upstream PR #141302; v1.37.2 does not) */
  succeeded: boolean;
}

export const METRIC_VARIANTS = [
  "Resource/Utilization",
  "Resource/AverageValue",
  "ContainerResource/Utilization",
  "ContainerResource/AverageValue",
  "Pods/AverageValue",
  "Object/Value",
  "Object/AverageValue",
  "External/Value",
  "External/AverageValue",
] as const;
export type MetricVariant = (typeof METRIC_VARIANTS)[number];

const NAMESPACE = "ns";
const SELECTED = { app: "web" };

const time = (offsetSeconds: number): string =>
  new Date(CASE_EPOCH_MS + offsetSeconds * 1000).toISOString().replace(".000Z", "Z");

/** a milli-value as a quantity string, in one of the spellings the APIs use */
function quantity(rng: Rng, milli: number): string {
  if (milli % 1000 === 0 && rng.chance(0.5)) return String(milli / 1000);
  if (milli % 1_000_000 === 0 && rng.chance(0.5)) return `${milli / 1_000_000}k`;
  return `${milli}m`;
}

/** a milli-value, mostly small, now and then large */
function milli(rng: Rng, scale: number): number {
  const r = rng.next();
  if (r < 0.05) return 0;
  if (r < 0.1) return rng.int(1, 10);
  if (r < 0.95) return rng.int(1, 4 * scale);
  return rng.int(1, 1000) * 1_000_000;
}

interface PodPlan {
  name: string;
  selected: boolean;
  hasMetric: boolean;
}

function genPod(
  rng: Rng,
  i: number,
  options: GenerateOptions,
  settings: { cpuInit: number; delay: number },
  resourceNames: string[],
): { pod: JsonObject; plan: PodPlan } {
  const name = `pod-${i}`;
  const selected = !rng.chance(0.08);
  const phases = [
    "Running",
    "Running",
    "Running",
    "Running",
    "Running",
    "Pending",
    "Failed",
    "Unknown",
    ...(options.succeeded ? ["Succeeded"] : []),
  ];
  const phase = rng.pick(phases);
  // start times around the CPU initialization period's edge, and well before or after it
  const startAgo = rng.pick([
    settings.cpuInit,
    settings.cpuInit + 1,
    settings.cpuInit - 1,
    rng.int(0, 900),
    rng.int(0, 60),
    3600,
  ]);
  const status: JsonObject = { phase };
  if (!rng.chance(0.05)) status.startTime = time(-startAgo);
  if (!rng.chance(0.08)) {
    const condition: JsonObject = { type: "Ready", status: rng.pick(["True", "True", "False", "Unknown"]) };
    if (!rng.chance(0.1)) {
      // transitions around the initial readiness delay's edge, and anywhere since the start
      const after = rng.pick([
        settings.delay,
        settings.delay + 1,
        settings.delay - 1,
        rng.int(0, Math.max(0, startAgo)),
        0,
        -5,
      ]);
      condition.lastTransitionTime = time(-startAgo + after);
    }
    status.conditions = rng.chance(0.1) ? [{ type: "PodScheduled", status: "True" }, condition] : [condition];
  }
  const requests = (): JsonObject | undefined => {
    if (rng.chance(0.1)) return undefined;
    const out: JsonObject = {};
    for (const r of resourceNames) {
      if (rng.chance(0.05)) continue;
      out[r] =
        r === "memory"
          ? `${rng.int(1, 512)}Mi`
          : quantity(rng, rng.pick([100, 200, 250, 500, 1000, 2000, rng.int(1, 4000)]));
    }
    return out;
  };
  const container = (cname: string): JsonObject => {
    const r = requests();
    return r ? { name: cname, resources: { requests: r } } : { name: cname };
  };
  const spec: JsonObject = {
    containers: rng.chance(0.3) ? [container("app"), container("sidecar")] : [container("app")],
  };
  if (rng.chance(0.1)) spec.initContainers = [{ ...container("init-sidecar"), restartPolicy: "Always" }];
  if (rng.chance(0.05)) spec.initContainers = [container("init")];
  if (rng.chance(0.05)) {
    const r = requests();
    if (r) spec.resources = { requests: r };
  }
  const metadata: JsonObject = {
    name,
    namespace: NAMESPACE,
    labels: selected ? { ...SELECTED } : { app: "other" },
  };
  if (rng.chance(0.05)) metadata.deletionTimestamp = time(-rng.int(0, 30));
  return { pod: { metadata, spec, status }, plan: { name, selected, hasMetric: !rng.chance(0.12) } };
}

function errorResponse(rng: Rng): JsonObject {
  return {
    error: rng.pick([
      "the server is currently unable to handle the request",
      "connection refused",
      'metric "x" not found',
    ] as const),
  };
}

function podMetricsResponse(rng: Rng, plans: PodPlan[], resourceNames: string[]): JsonObject {
  const items: JsonObject[] = [];
  const extra = rng.chance(0.1) ? [{ name: "pod-gone", selected: true, hasMetric: true }] : [];
  for (const plan of [...plans, ...extra]) {
    // the metrics API answers only for the pods the selector picks
    if (!plan.hasMetric || !plan.selected) continue;
    const containers = ["app", ...(rng.chance(0.3) ? ["sidecar"] : [])].map((cname) => {
      const usage: JsonObject = {};
      for (const r of resourceNames) {
        if (rng.chance(0.03)) continue;
        usage[r] = r === "memory" ? `${rng.int(1, 1024)}Mi` : quantity(rng, milli(rng, 500));
      }
      return { name: cname, usage };
    });
    items.push({
      // the metrics API selects by the pods' labels and returns them
      metadata: {
        name: plan.name,
        namespace: NAMESPACE,
        labels: plan.selected ? { ...SELECTED } : { app: "other" },
      },
      timestamp: time(-rng.pick([0, 5, 15, 30, 60, rng.int(0, 600)])),
      window: rng.pick(["30s", "1m0s", "15s", "5m0s"]),
      containers,
    });
  }
  return { apiVersion: "metrics.k8s.io/v1beta1", kind: "PodMetricsList", items };
}

function customPodsResponse(rng: Rng, plans: PodPlan[], target: number): JsonObject {
  const items: JsonObject[] = [];
  for (const plan of plans) {
    if (!plan.hasMetric) continue;
    const item: JsonObject = {
      describedObject: { kind: "Pod", namespace: NAMESPACE, name: plan.name, apiVersion: "v1" },
      metric: { name: "qps" },
      timestamp: time(-rng.int(0, 120)),
      value: quantity(rng, rng.chance(0.7) ? rng.int(0, 2 * target) : milli(rng, target)),
    };
    if (rng.chance(0.5)) item.windowSeconds = rng.pick([30, 60, 15]);
    items.push(item);
  }
  return { apiVersion: "custom.metrics.k8s.io/v1beta2", kind: "MetricValueList", items };
}

function objectResponse(rng: Rng, target: number): JsonObject {
  const count = rng.pick([1, 1, 1, 1, 1, 1, 0, 2]);
  const items = Array.from({ length: count }, () => ({
    describedObject: { kind: "Service", namespace: NAMESPACE, name: "frontend", apiVersion: "v1" },
    metric: { name: "requests" },
    timestamp: time(-rng.int(0, 120)),
    value: quantity(rng, rng.chance(0.7) ? rng.int(0, 3 * target) : milli(rng, target)),
  }));
  return { apiVersion: "custom.metrics.k8s.io/v1beta2", kind: "MetricValueList", items };
}

function externalResponse(rng: Rng, target: number): JsonObject {
  const count = rng.pick([1, 1, 1, 2, 3, 0]);
  const items = Array.from({ length: count }, (_, i) => ({
    metricName: "queue_depth",
    metricLabels: { queue: `q${i}` },
    timestamp: time(-rng.int(0, 120)),
    value: quantity(rng, rng.chance(0.7) ? rng.int(0, 3 * target) : milli(rng, target)),
  }));
  return { apiVersion: "external.metrics.k8s.io/v1beta1", kind: "ExternalMetricValueList", items };
}

const TOLERANCE_QUANTITIES = ["0", "0.05", "50m", "0.1", "100m", "0.2", "1", "10m", "0.333", "1.5"] as const;

/** One random case: the input of a `replicaCalc` vector (now = CASE_EPOCH). */
export function generateCase(
  rng: Rng,
  options: GenerateOptions,
): { variant: MetricVariant; input: JsonObject } {
  const variant = rng.pick(METRIC_VARIANTS);
  const [sourceType, targetType] = variant.split("/") as [string, string];
  const cpuInit = rng.pick([0, 30, 120, 300]);
  const delay = rng.pick([0, 10, 30]);
  const controller = {
    tolerance: rng.pick([0, 0.01, 0.05, 0.1, 0.1, 0.1, 0.2, 0.5]),
    cpuInitializationPeriodSeconds: cpuInit,
    delayOfInitialReadinessStatusSeconds: delay,
  };
  const currentReplicas = rng.chance(0.08) ? 0 : rng.int(1, 12);

  const resource = rng.pick(["cpu", "cpu", "cpu", "memory"]);
  const resourceNames = rng.chance(0.8) ? ["cpu", "memory"] : [resource];
  const podCount = rng.chance(0.05) ? 0 : rng.int(1, 8);
  const pods: JsonObject[] = [];
  const plans: PodPlan[] = [];
  for (let i = 0; i < podCount; i++) {
    const { pod, plan } = genPod(rng, i, options, { cpuInit, delay }, resourceNames);
    pods.push(pod);
    plans.push(plan);
  }

  let metric: JsonObject;
  let response: JsonObject;
  const targetMilli = rng.pick([100, 200, 500, 1000, 1500, 10_000, rng.int(1, 5000)]);
  if (sourceType === "Resource" || sourceType === "ContainerResource") {
    const target: JsonObject =
      targetType === "Utilization"
        ? { type: "Utilization", averageUtilization: rng.pick([10, 50, 60, 80, 100, 150, rng.int(1, 200)]) }
        : {
            type: "AverageValue",
            averageValue: resource === "memory" ? `${rng.int(1, 512)}Mi` : quantity(rng, targetMilli),
          };
    metric =
      sourceType === "Resource"
        ? { type: "Resource", resource: { name: resource, target } }
        : {
            type: "ContainerResource",
            containerResource: {
              name: resource,
              container: rng.pick(["app", "app", "sidecar", "init-sidecar", "missing"]),
              target,
            },
          };
    response = podMetricsResponse(rng, plans, resourceNames);
  } else if (sourceType === "Pods") {
    metric = {
      type: "Pods",
      pods: {
        metric: { name: "qps" },
        target: { type: "AverageValue", averageValue: quantity(rng, targetMilli) },
      },
    };
    response = customPodsResponse(rng, plans, targetMilli);
  } else if (sourceType === "Object") {
    const target: JsonObject =
      targetType === "Value"
        ? { type: "Value", value: quantity(rng, targetMilli) }
        : { type: "AverageValue", averageValue: quantity(rng, targetMilli) };
    metric = {
      type: "Object",
      object: {
        describedObject: { kind: "Service", name: "frontend", apiVersion: "v1" },
        metric: { name: "requests" },
        target,
      },
    };
    response = objectResponse(rng, targetMilli);
  } else {
    const target: JsonObject =
      targetType === "Value"
        ? { type: "Value", value: quantity(rng, targetMilli) }
        : { type: "AverageValue", averageValue: quantity(rng, targetMilli) };
    const selector: JsonObject | undefined = rng.chance(0.5)
      ? { matchLabels: { queue: "q0" } }
      : rng.chance(0.3)
        ? { matchExpressions: [{ key: "queue", operator: "In", values: ["q0", "q1"] }] }
        : undefined;
    metric = {
      type: "External",
      external: { metric: selector ? { name: "queue_depth", selector } : { name: "queue_depth" }, target },
    };
    response = externalResponse(rng, targetMilli * Math.max(1, currentReplicas));
  }
  if (rng.chance(0.04)) response = errorResponse(rng);

  const input: JsonObject = {
    now: new Date(CASE_NOW_MS).toISOString(),
    controller,
    currentReplicas,
    metric,
    selector: { matchLabels: { ...SELECTED } },
    pods,
    metricResponse: response,
    namespace: NAMESPACE,
  };
  if (rng.chance(0.1)) input.specReplicas = rng.int(0, 12);
  if (rng.chance(0.3)) {
    const behavior: JsonObject = {};
    if (rng.chance(0.7)) behavior.scaleUp = { tolerance: rng.pick(TOLERANCE_QUANTITIES) };
    if (rng.chance(0.7)) behavior.scaleDown = { tolerance: rng.pick(TOLERANCE_QUANTITIES) };
    input.behavior = behavior;
  }
  return { variant, input };
}
