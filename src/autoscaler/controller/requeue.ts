// When an HPA is synced next, as kube-controller-manager's HPA controller queues it: after every
// sync, whatever its outcome, exactly one resync period later (NewDefaultHPARateLimiter is a
// FixedItemIntervalRateLimiter: no exponential back-off); a new HPA, and with HPAGeneration a
// spec change (metadata.generation moved), at once; any other update (our own status write
// included) not before the period, so a status write never loops back into a sync.
import { readOverrides } from "./annotations.js";
import type { CachedHpa } from "./ports.js";

/** The HPA's own period: the sync-period annotation where valid, else the controller's. */
export function resyncPeriodMs(c: CachedHpa, defaultMs: number): number {
  return c.ok ? (readOverrides(c.hpa.metadata.annotations).syncPeriodMs ?? defaultMs) : defaultMs;
}

/**
 * Delay before the next sync after one finished. `consecutiveFailures` counts this one; the
 * back-off (ours, opt-in with --max-backoff above the period) doubles the period per failure.
 */
export function delayAfterSync(periodMs: number, consecutiveFailures: number, maxBackoffMs: number): number {
  if (consecutiveFailures <= 0 || maxBackoffMs <= periodMs) return periodMs;
  return Math.min(periodMs * 2 ** (consecutiveFailures - 1), maxBackoffMs);
}

/** upstream's updateHPA: "now" (queue.Add) or "period" (queue.AddRateLimited). */
export function onUpdate(before: CachedHpa, after: CachedHpa, hpaGeneration: boolean): "now" | "period" {
  // one that could not be read, or could and now cannot, or a new object under the same name: as an add
  if (!before.ok || !after.ok) return before.ok === after.ok ? "period" : "now";
  if (before.hpa.metadata.uid !== after.hpa.metadata.uid) return "now";
  if (hpaGeneration && before.hpa.metadata.generation !== after.hpa.metadata.generation) return "now";
  return "period";
}
