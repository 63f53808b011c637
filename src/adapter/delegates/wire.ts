// What a delegate answers, parsed once at the boundary: its discovery lists (APIResourceList),
// its metric value lists (external; custom v1beta1 and v1beta2), and its Status on failure.
import { z } from "zod";
import { parseGoDuration } from "../../kube/duration.js";
import { quantitySchema } from "../../kube/quantity.js";
import type {
  CustomMetricInfo,
  ExternalMetricInfo,
  ExternalMetricValue,
  ObjectReference,
} from "../provider.js";

export const apiResourceListSchema = z.object({
  kind: z.literal("APIResourceList"),
  groupVersion: z.string(),
  resources: z
    .array(z.object({ name: z.string(), namespaced: z.boolean().optional().default(false) }))
    .nullish()
    .transform((r) => r ?? []),
});

/** External metric names from an external.metrics.k8s.io APIResourceList. */
export function externalInfos(list: z.infer<typeof apiResourceListSchema>): ExternalMetricInfo[] {
  return list.resources.map((r) => ({ metric: r.name }));
}

/** "pods/http_requests", "deployments.apps/x" → CustomMetricInfo; other names are skipped. */
export function customInfos(list: z.infer<typeof apiResourceListSchema>): CustomMetricInfo[] {
  return list.resources.flatMap((r) => {
    const slash = r.name.indexOf("/");
    if (slash <= 0 || slash === r.name.length - 1) return [];
    const resource = r.name.slice(0, slash);
    const dot = resource.indexOf(".");
    const groupResource =
      dot < 0
        ? { group: "", resource }
        : { group: resource.slice(dot + 1), resource: resource.slice(0, dot) };
    return [{ groupResource, metric: r.name.slice(slash + 1), namespaced: r.namespaced }];
  });
}

const time = z.string().transform((s, ctx) => {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: "custom", message: `not a time: ${s}` });
    return z.NEVER;
  }
  return d;
});

export const externalMetricValueListSchema = z.object({
  kind: z.literal("ExternalMetricValueList"),
  items: z
    .array(
      z.object({
        metricName: z.string(),
        metricLabels: z.record(z.string(), z.string()).nullish(),
        timestamp: time,
        window: z.number().nullish(),
        value: quantitySchema,
      }),
    )
    .nullish(),
});

export function externalValues(list: z.infer<typeof externalMetricValueListSchema>): ExternalMetricValue[] {
  return (list.items ?? []).map((i) => {
    const v: ExternalMetricValue = {
      metricName: i.metricName,
      metricLabels: i.metricLabels ?? {},
      timestamp: i.timestamp,
      value: i.value,
    };
    if (i.window !== undefined && i.window !== null) v.windowSeconds = i.window;
    return v;
  });
}

const describedObject = z.object({
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  apiVersion: z.string(),
});

/** A custom MetricValue of either version, with the fields the two name differently made one. */
export const metricValueListSchema = z.object({
  kind: z.literal("MetricValueList"),
  items: z
    .array(
      z.object({
        describedObject,
        metricName: z.string().optional(), // v1beta1
        metric: z.object({ name: z.string() }).optional(), // v1beta2
        timestamp: time,
        window: z.string().nullish(), // v1beta1: a Go duration
        windowSeconds: z.number().nullish(), // v1beta2
        value: quantitySchema,
      }),
    )
    .nullish(),
});

export interface DelegatedCustomValue {
  describedObject: ObjectReference;
  metric: string;
  timestamp: Date;
  windowSeconds?: number;
  value: z.infer<typeof quantitySchema>;
}

export function customValues(list: z.infer<typeof metricValueListSchema>): DelegatedCustomValue[] {
  return (list.items ?? []).map((i) => {
    const ref: ObjectReference = {
      kind: i.describedObject.kind,
      name: i.describedObject.name,
      apiVersion: i.describedObject.apiVersion,
    };
    if (i.describedObject.namespace) ref.namespace = i.describedObject.namespace;
    const v: DelegatedCustomValue = {
      describedObject: ref,
      metric: i.metric?.name ?? i.metricName ?? "",
      timestamp: i.timestamp,
      value: i.value,
    };
    if (i.windowSeconds !== undefined && i.windowSeconds !== null) v.windowSeconds = i.windowSeconds;
    else if (i.window) {
      const d = parseGoDuration(i.window);
      if (d.ok) v.windowSeconds = d.ms / 1000;
    }
    return v;
  });
}

export const statusSchema = z.object({
  kind: z.literal("Status"),
  message: z.string().optional(),
  code: z.number().optional(),
});
