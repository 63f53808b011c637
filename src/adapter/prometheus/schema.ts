// The shapes of Prometheus HTTP API answers (https://prometheus.io/docs/prometheus/latest/querying/api/),
// parsed once with zod at the boundary.
import { z } from "zod";

/** What went wrong with a call to Prometheus; the providers answer 503 or 400 with it. */
export type PrometheusError =
  | { kind: "unreachable"; message: string }
  | { kind: "timeout"; message: string }
  | { kind: "bad_response"; message: string; status?: number }
  /** Prometheus refused or failed the query; errorType is Prometheus' ("bad_data", "execution", ...). */
  | { kind: "query_error"; errorType: string; message: string; status: number };

export type PromResult<T> =
  { ok: true; value: T; warnings?: string[] } | { ok: false; error: PrometheusError };

export type SeriesLabels = Record<string, string>;

export interface VectorSample {
  metric: Record<string, string>;
  /** Sample time in milliseconds since the epoch. */
  timestampMs: number;
  value: number;
}

export type QueryData =
  | { resultType: "vector"; result: VectorSample[] }
  | { resultType: "scalar"; result: { timestampMs: number; value: number } }
  | { resultType: "matrix" | "string"; result: unknown };

const sampleValue = z.tuple([z.number(), z.string()]);
const labels = z.record(z.string(), z.string());

const errorBody = z.object({
  status: z.literal("error"),
  errorType: z.string().default("unknown"),
  error: z.string().default(""),
});
const success = <T extends z.ZodType>(data: T) =>
  z.object({ status: z.literal("success"), data, warnings: z.array(z.string()).optional() });

const queryBody = success(
  z.discriminatedUnion("resultType", [
    z.object({
      resultType: z.literal("vector"),
      result: z.array(z.object({ metric: labels, value: sampleValue })),
    }),
    z.object({ resultType: z.literal("scalar"), result: sampleValue }),
    z.object({ resultType: z.literal("matrix"), result: z.unknown() }),
    z.object({ resultType: z.literal("string"), result: z.unknown() }),
  ]),
);
// The series list can hold 100k+ label sets: zod checks the envelope, and a plain loop checks
// each label set in place (z.record would copy every object, doubling discovery's memory).
const seriesBody = success(z.array(z.unknown()));

function isLabelSet(v: unknown): v is SeriesLabels {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  for (const k in v) if (typeof (v as Record<string, unknown>)[k] !== "string") return false;
  return true;
}

/** Prometheus' float text: "1.5", "NaN", "+Inf", "-Inf". */
export function parseSampleValue(text: string): number {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

export function parseErrorBody(json: unknown): { errorType: string; error: string } | undefined {
  const r = errorBody.safeParse(json);
  return r.success ? r.data : undefined;
}

function badShape(what: string, error: z.ZodError): PromResult<never> {
  const first = error.issues[0];
  const where = first ? first.path.join(".") : "";
  return {
    ok: false,
    error: {
      kind: "bad_response",
      message: `unexpected ${what} answer${where ? ` at ${where}` : ""}: ${first?.message ?? "invalid"}`,
    },
  };
}

/**
 * The instant vector every metrics request gets, checked by hand: the same checks as
 * `queryBody` without its copies of every sample (the hot path). Undefined for anything else,
 * which zod then parses (and explains when it is wrong).
 */
function vectorFast(json: unknown): PromResult<QueryData> | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const body = json as { status?: unknown; data?: unknown; warnings?: unknown };
  if (body.status !== "success" || typeof body.data !== "object" || body.data === null) return undefined;
  const { resultType, result } = body.data as { resultType?: unknown; result?: unknown };
  if (resultType !== "vector" || !Array.isArray(result)) return undefined;
  const warnings = body.warnings;
  if (warnings !== undefined && !(Array.isArray(warnings) && warnings.every((w) => typeof w === "string")))
    return undefined;
  const samples: VectorSample[] = new Array<VectorSample>(result.length);
  for (let i = 0; i < result.length; i++) {
    const item: unknown = result[i];
    if (typeof item !== "object" || item === null) return undefined;
    const { metric, value } = item as { metric?: unknown; value?: unknown };
    if (!isLabelSet(metric) || !Array.isArray(value) || value.length !== 2) return undefined;
    const [t, v] = value as unknown[];
    if (typeof t !== "number" || typeof v !== "string") return undefined;
    samples[i] = { metric, timestampMs: Math.round(t * 1000), value: parseSampleValue(v) };
  }
  const value: QueryData = { resultType: "vector", result: samples };
  return warnings !== undefined ? { ok: true, value, warnings: warnings as string[] } : { ok: true, value };
}

export function parseQueryBody(json: unknown): PromResult<QueryData> {
  const fast = vectorFast(json);
  if (fast !== undefined) return fast;
  const r = queryBody.safeParse(json);
  if (!r.success) return badShape("query", r.error);
  const d = r.data.data;
  const warnings = r.data.warnings;
  let value: QueryData;
  switch (d.resultType) {
    case "vector":
      value = {
        resultType: "vector",
        result: d.result.map((s) => ({
          metric: s.metric,
          timestampMs: Math.round(s.value[0] * 1000),
          value: parseSampleValue(s.value[1]),
        })),
      };
      break;
    case "scalar":
      value = {
        resultType: "scalar",
        result: { timestampMs: Math.round(d.result[0] * 1000), value: parseSampleValue(d.result[1]) },
      };
      break;
    default:
      value = { resultType: d.resultType, result: d.result };
  }
  return warnings ? { ok: true, value, warnings } : { ok: true, value };
}

export function parseSeriesBody(json: unknown): PromResult<SeriesLabels[]> {
  const r = seriesBody.safeParse(json);
  if (!r.success) return badShape("series", r.error);
  const data = r.data.data;
  for (let i = 0; i < data.length; i++) {
    if (!isLabelSet(data[i])) {
      return {
        ok: false,
        error: {
          kind: "bad_response",
          message: `unexpected series answer at data.${i}: expected a map of label names to string values`,
        },
      };
    }
  }
  return { ok: true, value: data as SeriesLabels[] };
}
