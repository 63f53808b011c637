// The Prometheus-API backends the harness can run in the "prometheus" slot: Debian's Prometheus
// 2.42 on PATH (the default), Prometheus 3 and VictoriaMetrics single-node, both built from
// their Go modules by scripts/backends/build.sh (once per pin, cached outside git).
import { join } from "node:path";
import { REPO_ROOT, SetupError, findPrometheus, isExecutable, runBuildScript } from "./binaries.js";

export const PROMETHEUS_BACKENDS = ["debian", "prometheus3", "victoriametrics"] as const;
export type PrometheusBackend = (typeof PROMETHEUS_BACKENDS)[number];
export const DEFAULT_BACKEND: PrometheusBackend = "debian";

export function isPrometheusBackend(name: string): name is PrometheusBackend {
  return (PROMETHEUS_BACKENDS as readonly string[]).includes(name);
}

/** The backend named by `raw` (undefined: the default), or a SetupError listing the choices. */
export function parseBackend(raw: string | undefined, what: string): PrometheusBackend {
  if (raw === undefined || raw === "") return DEFAULT_BACKEND;
  if (isPrometheusBackend(raw)) return raw;
  throw new SetupError(
    `${what} must be one of ${PROMETHEUS_BACKENDS.join(", ")}, got ${JSON.stringify(raw)}`,
  );
}

/** The backend's executable: found on PATH (debian) or built by scripts/backends/build.sh. */
export async function ensureBackend(
  backend: PrometheusBackend,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (backend === "debian") return findPrometheus(env);
  const script = join(REPO_ROOT, "scripts", "backends", "build.sh");
  const { code, stdout, stderr } = await runBuildScript(script, [backend], env);
  if (code !== 0) throw new SetupError(`building ${backend} failed (${script}):\n${stderr.trim()}`);
  const bin = stdout.trim().split("\n").pop() ?? "";
  if (!isExecutable(bin))
    throw new SetupError(`${script} ${backend} printed ${bin}, which is not an executable`);
  return bin;
}
