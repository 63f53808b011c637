// Where the pinned control-plane binaries and Prometheus come from: scripts/kube/build.sh
// builds (once per pin) and prints the bin folder; Debian's Prometheus is the package on PATH
// (the other backends: backends.ts).
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Where run folders go (logs, PKI, data): `.run/` in the repo unless PROM_HPA_RUN_ROOT says otherwise. */
export function runRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROM_HPA_RUN_ROOT ?? join(REPO_ROOT, ".run");
}

export const KUBE_BINARIES = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "kwok",
] as const;

export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SetupError";
  }
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` on PATH, or undefined. */
export function which(name: string, path: string = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function missingBinaries(binDir: string): string[] {
  return KUBE_BINARIES.filter((b) => !isExecutable(join(binDir, b)));
}

/** Runs a build script (bash), passing its progress (stderr) through; its last stdout line is its answer. */
export function runBuildScript(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn("bash", [script, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
      process.stderr.write(c);
    });
    child.on("error", (e) => done({ code: 127, stdout: out, stderr: `${err}${e.message}` }));
    child.on("close", (c) => done({ code: c ?? 1, stdout: out, stderr: err }));
  });
}

/**
 * The folder holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and
 * kwok. PROM_HPA_KUBE_BIN_DIR points at a ready folder; otherwise build.sh builds what is
 * missing (minutes on a cold cache, instant on a warm one). Its progress goes to stderr.
 */
export async function ensureKubeBinaries(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const given = env.PROM_HPA_KUBE_BIN_DIR;
  if (given) {
    const missing = missingBinaries(given);
    if (missing.length > 0)
      throw new SetupError(`PROM_HPA_KUBE_BIN_DIR=${given} lacks ${missing.join(", ")}`);
    return given;
  }
  const script = join(REPO_ROOT, "scripts", "kube", "build.sh");
  const { code, stdout, stderr } = await runBuildScript(script, [], env);
  if (code !== 0)
    throw new SetupError(`building the Kubernetes binaries failed (${script}):\n${stderr.trim()}`);
  const binDir = stdout.trim().split("\n").pop() ?? "";
  const missing = missingBinaries(binDir);
  if (missing.length > 0)
    throw new SetupError(`${script} printed ${binDir}, which lacks ${missing.join(", ")}`);
  return binDir;
}

export function findPrometheus(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.PROM_HPA_PROMETHEUS;
  if (given) {
    if (!isExecutable(given)) throw new SetupError(`PROM_HPA_PROMETHEUS=${given} is not an executable`);
    return given;
  }
  const found = which("prometheus", env.PATH ?? "");
  if (!found) {
    throw new SetupError(
      "Prometheus is not installed: run `bash scripts/install-deps.sh` (Debian's prometheus package; the harness runs it itself)",
    );
  }
  return found;
}
