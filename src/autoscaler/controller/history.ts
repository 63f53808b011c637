// The per-HPA history (recommendations, scale events) kept where the next leader can read it:
// an annotation on the HPA. Upstream keeps it in memory only, so a restarted controller forgets
// a recent high recommendation and may scale down early; we must not.
//
// To write rarely, the persisted form is compacted: of several recommendations with the same
// replica count only the newest matters (a window ending now that holds an older one also holds
// the newest), and the newest recommendation overall is stored as "current" without its
// timestamp, since that changes every sync. A save is needed only when this compacted form
// changes, i.e. when the recommended count changes, an old value drops out, or a scale happens.
// The current recommendation was still current when the last leader stopped, so a loader stamps
// it with its own clock: later than the truth, which only delays a scale-down.
import { z } from "zod";
import type { HpaHistory, TimestampedRecommendation, TimestampedScaleEvent } from "../algorithm/index.js";

const persistedSchema = z.object({
  v: z.literal(1),
  /** [timestamp ms, replicas] of the older distinct recommendations */
  rec: z.array(z.tuple([z.number(), z.number().int()])),
  /** the current recommendation (replicas), stamped "now" when loaded; null if none */
  cur: z.number().int().nullable(),
  up: z.array(z.tuple([z.number(), z.number().int()])),
  down: z.array(z.tuple([z.number(), z.number().int()])),
});
type Persisted = z.infer<typeof persistedSchema>;

/** Entries older than this are dropped when saving: no stabilization window or policy period is longer. */
export const DEFAULT_HISTORY_HORIZON_MS = 3600_000 + 60_000;

export function compactHistory(
  h: HpaHistory,
  now: number,
  horizonMs = DEFAULT_HISTORY_HORIZON_MS,
): Persisted {
  const cutoff = now - horizonMs;
  let current: TimestampedRecommendation | undefined;
  for (const r of h.recommendations)
    if (current === undefined || r.timestamp >= current.timestamp) current = r;
  const newestByValue = new Map<number, number>();
  for (const r of h.recommendations) {
    if (r.timestamp < cutoff) continue;
    if (current !== undefined && r.replicas === current.replicas) continue;
    const t = newestByValue.get(r.replicas);
    if (t === undefined || r.timestamp > t) newestByValue.set(r.replicas, r.timestamp);
  }
  const rec = [...newestByValue.entries()]
    .map(([replicas, t]) => [t, replicas] as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const events = (es: TimestampedScaleEvent[]) =>
    es
      .filter((e) => e.timestamp >= cutoff && e.outdated !== true)
      .map((e) => [e.timestamp, e.replicaChange] as [number, number]);
  return {
    v: 1,
    rec,
    cur: current?.replicas ?? null,
    up: events(h.scaleUpEvents),
    down: events(h.scaleDownEvents),
  };
}

export function serializeHistory(h: HpaHistory, now: number, horizonMs?: number): string {
  return JSON.stringify(compactHistory(h, now, horizonMs));
}

/** The history from an annotation value, with the current recommendation stamped `now`; null if absent or unreadable. */
export function parseHistory(text: string | undefined, now: number): HpaHistory | null {
  if (text === undefined) return null;
  let p: Persisted;
  try {
    p = persistedSchema.parse(JSON.parse(text));
  } catch {
    return null;
  }
  const recommendations: TimestampedRecommendation[] = p.rec.map(([timestamp, replicas]) => ({
    timestamp,
    replicas,
  }));
  if (p.cur !== null) recommendations.push({ timestamp: now, replicas: p.cur });
  return {
    recommendations,
    scaleUpEvents: p.up.map(([timestamp, replicaChange]) => ({ timestamp, replicaChange })),
    scaleDownEvents: p.down.map(([timestamp, replicaChange]) => ({ timestamp, replicaChange })),
  };
}
