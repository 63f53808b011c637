// The annotations the autoscaler reads (per-HPA overrides, ownership) and writes (history, the
// dry-run decision). Overrides take Go durations; a bad value is reported and ignored.
import { parseDurationField } from "../../kube/duration.js";

export const ANNOTATION_PREFIX = "autoscaler.prom-hpa.io/";
/** how often this HPA is synced, e.g. "30s" (overrides --sync-period) */
export const SYNC_PERIOD_ANNOTATION = `${ANNOTATION_PREFIX}sync-period`;
/** the legacy upscale delay for this HPA, e.g. "3m"; "0" turns it off (overrides --upscale-delay) */
export const UPSCALE_DELAY_ANNOTATION = `${ANNOTATION_PREFIX}upscale-delay`;
/** the legacy downscale delay for this HPA, e.g. "5m"; "0" turns it off (overrides --downscale-delay) */
export const DOWNSCALE_DELAY_ANNOTATION = `${ANNOTATION_PREFIX}downscale-delay`;
/** written by the autoscaler: the recommendation and scale history, so a new leader continues it */
export const HISTORY_ANNOTATION = `${ANNOTATION_PREFIX}history`;
/** written only with --dry-run --dry-run-annotate: what the autoscaler would have done (a plain dry run writes nothing on HPAs) */
export const DRY_RUN_DECISION_ANNOTATION = `${ANNOTATION_PREFIX}dry-run-decision`;

/** a metric value whose newest sample is older than this counts as failed, e.g. "2m"; "0" = off (overrides --max-metric-age) */
export const MAX_METRIC_AGE_ANNOTATION = `${ANNOTATION_PREFIX}max-metric-age`;
/** a failed read uses the last good value no older than this, for scaling up only, e.g. "5m"; "0" = off (overrides --last-known-good) */
export const LAST_KNOWN_GOOD_ANNOTATION = `${ANNOTATION_PREFIX}last-known-good`;
/** after fallback-after syncs with failed metrics, at least this many replicas, e.g. "4" */
export const FALLBACK_REPLICAS_ANNOTATION = `${ANNOTATION_PREFIX}fallback-replicas`;
/** how many syncs in a row with failed metrics before fallback-replicas applies, e.g. "3" (overrides --fallback-after) */
export const FALLBACK_AFTER_ANNOTATION = `${ANNOTATION_PREFIX}fallback-after`;
/** "true": fallback-replicas may also scale down to that size */
export const FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION = `${ANNOTATION_PREFIX}fallback-allow-scale-down`;

export const OVERRIDE_ANNOTATIONS = [
  SYNC_PERIOD_ANNOTATION,
  UPSCALE_DELAY_ANNOTATION,
  DOWNSCALE_DELAY_ANNOTATION,
  MAX_METRIC_AGE_ANNOTATION,
  LAST_KNOWN_GOOD_ANNOTATION,
  FALLBACK_REPLICAS_ANNOTATION,
  FALLBACK_AFTER_ANNOTATION,
  FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION,
] as const;

export interface HpaOverrides {
  syncPeriodMs?: number;
  upscaleDelaySeconds?: number;
  downscaleDelaySeconds?: number;
  maxMetricAgeMs?: number;
  lastKnownGoodMs?: number;
  fallbackReplicas?: number;
  fallbackAfter?: number;
  fallbackAllowScaleDown?: boolean;
  /** one message per annotation that could not be used */
  problems: string[];
}

/** The smallest sync period an annotation may ask for; below it the apiserver would suffer. */
export const MIN_SYNC_PERIOD_MS = 1000;

export function readOverrides(annotations: Record<string, string> | null | undefined): HpaOverrides {
  const out: HpaOverrides = { problems: [] };
  const a = annotations ?? {};
  const take = (name: string, apply: (ms: number) => void) => {
    const v = a[name];
    if (v === undefined) return;
    try {
      apply(parseDurationField(v, `annotation ${name}`));
    } catch (err) {
      out.problems.push(err instanceof Error ? err.message : String(err));
    }
  };
  take(SYNC_PERIOD_ANNOTATION, (ms) => {
    if (ms < MIN_SYNC_PERIOD_MS)
      out.problems.push(
        `annotation ${SYNC_PERIOD_ANNOTATION}: "${a[SYNC_PERIOD_ANNOTATION]}" is below the minimum of 1s`,
      );
    else out.syncPeriodMs = ms;
  });
  take(UPSCALE_DELAY_ANNOTATION, (ms) => (out.upscaleDelaySeconds = Math.round(ms / 1000)));
  take(DOWNSCALE_DELAY_ANNOTATION, (ms) => (out.downscaleDelaySeconds = Math.round(ms / 1000)));
  take(MAX_METRIC_AGE_ANNOTATION, (ms) => (out.maxMetricAgeMs = ms));
  take(LAST_KNOWN_GOOD_ANNOTATION, (ms) => (out.lastKnownGoodMs = ms));
  const count = (name: string, min: number, apply: (n: number) => void) => {
    const v = a[name];
    if (v === undefined) return;
    if (/^\d{1,9}$/.test(v.trim()) && Number(v) >= min) apply(Number(v));
    else out.problems.push(`annotation ${name}: "${v}" is not a whole number of at least ${min}`);
  };
  count(FALLBACK_REPLICAS_ANNOTATION, 0, (n) => (out.fallbackReplicas = n));
  count(FALLBACK_AFTER_ANNOTATION, 1, (n) => (out.fallbackAfter = n));
  const allow = a[FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION];
  if (allow !== undefined) {
    if (allow === "true" || allow === "false") out.fallbackAllowScaleDown = allow === "true";
    else
      out.problems.push(
        `annotation ${FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION}: "${allow}" is neither "true" nor "false"`,
      );
  }
  return out;
}

/** `key` or `key=value`: an HPA is ours when it has the key (with that value, if one is given). */
export interface OwnershipAnnotation {
  key: string;
  value?: string;
}

export function parseOwnershipAnnotation(text: string, field: string): OwnershipAnnotation {
  const i = text.indexOf("=");
  const key = (i < 0 ? text : text.slice(0, i)).trim();
  if (
    key === "" ||
    !/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key)
  ) {
    throw new Error(`${field}: "${text}" is not an annotation key or key=value`);
  }
  return i < 0 ? { key } : { key, value: text.slice(i + 1) };
}

export function isOwned(
  annotations: Record<string, string> | null | undefined,
  own: OwnershipAnnotation | undefined,
): boolean {
  if (own === undefined) return true;
  const v = annotations?.[own.key];
  return v !== undefined && (own.value === undefined || v === own.value);
}
