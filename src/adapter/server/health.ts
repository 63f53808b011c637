// /healthz, /livez and /readyz with kube-apiserver's output: "ok", or one line per check
// ("[+]ping ok", "[-]prometheus failed: reason withheld") with ?verbose or on failure;
// /readyz/<check> runs one check; ?exclude=<check> skips one.
import type { HealthEndpoint } from "./routes.js";

/** A check answers undefined when healthy, or why it is not. */
export interface HealthCheck {
  name: string;
  check(): string | undefined;
  /** Something wrong that does not fail the check (shown with ?verbose), or undefined. */
  warning?(): string | undefined;
}

export interface HealthChecks {
  livez: HealthCheck[];
  readyz: HealthCheck[];
}

export interface HealthAnswer {
  code: number;
  body: string;
}

export function runHealth(
  checks: HealthChecks,
  endpoint: HealthEndpoint,
  only: string | undefined,
  query: URLSearchParams | undefined,
): HealthAnswer | undefined {
  // healthz is the legacy union of both.
  const all =
    endpoint === "livez"
      ? checks.livez
      : endpoint === "readyz"
        ? checks.readyz
        : dedupe([...checks.livez, ...checks.readyz]);
  const excluded = new Set(query?.getAll("exclude") ?? []);
  let selected = all.filter((c) => !excluded.has(c.name));
  if (only !== undefined) {
    const one = all.find((c) => c.name === only);
    if (one === undefined) return undefined;
    selected = [one];
  }
  const results = selected.map((c) => ({ name: c.name, failure: c.check(), warning: c.warning?.() }));
  const failed = results.some((r) => r.failure !== undefined);
  const verbose = query?.has("verbose") ?? false;
  if (only !== undefined) {
    const r = results[0]!;
    return r.failure === undefined
      ? { code: 200, body: "ok" }
      : { code: 500, body: `internal server error: ${r.failure}\n` };
  }
  if (!failed && !verbose) return { code: 200, body: "ok" };
  const lines = results.map((r) =>
    r.failure !== undefined
      ? `[-]${r.name} failed: reason withheld`
      : r.warning !== undefined
        ? `[+]${r.name} ok (warning: ${r.warning})`
        : `[+]${r.name} ok`,
  );
  for (const name of excluded) {
    lines.push(
      all.some((c) => c.name === name)
        ? `[+]${name} excluded: ok`
        : `warn: some health checks cannot be excluded: no matches for "${name}"`,
    );
  }
  lines.push(`${endpoint} check ${failed ? "failed" : "passed"}`);
  return { code: failed ? 500 : 200, body: lines.join("\n") + "\n" };
}

function dedupe(checks: HealthCheck[]): HealthCheck[] {
  const seen = new Set<string>();
  return checks.filter((c) => (seen.has(c.name) ? false : (seen.add(c.name), true)));
}
