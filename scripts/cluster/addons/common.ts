// What the addons share: applying objects with the cluster's kubectl, a kubeconfig that acts as
// a ServiceAccount (so each program runs with exactly the RBAC it installs), and starting one
// of prom-hpa's own programs as a tracked child process with its log in the run folder.
import { createRequire } from "node:module";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { stringify } from "yaml";
import { REPO_ROOT } from "../binaries.js";
import type { ClusterHandle } from "../handle.js";
import { startProcess, track, type Component } from "../process.js";

/** `kubectl apply` of plain objects, as one List; server-side so re-applies never conflict. */
export async function applyObjects(cluster: ClusterHandle, objects: readonly unknown[]): Promise<void> {
  await cluster.kubectl(
    ["apply", "--server-side", "--force-conflicts", "--field-manager=prom-hpa-harness", "-f", "-"],
    {
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    },
  );
}

/**
 * A kubeconfig for ServiceAccount `namespace/name`, with a bound token from the TokenRequest
 * API, written under the run folder. The programs then run with their installed RBAC, as in a
 * real cluster, instead of as the harness's admin.
 */
export async function serviceAccountKubeconfig(
  cluster: ClusterHandle,
  sa: { namespace: string; name: string },
): Promise<string> {
  const token = (
    await cluster.kubectl(["create", "token", sa.name, "--namespace", sa.namespace, "--duration=48h"])
  ).trim();
  const caPem = await readFile(cluster.info.caCertPath, "utf8");
  const dir = join(cluster.info.runDir, "kubeconfig");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `sa-${sa.namespace}-${sa.name}.kubeconfig`);
  const user = `system:serviceaccount:${sa.namespace}:${sa.name}`;
  await writeFile(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "prom-hpa-local",
          cluster: {
            server: cluster.apiserverUrl,
            "certificate-authority-data": Buffer.from(caPem).toString("base64"),
          },
        },
      ],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: "prom-hpa-local", context: { cluster: "prom-hpa-local", user } }],
      "current-context": "prom-hpa-local",
    }),
    { mode: 0o600 },
  );
  return file;
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/** `prom-hpa <args…>` (src/cli.ts through tsx) as a tracked process group logging to `logFile`. */
// Extra Node flags for the programs the harness starts (profiling: `--cpu-prof`, `--trace-gc`);
// NODE_OPTIONS refuses some of them and would reach every Node process, not just ours.
function programNodeFlags(): string[] {
  return (process.env.PROM_HPA_PROGRAM_NODE_FLAGS ?? "").split(/\s+/).filter((f) => f.length > 0);
}

/**
 * `compiled` runs dist/cli.js (`npm run build` first) instead of src/cli.ts through tsx, so that
 * the process' CPU and memory are the program's own, as it runs in the image.
 */
export function startProgram(
  name: string,
  args: string[],
  logFile: string,
  options: { compiled?: boolean } = {},
): Component {
  const entry = options.compiled
    ? [join(REPO_ROOT, "dist", "cli.js")]
    : ["--import", tsxLoader, join(REPO_ROOT, "src", "cli.ts")];
  const component = startProcess({
    name,
    command: process.execPath,
    args: [...programNodeFlags(), ...entry, ...args],
    logFile,
    cwd: REPO_ROOT,
  });
  track(component);
  return component;
}
