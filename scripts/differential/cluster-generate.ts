// Random autoscaling/v2 HPAs and the metric levels and pod disturbances each one sees over K
// steps, from a seed, for the cluster differential (cluster-run.ts). Pure: the same seed gives the
// same HPAs and the same sequence. Each HPA scales a Deployment of its own name whose pods the
// level exporter serves (test/e2e/support/autoscaler-env.ts): a level is "u replicas' worth" of
// the per-pod base value below, so targets and levels land on interesting replica counts.
import type { Levels } from "../../test/e2e/support/autoscaler-env.js";
import { Rng } from "./generate.js";

export const CLUSTER_VARIANTS = [
  "Resource/cpu/Utilization",
  "Resource/cpu/AverageValue",
  "Resource/memory/Utilization",
  "Resource/memory/AverageValue",
  "ContainerResource/Utilization",
  "ContainerResource/AverageValue",
  "Pods/AverageValue",
  "Object/Value",
  "Object/AverageValue",
  "External/Value",
  "External/AverageValue",
] as const;
export type ClusterVariant = (typeof CLUSTER_VARIANTS)[number];

/** The External metric no rule serves: every read of it fails. */
export const UNSERVED_METRIC = "e2e_nobody_serves_this";

type Family = Exclude<keyof Levels, "missingPods">;
const MI = 1024 * 1024;
/** One replica's worth of each family's level (the pods' requests are 100m cpu, 64Mi memory). */
const UNIT: Record<Family, number> = { cpu: 0.05, memory: 32 * MI, load: 0.1, object: 0.1, queue: 0.1 };

/** What one step does to an HPA's app. */
export interface StepPlan {
  /** the families' levels; a family the HPA reads but left out here fails this step */
  levels: Levels;
  /** pods (the first by name) whose pod-level samples are left out */
  missingPods: number;
  /** pods patched to Ready=False */
  unready: number;
  /** pods patched to have just started (startTime and Ready transition now) */
  justStarted: number;
  /** pods deleted (their ReplicaSet replaces them) */
  deletePods: number;
}

export interface HpaCase {
  name: string;
  initialReplicas: number;
  variants: ClusterVariant[];
  /** an External metric nobody serves is among the metrics */
  unserved: boolean;
  /** the HPA's spec without scaleTargetRef */
  spec: { minReplicas: number; maxReplicas: number; metrics: object[]; behavior?: object };
  steps: StepPlan[];
}

export interface ClusterScenario {
  seed: number;
  hpas: HpaCase[];
}

const familyOf = (v: ClusterVariant): Family => {
  if (v.startsWith("Pods")) return "load";
  if (v.startsWith("Object")) return "object";
  if (v.startsWith("External")) return "queue";
  if (v.includes("memory")) return "memory";
  return "cpu";
};

/** A quantity string for a number of base units (milli for everything but memory). */
const milli = (x: number): string => `${Math.round(x * 1000)}m`;
const mebi = (x: number): string => `${Math.round(x / MI)}Mi`;

function metricSpec(rng: Rng, v: ClusterVariant, app: string): object {
  const factor = rng.pick([0.5, 1, 2]);
  const resource = (name: "cpu" | "memory") => {
    const unit = UNIT[name];
    return v.endsWith("Utilization")
      ? { type: "Utilization", averageUtilization: Math.round(factor * 50) }
      : { type: "AverageValue", averageValue: name === "cpu" ? milli(unit * factor) : mebi(unit * factor) };
  };
  switch (v) {
    case "Resource/cpu/Utilization":
    case "Resource/cpu/AverageValue":
      return { type: "Resource", resource: { name: "cpu", target: resource("cpu") } };
    case "Resource/memory/Utilization":
    case "Resource/memory/AverageValue":
      return { type: "Resource", resource: { name: "memory", target: resource("memory") } };
    case "ContainerResource/Utilization":
    case "ContainerResource/AverageValue": {
      const name = rng.pick(["cpu", "memory"] as const);
      return {
        type: "ContainerResource",
        containerResource: { name, container: "web", target: resource(name) },
      };
    }
    case "Pods/AverageValue":
      return {
        type: "Pods",
        pods: {
          metric: { name: "e2e_load" },
          target: { type: "AverageValue", averageValue: milli(UNIT.load * factor) },
        },
      };
    case "Object/Value":
    case "Object/AverageValue":
      return {
        type: "Object",
        object: {
          describedObject: { apiVersion: "v1", kind: "Service", name: app },
          metric: { name: "e2e_front_load" },
          target: v.endsWith("AverageValue")
            ? { type: "AverageValue", averageValue: milli(UNIT.object * factor) }
            : { type: "Value", value: milli(UNIT.object * factor * rng.int(1, 3)) },
        },
      };
    case "External/Value":
    case "External/AverageValue":
      return {
        type: "External",
        external: {
          metric: { name: "e2e_queue", selector: { matchLabels: { queue: app } } },
          target: v.endsWith("AverageValue")
            ? { type: "AverageValue", averageValue: milli(UNIT.queue * factor) }
            : { type: "Value", value: milli(UNIT.queue * factor * rng.int(1, 3)) },
        },
      };
  }
}

function rules(rng: Rng, up: boolean): object {
  const policies = Array.from({ length: rng.int(1, 2) }, () =>
    rng.chance(0.5)
      ? { type: "Pods", value: rng.int(1, 3), periodSeconds: rng.pick([3, 6, 12]) }
      : { type: "Percent", value: rng.pick([10, 50, 100, 200]), periodSeconds: rng.pick([3, 6, 12]) },
  );
  return {
    stabilizationWindowSeconds: rng.pick(up ? [0, 0, 6] : [0, 6, 12]),
    selectPolicy: rng.pick(["Max", "Max", "Min", "Disabled"]),
    policies,
    ...(rng.chance(0.3) ? { tolerance: rng.pick(["0", "50m", "200m"]) } : {}),
  };
}

function stepPlan(rng: Rng, families: Set<Family>, maxReplicas: number, canBeZero: boolean): StepPlan {
  const levels: Levels = {};
  for (const f of families) {
    // now and then a family is not served for a step: each metric of it fails
    if (rng.chance(0.08)) continue;
    const u =
      canBeZero && (f === "object" || f === "queue") && rng.chance(0.2) ? 0 : rng.next() * (maxReplicas + 1);
    levels[f] = Math.round(u * UNIT[f] * 1000) / 1000;
  }
  const some = (p: number) => (rng.chance(p) ? 1 : 0);
  return {
    levels,
    missingPods: some(0.2),
    unready: some(0.2),
    justStarted: some(0.2),
    deletePods: some(0.15),
  };
}

export function generateHpa(rng: Rng, name: string, steps: number): HpaCase {
  const variants = [...new Set(Array.from({ length: rng.int(1, 3) }, () => rng.pick(CLUSTER_VARIANTS)))];
  const unserved = rng.chance(0.12);
  const metrics = variants.map((v) => metricSpec(rng, v, name));
  if (unserved)
    metrics.push({
      type: "External",
      external: {
        metric: { name: UNSERVED_METRIC, selector: { matchLabels: { queue: name } } },
        target: { type: "AverageValue", averageValue: "100m" },
      },
    });
  const objectOrExternal =
    unserved || variants.some((v) => v.startsWith("Object") || v.startsWith("External"));
  const minReplicas = objectOrExternal && rng.chance(0.35) ? 0 : rng.int(1, 2);
  const maxReplicas = Math.max(minReplicas, 1) + rng.int(1, 5);
  const behavior = rng.chance(0.6)
    ? {
        ...(rng.chance(0.7) ? { scaleUp: rules(rng, true) } : {}),
        ...(rng.chance(0.7) ? { scaleDown: rules(rng, false) } : {}),
      }
    : undefined;
  const families = new Set(variants.map(familyOf));
  return {
    name,
    initialReplicas: rng.int(Math.max(minReplicas, 1), maxReplicas),
    variants,
    unserved,
    spec: { minReplicas, maxReplicas, metrics, ...(behavior ? { behavior } : {}) },
    steps: Array.from({ length: steps }, () => stepPlan(rng, families, maxReplicas, minReplicas === 0)),
  };
}

export function generateScenario(seed: number, hpas: number, steps: number): ClusterScenario {
  const rng = new Rng(seed);
  return {
    seed,
    hpas: Array.from({ length: hpas }, (_, i) => generateHpa(rng, `r${seed}-${i}`, steps)),
  };
}
