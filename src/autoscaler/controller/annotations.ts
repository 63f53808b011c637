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

export const OVERRIDE_ANNOTATIONS = [SYNC_PERIOD_ANNOTATION, UPSCALE_DELAY_ANNOTATION, DOWNSCALE_DELAY_ANNOTATION] as const;

export interface HpaOverrides {
  syncPeriodMs?: number;
  upscaleDelaySeconds?: number;
  downscaleDelaySeconds?: number;
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
    if (ms < MIN_SYNC_PERIOD_MS) out.problems.push(`annotation ${SYNC_PERIOD_ANNOTATION}: "${a[SYNC_PERIOD_ANNOTATION]}" is below the minimum of 1s`);
    else out.syncPeriodMs = ms;
  });
  take(UPSCALE_DELAY_ANNOTATION, (ms) => (out.upscaleDelaySeconds = Math.round(ms / 1000)));
  take(DOWNSCALE_DELAY_ANNOTATION, (ms) => (out.downscaleDelaySeconds = Math.round(ms / 1000)));
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
  if (key === "" || !/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key)) {
    throw new Error(`${field}: "${text}" is not an annotation key or key=value`);
  }
  return i < 0 ? { key } : { key, value: text.slice(i + 1) };
}

export function isOwned(annotations: Record<string, string> | null | undefined, own: OwnershipAnnotation | undefined): boolean {
  if (own === undefined) return true;
  const v = annotations?.[own.key];
  return v !== undefined && (own.value === undefined || v === own.value);
}
