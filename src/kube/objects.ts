// The Kubernetes API objects prom-hpa reads and writes, parsed once with zod at the boundary.
// Objects are loose: fields we do not model survive a parse → modify → write-back round trip.
// Quantities parse to `Quantity`; times stay RFC 3339 strings (see `kubeTimeToEpochMs`).
import { z } from "zod";
import { quantitySchema } from "./quantity.js";

// ---------------------------------------------------------------------------------------------
// Times

/** Go's zero `time.Time` as metav1.Time prints it; upstream's tests use it for "unset". */
export const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time (as metav1.Time reads it); Go serialises a zero metav1.Time as `null`, so that is accepted too. */
export const timeSchema = z
  .string()
  .refine((s) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)), {
    message: "expected an RFC 3339 time such as 2026-01-01T00:00:00Z",
  })
  .nullable();

/**
 * Epoch milliseconds of an API time, or `undefined` when it is absent/null. Go's zero time
 * converts to its real instant (year 1), so it compares as "long ago", as it does upstream.
 */
export function kubeTimeToEpochMs(time: string | null | undefined): number | undefined {
  if (time === null || time === undefined) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}

/** RFC 3339 (seconds precision, UTC) as metav1.Time marshals it. */
export function epochMsToKubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

// ---------------------------------------------------------------------------------------------
// Metadata, selectors, references

const int32 = z.number().int().min(-2147483648).max(2147483647);
const int64 = z.number().int();
const labelsSchema = z.record(z.string(), z.string());

export const objectMetaSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: int64.optional(),
  creationTimestamp: timeSchema.optional(),
  deletionTimestamp: timeSchema.optional(),
  labels: labelsSchema.nullable().optional(),
  annotations: labelsSchema.nullable().optional(),
});
export type ObjectMeta = z.infer<typeof objectMetaSchema>;

export const listMetaSchema = z.looseObject({
  resourceVersion: z.string().optional(),
  selfLink: z.string().optional(),
  continue: z.string().optional(),
});

export const labelSelectorOperatorSchema = z.enum(["In", "NotIn", "Exists", "DoesNotExist"]);
export const labelSelectorRequirementSchema = z.looseObject({
  key: z.string(),
  operator: labelSelectorOperatorSchema,
  values: z.array(z.string()).nullable().optional(),
});
export type LabelSelectorRequirement = z.infer<typeof labelSelectorRequirementSchema>;

/** metav1.LabelSelector */
export const labelSelectorSchema = z.looseObject({
  matchLabels: labelsSchema.nullable().optional(),
  matchExpressions: z.array(labelSelectorRequirementSchema).nullable().optional(),
});
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

/** autoscaling/v2 CrossVersionObjectReference */
export const crossVersionObjectReferenceSchema = z.looseObject({
  kind: z.string(),
  name: z.string(),
  apiVersion: z.string().optional(),
});
export type CrossVersionObjectReference = z.infer<typeof crossVersionObjectReferenceSchema>;

/** core/v1 ObjectReference (the described object of a MetricValue) */
export const objectReferenceSchema = z.looseObject({
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  apiVersion: z.string().optional(),
  resourceVersion: z.string().optional(),
  fieldPath: z.string().optional(),
});
export type ObjectReference = z.infer<typeof objectReferenceSchema>;

// ---------------------------------------------------------------------------------------------
// Pod (only what the replica calculator and the adapter read)

const resourceListSchema = z.record(z.string(), quantitySchema);
export type ResourceList = z.infer<typeof resourceListSchema>;
export { resourceListSchema };

export const containerSchema = z.looseObject({
  name: z.string(),
  /** "Always" on an init container makes it a sidecar, whose requests count towards the pod's */
  restartPolicy: z.string().optional(),
  resources: z
    .looseObject({
      requests: resourceListSchema.nullable().optional(),
      limits: resourceListSchema.nullable().optional(),
    })
    .optional(),
});
export type Container = z.infer<typeof containerSchema>;

export const podConditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  lastProbeTime: timeSchema.optional(),
  lastTransitionTime: timeSchema.optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type PodCondition = z.infer<typeof podConditionSchema>;

export const podSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({
    containers: z.array(containerSchema),
    initContainers: z.array(containerSchema).nullable().optional(),
    nodeName: z.string().optional(),
    /** the RuntimeClass's per-pod overhead, counted into pod-level aggregates */
    overhead: resourceListSchema.nullable().optional(),
    /** pod-level resources (KEP-2837) */
    resources: z
      .looseObject({
        requests: resourceListSchema.nullable().optional(),
        limits: resourceListSchema.nullable().optional(),
      })
      .nullable()
      .optional(),
  }),
  status: z
    .looseObject({
      phase: z.string().optional(),
      startTime: timeSchema.optional(),
      conditions: z.array(podConditionSchema).nullable().optional(),
    })
    .optional(),
});
export type Pod = z.infer<typeof podSchema>;

export const podListSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: listMetaSchema.optional(),
  items: z.array(podSchema),
});
export type PodList = z.infer<typeof podListSchema>;

// ---------------------------------------------------------------------------------------------
// autoscaling/v2 HorizontalPodAutoscaler

export const metricIdentifierSchema = z.looseObject({
  name: z.string(),
  selector: labelSelectorSchema.nullable().optional(),
});
export type MetricIdentifier = z.infer<typeof metricIdentifierSchema>;

export const metricTargetTypeSchema = z.enum(["Utilization", "Value", "AverageValue"]);
export type MetricTargetType = z.infer<typeof metricTargetTypeSchema>;

export const metricTargetSchema = z.looseObject({
  type: metricTargetTypeSchema,
  value: quantitySchema.optional(),
  averageValue: quantitySchema.optional(),
  averageUtilization: int32.optional(),
});
export type MetricTarget = z.infer<typeof metricTargetSchema>;

export const metricSourceTypeSchema = z.enum(["Object", "Pods", "Resource", "ContainerResource", "External"]);
export type MetricSourceType = z.infer<typeof metricSourceTypeSchema>;

export const objectMetricSourceSchema = z.looseObject({
  describedObject: crossVersionObjectReferenceSchema,
  target: metricTargetSchema,
  metric: metricIdentifierSchema,
});
export const podsMetricSourceSchema = z.looseObject({
  metric: metricIdentifierSchema,
  target: metricTargetSchema,
});
export const resourceMetricSourceSchema = z.looseObject({
  name: z.string(),
  target: metricTargetSchema,
});
export const containerResourceMetricSourceSchema = z.looseObject({
  name: z.string(),
  target: metricTargetSchema,
  container: z.string(),
});
export const externalMetricSourceSchema = z.looseObject({
  metric: metricIdentifierSchema,
  target: metricTargetSchema,
});

/**
 * autoscaling/v2 MetricSpec. `type` is a plain string so that an HPA naming an unknown type
 * still parses and the controller can report InvalidMetricSourceType, as upstream does.
 */
export const metricSpecSchema = z.looseObject({
  type: z.string(),
  object: objectMetricSourceSchema.nullable().optional(),
  pods: podsMetricSourceSchema.nullable().optional(),
  resource: resourceMetricSourceSchema.nullable().optional(),
  containerResource: containerResourceMetricSourceSchema.nullable().optional(),
  external: externalMetricSourceSchema.nullable().optional(),
});
export type MetricSpec = z.infer<typeof metricSpecSchema>;

export const metricValueStatusSchema = z.looseObject({
  value: quantitySchema.optional(),
  averageValue: quantitySchema.optional(),
  averageUtilization: int32.optional(),
});
export type MetricValueStatus = z.infer<typeof metricValueStatusSchema>;

export const metricStatusSchema = z.looseObject({
  type: z.string(),
  object: z
    .looseObject({
      metric: metricIdentifierSchema,
      current: metricValueStatusSchema,
      describedObject: crossVersionObjectReferenceSchema,
    })
    .nullable()
    .optional(),
  pods: z
    .looseObject({ metric: metricIdentifierSchema, current: metricValueStatusSchema })
    .nullable()
    .optional(),
  resource: z.looseObject({ name: z.string(), current: metricValueStatusSchema }).nullable().optional(),
  containerResource: z
    .looseObject({ name: z.string(), container: z.string(), current: metricValueStatusSchema })
    .nullable()
    .optional(),
  external: z
    .looseObject({ metric: metricIdentifierSchema, current: metricValueStatusSchema })
    .nullable()
    .optional(),
});
export type MetricStatus = z.infer<typeof metricStatusSchema>;

export const scalingPolicySelectSchema = z.enum(["Max", "Min", "Disabled"]);
export type ScalingPolicySelect = z.infer<typeof scalingPolicySelectSchema>;

export const hpaScalingPolicySchema = z.looseObject({
  type: z.enum(["Pods", "Percent"]),
  value: int32,
  periodSeconds: int32,
});
export type HPAScalingPolicy = z.infer<typeof hpaScalingPolicySchema>;

export const hpaScalingRulesSchema = z.looseObject({
  stabilizationWindowSeconds: int32.nullable().optional(),
  selectPolicy: scalingPolicySelectSchema.nullable().optional(),
  policies: z.array(hpaScalingPolicySchema).nullable().optional(),
  /** HPAConfigurableTolerance (autoscaling/v2, 1.33+): overrides the controller's tolerance for this direction */
  tolerance: quantitySchema.nullable().optional(),
});
export type HPAScalingRules = z.infer<typeof hpaScalingRulesSchema>;

export const horizontalPodAutoscalerBehaviorSchema = z.looseObject({
  scaleUp: hpaScalingRulesSchema.nullable().optional(),
  scaleDown: hpaScalingRulesSchema.nullable().optional(),
});
export type HorizontalPodAutoscalerBehavior = z.infer<typeof horizontalPodAutoscalerBehaviorSchema>;

export const horizontalPodAutoscalerConditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  lastTransitionTime: timeSchema.optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type HorizontalPodAutoscalerCondition = z.infer<typeof horizontalPodAutoscalerConditionSchema>;

export const horizontalPodAutoscalerSpecSchema = z.looseObject({
  scaleTargetRef: crossVersionObjectReferenceSchema,
  minReplicas: int32.nullable().optional(),
  maxReplicas: int32,
  metrics: z.array(metricSpecSchema).nullable().optional(),
  behavior: horizontalPodAutoscalerBehaviorSchema.nullable().optional(),
});
export type HorizontalPodAutoscalerSpec = z.infer<typeof horizontalPodAutoscalerSpecSchema>;

export const horizontalPodAutoscalerStatusSchema = z.looseObject({
  observedGeneration: int64.nullable().optional(),
  lastScaleTime: timeSchema.optional(),
  currentReplicas: int32.optional(),
  desiredReplicas: int32.optional(),
  currentMetrics: z.array(metricStatusSchema).nullable().optional(),
  conditions: z.array(horizontalPodAutoscalerConditionSchema).nullable().optional(),
});
export type HorizontalPodAutoscalerStatus = z.infer<typeof horizontalPodAutoscalerStatusSchema>;

export const horizontalPodAutoscalerSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema,
  spec: horizontalPodAutoscalerSpecSchema,
  status: horizontalPodAutoscalerStatusSchema.optional(),
});
export type HorizontalPodAutoscaler = z.infer<typeof horizontalPodAutoscalerSchema>;

export const horizontalPodAutoscalerListSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: listMetaSchema.optional(),
  items: z.array(horizontalPodAutoscalerSchema),
});
export type HorizontalPodAutoscalerList = z.infer<typeof horizontalPodAutoscalerListSchema>;

// ---------------------------------------------------------------------------------------------
// autoscaling/v1 Scale (the scale subresource)

export const scaleSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({ replicas: int32.optional() }).optional(),
  status: z.looseObject({
    replicas: int32.optional(),
    /** the pod selector in its string form, e.g. "app=web,tier in (front)" */
    selector: z.string().optional(),
  }),
});
export type Scale = z.infer<typeof scaleSchema>;

// ---------------------------------------------------------------------------------------------
// Metrics APIs

/** metrics.k8s.io/v1beta1 PodMetrics */
export const podMetricsSchema = z.looseObject({
  metadata: objectMetaSchema,
  timestamp: timeSchema,
  /** a Go duration string, e.g. "1m0s" or "30s" */
  window: z.string().optional(),
  containers: z.array(z.looseObject({ name: z.string(), usage: resourceListSchema })).nullable(),
});
export type PodMetrics = z.infer<typeof podMetricsSchema>;

export const podMetricsListSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.literal("PodMetricsList"),
  metadata: listMetaSchema.optional(),
  items: z.array(podMetricsSchema).nullable(),
});
export type PodMetricsList = z.infer<typeof podMetricsListSchema>;

/** custom.metrics.k8s.io/v1beta1 MetricValue: the metric named by `metricName`, window in `window` */
export const metricValueV1beta1Schema = z.looseObject({
  describedObject: objectReferenceSchema,
  metricName: z.string(),
  timestamp: timeSchema,
  window: int64.nullable().optional(),
  value: quantitySchema,
  selector: labelSelectorSchema.nullable().optional(),
});
export type MetricValueV1beta1 = z.infer<typeof metricValueV1beta1Schema>;

/** custom.metrics.k8s.io/v1beta2 MetricValue: the metric named by a MetricIdentifier */
export const metricValueV1beta2Schema = z.looseObject({
  describedObject: objectReferenceSchema,
  metric: metricIdentifierSchema,
  timestamp: timeSchema,
  windowSeconds: int64.nullable().optional(),
  value: quantitySchema,
});
export type MetricValueV1beta2 = z.infer<typeof metricValueV1beta2Schema>;

export type MetricValue = MetricValueV1beta1 | MetricValueV1beta2;

/** The metric name of a MetricValue of either version. */
export function metricValueName(item: MetricValue): string {
  // loose objects carry an index signature, so `in` cannot narrow the union; test the field itself
  if (typeof item.metricName === "string") return item.metricName;
  return (item as MetricValueV1beta2).metric.name;
}

export const metricValueListV1beta1Schema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.literal("MetricValueList"),
  metadata: listMetaSchema.optional(),
  items: z.array(metricValueV1beta1Schema).nullable(),
});
export const metricValueListV1beta2Schema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.literal("MetricValueList"),
  metadata: listMetaSchema.optional(),
  items: z.array(metricValueV1beta2Schema).nullable(),
});
/** A custom.metrics.k8s.io MetricValueList of v1beta1 or v1beta2 (items of either shape). */
export const metricValueListSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.literal("MetricValueList"),
  metadata: listMetaSchema.optional(),
  items: z.array(z.union([metricValueV1beta2Schema, metricValueV1beta1Schema])).nullable(),
});
export type MetricValueList = z.infer<typeof metricValueListSchema>;

/** external.metrics.k8s.io/v1beta1 ExternalMetricValue */
export const externalMetricValueSchema = z.looseObject({
  metricName: z.string(),
  metricLabels: labelsSchema.nullable().optional(),
  timestamp: timeSchema,
  window: int64.nullable().optional(),
  value: quantitySchema,
});
export type ExternalMetricValue = z.infer<typeof externalMetricValueSchema>;

export const externalMetricValueListSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.literal("ExternalMetricValueList"),
  metadata: listMetaSchema.optional(),
  items: z.array(externalMetricValueSchema).nullable(),
});
export type ExternalMetricValueList = z.infer<typeof externalMetricValueListSchema>;

/** What a metrics API call answered: one of the three lists, or the error of a failed call. */
export const metricsApiErrorSchema = z.object({ error: z.string() });
export const metricResponseSchema = z.union([
  podMetricsListSchema,
  metricValueListSchema,
  externalMetricValueListSchema,
  metricsApiErrorSchema,
]);
export type MetricResponse = z.infer<typeof metricResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Access reviews

/**
 * An authorization.k8s.io/v1 SubjectAccessReview or SelfSubjectAccessReview as the API server
 * answers it: both kinds carry the same SubjectAccessReviewStatus.
 */
export const subjectAccessReviewSchema = z.looseObject({
  status: z
    .looseObject({
      allowed: z.boolean(),
      denied: z.boolean().optional(),
      reason: z.string().optional(),
      evaluationError: z.string().optional(),
    })
    .optional(),
});
