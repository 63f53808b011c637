// Go-style durations ("30s", "3m", "1h30m", "1.5h", "250ms", "0") as the kube-controller-manager
// flags and our annotations take them. Parsed to milliseconds; errors name the flag/field.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export class DurationError extends Error {
  override readonly name = "DurationError";
}

/**
 * Parse a Go duration into milliseconds. A bare "0" is allowed, as in Go; any other number
 * needs a unit. Negative durations are rejected: no setting of ours means anything below zero.
 */
export function parseDuration(text: string, field: string): number {
  const s = text.trim();
  const bad = (why: string) =>
    new DurationError(`${field}: invalid duration "${text}" (${why}); use a Go duration such as 30s, 3m or 1h30m`);
  if (s === "") throw bad("empty");
  if (s === "0") return 0;
  if (s.startsWith("-")) throw bad("must not be negative");
  const body = s.startsWith("+") ? s.slice(1) : s;
  const part = /([0-9]*\.?[0-9]+|[0-9]+\.)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let pos = 0;
  while (pos < body.length) {
    part.lastIndex = pos;
    const m = part.exec(body);
    if (m === null) throw bad(pos === 0 ? "expected a number followed by a unit (ns, us, ms, s, m, h)" : `unexpected "${body.slice(pos)}"`);
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN);
    pos = part.lastIndex;
  }
  if (!Number.isFinite(ms)) throw bad("too large");
  return ms;
}

/** Go's Duration.String() form, for help texts and logs (e.g. 90000 → "1m30s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const s = Math.round(rest * 1000) / 1000;
  return `${h > 0 ? `${h}h` : ""}${h > 0 || m > 0 ? `${m}m` : ""}${s}s`;
}
