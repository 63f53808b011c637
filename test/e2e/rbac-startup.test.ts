// Both programs, run as the real CLI with a ServiceAccount's token against the real
// kube-apiserver: bound to their rendered roles minus one permission they exit 1 at once with
// one message naming exactly that permission; with the full roles they get past the check.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { REPO_ROOT } from "../../scripts/cluster/binaries.js";
import {
  adapterPermissions,
  autoscalerPermissions,
  CUSTOM_METRICS_READER,
  RESOURCE_METRICS_READER,
  rolesForProgram,
  type AccessCheck,
  type ProgramPermissions,
  type Requirement,
} from "../../src/rbac/index.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { useNamespace } from "./support/namespace.js";

const cluster = useCluster();
printLogsOnFailure(cluster);
const ns = useNamespace(() => cluster, "rbac-startup");

const manifestsDir = resolve(import.meta.dirname, "../../manifests");
let tmp = "";
/** Cluster-scoped objects and kube-system RoleBindings made here (the namespace takes the rest). */
const madeOutside: string[][] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "rbac-startup-"));
  // The shared metrics-reader ClusterRoles (the autoscaler's reading of the metrics APIs).
  await cluster.kubectl(["apply", "-f", join(manifestsDir, "rbac/metrics-readers.yaml")]);
});

afterAll(async () => {
  for (const args of madeOutside.splice(0).reverse()) {
    await cluster.kubectl(["delete", ...args, "--ignore-not-found"]).catch(() => undefined);
  }
  if (tmp !== "") await rm(tmp, { recursive: true, force: true });
});

/**
 * The same permissions without one verb on one resource: the requirement granting it is split
 * so that everything else it grants stays granted.
 */
function without(permissions: ProgramPermissions, drop: AccessCheck): ProgramPermissions {
  const requirements = permissions.requirements.flatMap((r): Requirement[] => {
    const { rule } = r;
    if (!rule.apiGroups.includes(drop.group) || !rule.resources.includes(drop.resource)) return [r];
    if (!rule.verbs.includes(drop.verb)) return [r];
    const rest = rule.resources.filter((x) => x !== drop.resource);
    return [
      ...(rest.length > 0 ? [{ ...r, rule: { ...rule, resources: rest } }] : []),
      {
        ...r,
        rule: { ...rule, resources: [drop.resource], verbs: rule.verbs.filter((v) => v !== drop.verb) },
      },
    ];
  });
  return { ...permissions, requirements };
}

/**
 * Creates ServiceAccount `name` in the test namespace, binds it to the roles rendered from
 * `permissions` (names suffixed so parallel runs do not collide) and to the shared metrics
 * readers, and returns the path of a kubeconfig that authenticates with its token.
 */
async function serviceAccountWith(name: string, permissions: ProgramPermissions): Promise<string> {
  await cluster.kubectl(["create", "serviceaccount", name], { namespace: ns.name });
  const suffix = `${ns.name}-${name}`;
  const own = `prom-hpa-${permissions.program}`;
  const objects = rolesForProgram({ ...permissions, serviceAccount: { namespace: ns.name, name } }).map(
    (o) => {
      const roleRef = o.roleRef as { apiGroup: string; kind: string; name: string } | undefined;
      return {
        ...o,
        metadata: { ...o.metadata, name: `${o.metadata.name}-${suffix}` },
        // Our own roles are renamed with the binding; Kubernetes' roles (auth-delegator…) are not.
        ...(roleRef
          ? { roleRef: roleRef.name === own ? { ...roleRef, name: `${own}-${suffix}` } : roleRef }
          : {}),
      };
    },
  );
  for (const o of objects) {
    if (o.metadata.namespace === undefined) madeOutside.push([o.kind.toLowerCase(), o.metadata.name]);
    else if (o.metadata.namespace !== ns.name)
      madeOutside.push([o.kind.toLowerCase(), o.metadata.name, "-n", o.metadata.namespace]);
  }
  await cluster.kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });
  if (permissions.program === "autoscaler") {
    for (const role of [RESOURCE_METRICS_READER, CUSTOM_METRICS_READER]) {
      const binding = `${role.replace(":", "-")}-${suffix}`;
      madeOutside.push(["clusterrolebinding", binding]);
      await cluster.kubectl([
        "create",
        "clusterrolebinding",
        binding,
        `--clusterrole=${role}`,
        `--serviceaccount=${ns.name}:${name}`,
      ]);
    }
  }
  const token = (
    await cluster.kubectl(["create", "token", name, "--duration=10m"], { namespace: ns.name })
  ).trim();
  return kubeconfigFile(name, cluster.apiserverUrl, token);
}

async function kubeconfigFile(name: string, server: string, token: string): Promise<string> {
  const path = join(tmp, `${name}.kubeconfig`);
  const ca = Buffer.from(await readFile(cluster.info.caCertPath)).toString("base64");
  await writeFile(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "e2e", cluster: { server, "certificate-authority-data": ca } }],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: "e2e", user: name } }],
      "current-context": name,
    }),
  );
  return path;
}

interface Run {
  /** Resolves the exit code (null: killed by a signal) once the process ends. */
  exited: Promise<number | null>;
  stderr(): string;
  /** The JSON log records on stderr so far. */
  records(): Array<Record<string, unknown>>;
  /** stderr lines that are not JSON log records: what a person reads. */
  humanLines(): string[];
  kill(signal: NodeJS.Signals): void;
}

function runCli(args: string[]): Run {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src", "cli.ts"), ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LOG_LEVEL: "info", KUBECONFIG: "" },
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  const lines = (): string[] => stderr.split("\n").filter((l) => l.trim() !== "");
  const isJson = (l: string): boolean => l.startsWith("{");
  return {
    exited,
    stderr: () => stderr,
    records: () =>
      lines()
        .filter(isJson)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    humanLines: () => lines().filter((l) => !isJson(l)),
    kill: (signal) => child.kill(signal),
  };
}

/** The exit code, or a failure naming what the process printed when it does not exit in time. */
async function exitWithin(run: Run, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.kill("SIGKILL");
      reject(new Error(`did not exit within ${ms / 1000}s; stderr:\n${run.stderr()}`));
    }, ms);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForRecord(run: Run, msg: string, ms: number): Promise<Record<string, unknown>> {
  const until = Date.now() + ms;
  for (;;) {
    const found = run.records().find((r) => r.msg === msg);
    if (found) return found;
    const code = await Promise.race([
      run.exited,
      new Promise<"running">((r) => setTimeout(() => r("running"), 250)),
    ]);
    if (code !== "running")
      throw new Error(`exited (${String(code)}) before logging "${msg}"; stderr:\n${run.stderr()}`);
    if (Date.now() > until) throw new Error(`no "${msg}" within ${ms / 1000}s; stderr:\n${run.stderr()}`);
  }
}

function expectOneMessage(run: Run, expectedHumanLines: string[], missing: string[]): void {
  // The person reads one message: exactly these lines, no stack trace.
  expect(run.humanLines()).toEqual(expectedHumanLines);
  expect(run.stderr()).not.toMatch(/^\s+at /m);
  // The log has one error record listing the same permission(s).
  const errors = run.records().filter((r) => r.level === 50);
  expect(errors).toHaveLength(1);
  expect(errors[0]?.missing).toEqual(missing);
}

describe("the autoscaler at start-up", () => {
  const common = (kubeconfig: string): string[] => [
    "autoscaler",
    `--kubeconfig=${kubeconfig}`,
    `--namespaces=${ns.name}`,
    "--leader-elect",
    `--leader-elect-lease-namespace=${ns.name}`,
    "--leader-elect-lease-name=e2e-rbac-startup",
    "--metrics-bind-address=127.0.0.1:0",
  ];

  it("lacking one permission, exits 1 within seconds naming exactly that permission and its identity", async () => {
    const kubeconfig = await serviceAccountWith(
      "autoscaler-lacking",
      without(autoscalerPermissions({ namespace: ns.name }), { verb: "watch", group: "", resource: "pods" }),
    );
    const started = Date.now();
    const run = runCli(common(kubeconfig));
    expect(await exitWithin(run, 60_000)).toBe(1);
    console.log(
      `exited 1 after ${((Date.now() - started) / 1000).toFixed(1)}s:\n${run.humanLines().join("\n")}`,
    );
    const checked = run.records().find((r) => r.level === 50)?.checked;
    expectOneMessage(
      run,
      [
        `prom-hpa autoscaler lacks 1 of the ${String(checked)} permissions it needs:`,
        "  - watch pods (core) cluster-wide — to count ready pods of each target",
        `Grant them to system:serviceaccount:${ns.name}:autoscaler-lacking (the identity it runs as); in-cluster that is ServiceAccount ${ns.name}/prom-hpa-autoscaler, which \`kubectl apply -k manifests/\` sets up with RBAC rendered from the same list.`,
      ],
      ["watch pods (core) cluster-wide"],
    );
    // Nothing started: no informer, server or lease before the check said no.
    expect(run.records().map((r) => r.msg)).toEqual(["missing 1 permission; not starting"]);
  });

  it("lacking the Lease in its namespace, names that", async () => {
    const kubeconfig = await serviceAccountWith(
      "autoscaler-nolease",
      without(autoscalerPermissions({ namespace: ns.name }), {
        verb: "update",
        group: "coordination.k8s.io",
        resource: "leases",
      }),
    );
    const run = runCli(common(kubeconfig));
    expect(await exitWithin(run, 60_000)).toBe(1);
    expect(run.humanLines()[1]).toBe(
      `  - update leases (coordination.k8s.io) in namespace ${ns.name} — to take part in leader election`,
    );
    expect(run.humanLines()).toHaveLength(3);
  });

  it("with its full roles, gets past the check and becomes ready on its health port; SIGTERM stops it", async () => {
    const kubeconfig = await serviceAccountWith(
      "autoscaler-full",
      autoscalerPermissions({ namespace: ns.name }),
    );
    const run = runCli(common(kubeconfig));
    try {
      const passed = await waitForRecord(run, "permission check passed", 60_000);
      expect(passed.user).toBe(`system:serviceaccount:${ns.name}:autoscaler-full`);
      const started = await waitForRecord(run, "autoscaler started", 60_000);
      const url = String(started.url);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const readyz = await fetch(`${url}/readyz`);
      expect(readyz.status).toBe(200);
      expect(run.records().filter((r) => r.level === 50)).toEqual([]);
      run.kill("SIGTERM");
      expect(await exitWithin(run, 30_000)).toBe(0);
    } finally {
      run.kill("SIGKILL");
    }
  });

  it("with --skip-permission-check, does not check", async () => {
    const kubeconfig = await serviceAccountWith(
      "autoscaler-skip",
      without(autoscalerPermissions({ namespace: ns.name }), {
        verb: "create",
        group: "",
        resource: "events",
      }),
    );
    const run = runCli([...common(kubeconfig), "--skip-permission-check"]);
    try {
      // Events are only written on a scale, so it starts; the check would have refused.
      await waitForRecord(run, "autoscaler started", 60_000);
      expect(run.records().some((r) => r.msg === "permission check passed")).toBe(false);
      run.kill("SIGTERM");
      expect(await exitWithin(run, 30_000)).toBe(0);
    } finally {
      run.kill("SIGKILL");
    }
  });

  it("when the API server cannot be reached, says so and exits 1", async () => {
    const kubeconfig = await kubeconfigFile("nowhere", "https://127.0.0.1:1", "no-token");
    const run = runCli(common(kubeconfig));
    expect(await exitWithin(run, 60_000)).toBe(1);
    expect(run.humanLines()).toHaveLength(1);
    expect(run.humanLines()[0]).toMatch(
      /^prom-hpa autoscaler cannot check its permissions: the API server at https:\/\/127\.0\.0\.1:1 did not answer \(.*ECONNREFUSED.*\)\. .*--skip-permission-check/,
    );
    expect(run.stderr()).not.toMatch(/^\s+at /m);
  });
});

describe("the adapter at start-up", () => {
  const common = (kubeconfig: string): string[] => [
    "adapter",
    `--kubeconfig=${kubeconfig}`,
    "--secure-port=0",
    "--bind-address=127.0.0.1",
    `--prometheus-url=${cluster.prometheusUrl}`,
  ];

  it("lacking one permission, exits 1 within seconds naming exactly that permission and its identity", async () => {
    const kubeconfig = await serviceAccountWith(
      "adapter-lacking",
      without(adapterPermissions({ namespace: ns.name }), { verb: "list", group: "", resource: "services" }),
    );
    const run = runCli(common(kubeconfig));
    expect(await exitWithin(run, 60_000)).toBe(1);
    console.log(run.humanLines().join("\n"));
    expectOneMessage(
      run,
      [
        "prom-hpa adapter lacks 1 of the 15 permissions it needs:",
        "  - list services (core) cluster-wide — to resolve the objects metric series describe",
        `Grant them to system:serviceaccount:${ns.name}:adapter-lacking (the identity it runs as); in-cluster that is ServiceAccount prom-hpa/prom-hpa-adapter, which \`kubectl apply -k manifests/\` sets up with RBAC rendered from the same list.`,
      ],
      ["list services (core) cluster-wide"],
    );
    expect(run.records().some((r) => r.msg === "adapter serving")).toBe(false);
  });

  it("without the auth-delegator binding, names TokenReview and SubjectAccessReview", async () => {
    const full = adapterPermissions({ namespace: ns.name });
    const kubeconfig = await serviceAccountWith("adapter-nodelegator", {
      ...full,
      requirements: full.requirements.filter((r) => r.grantedBy?.name !== "system:auth-delegator"),
    });
    const run = runCli(common(kubeconfig));
    expect(await exitWithin(run, 60_000)).toBe(1);
    expect(run.humanLines().slice(0, 3)).toEqual([
      "prom-hpa adapter lacks 2 of the 15 permissions it needs:",
      "  - create tokenreviews (authentication.k8s.io) cluster-wide — to authenticate bearer tokens (TokenReview); granted by binding ClusterRole system:auth-delegator",
      "  - create subjectaccessreviews (authorization.k8s.io) cluster-wide — to authorize requests (SubjectAccessReview); granted by binding ClusterRole system:auth-delegator",
    ]);
  });

  it("with its full roles, gets past the check and serves; SIGTERM stops it", async () => {
    const kubeconfig = await serviceAccountWith("adapter-full", adapterPermissions({ namespace: ns.name }));
    const run = runCli(common(kubeconfig));
    try {
      const passed = await waitForRecord(run, "permission check passed", 60_000);
      expect(passed).toMatchObject({ user: `system:serviceaccount:${ns.name}:adapter-full`, checked: 15 });
      await waitForRecord(run, "adapter serving", 60_000);
      expect(run.records().filter((r) => r.level === 50)).toEqual([]);
      run.kill("SIGTERM");
      expect(await exitWithin(run, 30_000)).toBe(0);
    } finally {
      run.kill("SIGKILL");
    }
  });
});
