// Load scenarios: a YAML file of phases (ramp, steady, spike, idle), validated with zod once;
// every mistake is reported with the path of its field (`phases[1].rate: ...`).
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { z } from "zod";

/** "90s", "2m", "1m30s", "1h", "500ms", or a number of seconds. */
export function parseDuration(raw: string | number): number | undefined {
  if (typeof raw === "number") return Number.isFinite(raw) && raw >= 0 ? raw : undefined;
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const n = Number(m[1]);
    total += m[2] === "h" ? n * 3600 : m[2] === "m" ? n * 60 : m[2] === "s" ? n : n / 1000;
    matched = re.lastIndex;
  }
  return matched > 0 && matched === text.length ? total : undefined;
}

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseDuration(v);
  if (s === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration like "30s", "2m" or "1m30s", got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  return s;
});

const positiveDuration = duration.refine((s) => s > 0, { message: "must be longer than 0s" });

const rate = z
  .number({ error: "expected requests per second (a number)" })
  .positive({ message: "must be > 0 requests per second" });
const connections = z.number().int({ message: "must be a whole number" }).min(1).max(1000).default(10);

const ramp = z.strictObject({
  type: z.literal("ramp"),
  name: z.string().optional(),
  /** Requests per second at the start and at the end; the rate moves linearly between them. */
  from: z.number().min(0, { message: "must be >= 0 requests per second" }),
  to: z.number().min(0, { message: "must be >= 0 requests per second" }),
  duration: positiveDuration,
  connections,
});

const constant = (type: "steady" | "spike") =>
  z.strictObject({
    type: z.literal(type),
    name: z.string().optional(),
    /** Requests per second; absent: as fast as the connections go. */
    rate: rate.optional(),
    duration: positiveDuration,
    connections,
  });

const idle = z.strictObject({
  type: z.literal("idle"),
  name: z.string().optional(),
  duration: positiveDuration,
});

const phase = z.discriminatedUnion("type", [ramp, constant("steady"), constant("spike"), idle], {
  error: (issue) =>
    issue.code === "invalid_union"
      ? 'expected type to be one of "ramp", "steady", "spike", "idle"'
      : undefined,
});

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).default("scenario"),
  description: z.string().optional(),
  /** Base URL of the service under load; the CLI's --target wins over it. */
  target: z.string().optional(),
  /** Request path (and query) appended to the target. */
  path: z.string().startsWith("/", { message: 'must start with "/"' }).default("/"),
  /** How often the load, the metric and the replica counts are sampled. */
  sampleInterval: positiveDuration.default(5),
  /** A ramp is run as constant-rate steps of this length. */
  rampStep: positiveDuration.default(10),
  phases: z.array(phase).min(1, { message: "needs at least one phase" }),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type Phase = Scenario["phases"][number];
export type PhaseType = Phase["type"];

export interface ScenarioIssue {
  path: string;
  message: string;
}

export type ScenarioResult = { ok: true; scenario: Scenario } | { ok: false; issues: ScenarioIssue[] };

/** `["phases", 1, "rate"]` → `phases[1].rate` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

export function parseScenario(text: string): ScenarioResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({ path: "", message: `invalid YAML: ${e.message}` })),
    };
  }
  return validateScenario(doc.toJS());
}

export function validateScenario(value: unknown): ScenarioResult {
  const parsed = scenarioSchema.safeParse(value);
  if (parsed.success) return { ok: true, scenario: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({
      path: formatPath(i.path),
      message:
        i.code === "unrecognized_keys"
          ? `unknown field${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}`
          : i.message,
    })),
  };
}

export function formatIssues(source: string, issues: ScenarioIssue[]): string {
  return [
    `${source}: invalid scenario`,
    ...issues.map((i) => `  ${i.path === "" ? "(document)" : i.path}: ${i.message}`),
  ].join("\n");
}

export async function loadScenarioFile(path: string): Promise<ScenarioResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err: unknown) {
    return {
      ok: false,
      issues: [{ path: "", message: `cannot read: ${err instanceof Error ? err.message : String(err)}` }],
    };
  }
  return parseScenario(text);
}

/** Total length of the scenario, in seconds. */
export function scenarioDuration(scenario: Scenario): number {
  return scenario.phases.reduce((sum, p) => sum + p.duration, 0);
}
