// Go durations as Kubernetes flags, annotations and API fields carry them ("30s", "1m30s",
// "1.5h", "-250ms", "0"): the grammar of Go's time.ParseDuration, read into milliseconds.
// Prometheus' own duration grammar (d, w, y; whole numbers) is a different one and lives
// with the adapter's config loader.

/** Milliseconds per unit; both spellings of "micro" that Go accepts. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3,
  "\u03bcs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** The largest Go duration (math.MaxInt64 nanoseconds), in milliseconds. */
const MAX_MS = 9_223_372_036_854.775;

export type GoDuration = { ok: true; ms: number } | { ok: false; problem: string };

/**
 * A Go duration in milliseconds, or why it is not one. Signed; every number needs a unit
 * except a lone "0"; units may repeat and come in any order, as in Go.
 */
export function parseGoDuration(text: string): GoDuration {
  const sign = text.startsWith("-") ? -1 : 1;
  const body = text.startsWith("-") || text.startsWith("+") ? text.slice(1) : text;
  if (body === "0") return { ok: true, ms: 0 };
  if (body === "") return { ok: false, problem: "empty" };
  // A number is digits with an optional fraction; "." alone is not one.
  const part = /([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;
  let ms = 0;
  let pos = 0;
  while (pos < body.length) {
    part.lastIndex = pos;
    const m = part.exec(body);
    if (m === null)
      return {
        ok: false,
        problem:
          pos === 0
            ? "expected a number followed by a unit (ns, us, ms, s, m, h)"
            : `unexpected "${body.slice(pos)}"`,
      };
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN);
    pos = part.lastIndex;
  }
  if (!(ms <= MAX_MS)) return { ok: false, problem: "too large" };
  return { ok: true, ms: sign * ms };
}

/** A flag, annotation or config field whose value is not a usable duration; names the field. */
export class DurationError extends Error {
  override readonly name = "DurationError";
  constructor(
    readonly field: string,
    readonly text: string,
    readonly problem: string,
  ) {
    super(`${field}: invalid duration "${text}" (${problem}); use a Go duration such as 30s, 3m or 1h30m`);
  }
}

/**
 * The value of a duration flag or field, in milliseconds. None of our settings means anything
 * below zero, so negative durations are refused here too.
 * @throws DurationError naming `field`
 */
export function parseDurationField(text: string, field: string): number {
  const parsed = parseGoDuration(text);
  if (!parsed.ok) throw new DurationError(field, text, parsed.problem);
  if (parsed.ms < 0) throw new DurationError(field, text, "must not be negative");
  return parsed.ms;
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
