// Polling, never fixed sleeps: check until it holds or the deadline passes, then fail with
// what was last seen.
import { setTimeout as sleep } from "node:timers/promises";

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Calls `check` until it returns a value other than undefined/false and resolves that value.
 * A throw counts as "not yet"; the last throw or `describe()` goes into the timeout error.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      last = "";
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `; last error: ${last}` : ""}`,
      );
    await sleep(opts.intervalMs ?? 250);
  }
}
