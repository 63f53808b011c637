// The start-up permission gate: what each program asks about, the one error it logs and
// throws when a permission is missing or the check cannot run, and that neither program
// starts anything past a failed check.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { resourcesNamedByRules } from "../../../src/adapter/permission-check.js";
import { startAdapter } from "../../../src/adapter/index.js";
import type { MetricsDiscoveryConfig } from "../../../src/adapter/config/types.js";
import type { ResourceMapper } from "../../../src/adapter/provider.js";
import { startAutoscaler } from "../../../src/autoscaler/index.js";
import type { Logger } from "../../../src/log/logger.js";
import {
  describeCheck,
  ensurePermissions,
  MissingPermissionsError,
  PermissionCheckError,
  type AccessCheck,
  type AccessReviewer,
} from "../../../src/rbac/index.js";

/** A logger whose JSON records land in `records`. */
function capturingLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, records };
}

const errorsIn = (records: Array<Record<string, unknown>>): Array<Record<string, unknown>> =>
  records.filter((r) => r.level === 50);

/** A kubeconfig for a server nothing listens on: any real request would fail. */
function deadEndKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

/** Records every question and denies those `deny` picks. */
function recordingReviewer(deny: (c: AccessCheck) => boolean = () => false): {
  reviewer: AccessReviewer;
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    reviewer: async (check) => {
      asked.push(describeCheck(check));
      return deny(check) ? { allowed: false, reason: "no RBAC rule" } : { allowed: true };
    },
  };
}

const whoAmI = async (): Promise<string> => "system:serviceaccount:prom-hpa:prom-hpa-autoscaler";

describe("ensurePermissions", () => {
  it("returns the report and logs one info line when every permission is granted", async () => {
    const { logger, records } = capturingLogger();
    const { reviewer } = recordingReviewer();
    const report = await ensurePermissions(deadEndKubeConfig(), "autoscaler", { logger, reviewer, whoAmI });
    expect(report.missing).toEqual([]);
    expect(report.user).toBe("system:serviceaccount:prom-hpa:prom-hpa-autoscaler");
    expect(errorsIn(records)).toEqual([]);
    expect(records.map((r) => r.msg)).toEqual(["permission check passed"]);
  });

  it("throws one error naming every missing permission and the identity, logged once with the list", async () => {
    const { logger, records } = capturingLogger();
    const { reviewer } = recordingReviewer(
      (c) =>
        (c.resource === "horizontalpodautoscalers" && c.subresource === "status" && c.verb === "update") ||
        (c.resource === "leases" && c.verb === "create"),
    );
    const err = await ensurePermissions(deadEndKubeConfig(), "autoscaler", {
      logger,
      reviewer,
      whoAmI,
      namespace: "prom-hpa",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPermissionsError);
    const lines = (err as Error).message.split("\n");
    expect(lines[0]).toMatch(/^prom-hpa autoscaler lacks 2 of the \d+ permissions it needs:$/);
    expect(lines.slice(1, 3)).toEqual([
      "  - update horizontalpodautoscalers/status (autoscaling) cluster-wide — to write HPA status",
      "  - create leases (coordination.k8s.io) in namespace prom-hpa — to take part in leader election",
    ]);
    expect(lines[3]).toContain(
      "system:serviceaccount:prom-hpa:prom-hpa-autoscaler (the identity it runs as)",
    );
    expect(lines).toHaveLength(4);
    const errors = errorsIn(records);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: "missing 2 permissions; not starting",
      program: "autoscaler",
      user: "system:serviceaccount:prom-hpa:prom-hpa-autoscaler",
      missing: [
        "update horizontalpodautoscalers/status (autoscaling) cluster-wide",
        "create leases (coordination.k8s.io) in namespace prom-hpa",
      ],
    });
  });

  it("says the check could not run, naming the server and the cause, when no review was answered", async () => {
    const { logger, records } = capturingLogger();
    const err = await ensurePermissions(deadEndKubeConfig(), "adapter", {
      logger,
      whoAmI,
      reviewer: async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:1");
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionCheckError);
    expect((err as Error).message).toBe(
      "prom-hpa adapter cannot check its permissions: the API server at https://127.0.0.1:1 did not answer (connect ECONNREFUSED 127.0.0.1:1). " +
        "Check the kubeconfig and that the API server is reachable, or pass --skip-permission-check to start without the check.",
    );
    expect(errorsIn(records)).toHaveLength(1);
    expect(errorsIn(records)[0]).toMatchObject({
      msg: "cannot check permissions",
      err: "connect ECONNREFUSED 127.0.0.1:1",
    });
  });

  it("with the real reviewer, an unreachable API server is a PermissionCheckError, not a list of failures", async () => {
    const { logger } = capturingLogger();
    const err = await ensurePermissions(deadEndKubeConfig(), "autoscaler", { logger }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PermissionCheckError);
    expect((err as Error).message).toMatch(/at https:\/\/127\.0\.0\.1:1 did not answer \(.*ECONNREFUSED/);
  });

  it("gives up after timeoutMs when the API server never answers", async () => {
    const { logger, records } = capturingLogger();
    const started = Date.now();
    const err = await ensurePermissions(deadEndKubeConfig(), "autoscaler", {
      logger,
      whoAmI,
      timeoutMs: 100,
      reviewer: () => new Promise(() => undefined),
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err).toBeInstanceOf(PermissionCheckError);
    expect((err as Error).message).toContain("did not answer (no answer within 0.1s)");
    expect(errorsIn(records)).toHaveLength(1);
  });

  it("lists reviews that failed next to missing ones when only some were answered", async () => {
    const { logger } = capturingLogger();
    const err = await ensurePermissions(deadEndKubeConfig(), "autoscaler", {
      logger,
      whoAmI,
      leaderElection: false,
      reviewer: async (c) => {
        if (c.resource === "pods" && c.group === "") throw new Error("stream reset");
        return { allowed: c.resource !== "events" };
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPermissionsError);
    const message = (err as Error).message;
    expect(message).toContain("lacks 4 of the");
    expect(message).toContain("could not check 3 permissions:");
    expect(message).toContain("  - list pods (core) cluster-wide: stream reset");
  });
});

describe("startAutoscaler with checkPermissions", () => {
  it("refuses to start, before any other call, when a permission is missing", async () => {
    const { logger, records } = capturingLogger();
    const { reviewer } = recordingReviewer((c) => c.resource === "pods" && c.verb === "watch");
    const err = await startAutoscaler({
      kubeconfig: deadEndKubeConfig(),
      log: logger,
      metricsBindAddress: null,
      checkPermissions: { reviewer, whoAmI },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPermissionsError);
    expect((err as Error).message).toContain(
      "  - watch pods (core) cluster-wide — to count ready pods of each target",
    );
    // Nothing past the check ran: the only records are the check's own error.
    expect(records.map((r) => r.msg)).toEqual(["missing 1 permission; not starting"]);
  });

  it("asks about the Lease in the lease namespace with leader election, and not about writes in dry-run", async () => {
    const { logger } = capturingLogger();
    const { reviewer, asked } = recordingReviewer(() => true);
    await startAutoscaler({
      kubeconfig: deadEndKubeConfig(),
      log: logger,
      metricsBindAddress: null,
      dryRun: true,
      leaderElection: { leaseNamespace: "ops" },
      checkPermissions: { reviewer, whoAmI },
    }).catch(() => undefined);
    expect(asked).toContain("create leases (coordination.k8s.io) in namespace ops");
    expect(asked).toContain("get deployments/scale (apps) cluster-wide");
    expect(asked.filter((q) => q.startsWith("update deployments/scale"))).toEqual([]);
    expect(asked.filter((q) => q.includes("horizontalpodautoscalers/status"))).toEqual([]);
    // nor to annotate HPAs: a dry run writes nothing on them
    expect(asked.filter((q) => /^(update|patch) horizontalpodautoscalers /.test(q))).toEqual([]);
    expect(asked).toContain("watch horizontalpodautoscalers (autoscaling) cluster-wide");
  });

  it("without leader election does not ask about Leases", async () => {
    const { logger } = capturingLogger();
    const { reviewer, asked } = recordingReviewer(() => true);
    await startAutoscaler({
      kubeconfig: deadEndKubeConfig(),
      log: logger,
      metricsBindAddress: null,
      checkPermissions: { reviewer, whoAmI },
    }).catch(() => undefined);
    expect(asked.filter((q) => q.includes("leases"))).toEqual([]);
    expect(asked).toContain("update horizontalpodautoscalers/status (autoscaling) cluster-wide");
  });
});

describe("the resources an adapter config's rules name", () => {
  const served: Record<string, { group: string; resource: string; kind: string }> = {
    deployment: { group: "apps", resource: "deployments", kind: "Deployment" },
    "deployment.apps": { group: "apps", resource: "deployments", kind: "Deployment" },
    namespace: { group: "", resource: "namespaces", kind: "Namespace" },
    pods: { group: "", resource: "pods", kind: "Pod" },
  };
  const mapper: ResourceMapper = {
    resolve: (name) => {
      const m = served[name];
      return m
        ? {
            groupResource: { group: m.group, resource: m.resource },
            kind: m.kind,
            version: "v1",
            namespaced: true,
          }
        : undefined;
    },
  };

  const rule = (overrides: Record<string, { group: string; resource: string }>) => ({
    seriesQuery: "x",
    seriesFilters: [],
    resources: { overrides },
    name: { matches: "", as: "" },
    metricsQuery: "x",
  });

  it("are the overrides' resources as the cluster serves them, once each, unserved ones left out", () => {
    const config: MetricsDiscoveryConfig = {
      rules: [
        rule({
          deployment: { group: "apps", resource: "deployment" },
          namespace: { group: "", resource: "namespace" },
        }),
        rule({
          kube_deployment: { group: "apps", resource: "deployment" },
          pod: { group: "", resource: "pods" },
        }),
      ],
      externalRules: [rule({ ingress: { group: "networking.k8s.io", resource: "ingress" } })],
    };
    expect(resourcesNamedByRules(config, mapper)).toEqual([
      { group: "apps", resource: "deployments" },
      { group: "", resource: "namespaces" },
      { group: "", resource: "pods" },
    ]);
  });
});

// --- startAdapter against a loopback stand-in for the API server's discovery and reviews
interface FakeApiServer {
  url: string;
  /** "<verb> <group>/<resource>[/<sub>] ns=<ns>" of every SelfSubjectAccessReview received. */
  reviews: string[];
  close(): Promise<void>;
}

async function fakeApiServer(deny: (attrs: Record<string, string>) => boolean): Promise<FakeApiServer> {
  const reviews: string[] = [];
  const json = (res: http.ServerResponse, body: unknown, status = 200): void => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0];
      if (path === "/api/v1") {
        return json(res, {
          groupVersion: "v1",
          resources: [
            { name: "pods", singularName: "pod", namespaced: true, kind: "Pod" },
            { name: "namespaces", singularName: "namespace", namespaced: false, kind: "Namespace" },
          ],
        });
      }
      if (path === "/apis") {
        return json(res, {
          groups: [
            {
              name: "apps",
              preferredVersion: { groupVersion: "apps/v1", version: "v1" },
              versions: [{ groupVersion: "apps/v1", version: "v1" }],
            },
          ],
        });
      }
      if (path === "/apis/apps/v1") {
        return json(res, {
          groupVersion: "apps/v1",
          resources: [
            { name: "deployments", singularName: "deployment", namespaced: true, kind: "Deployment" },
          ],
        });
      }
      if (path === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
        const body = JSON.parse(raw) as { spec: { resourceAttributes: Record<string, string> } };
        const a = body.spec.resourceAttributes;
        reviews.push(
          `${a.verb} ${a.group ?? ""}/${a.resource}${a.subresource ? `/${a.subresource}` : ""}${a.namespace ? ` ns=${a.namespace}` : ""}`,
        );
        return json(res, { ...body, status: { allowed: !deny(a) } }, 201);
      }
      if (path === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
        return json(res, { status: { userInfo: { username: "system:serviceaccount:t:adapter" } } }, 201);
      }
      json(res, { kind: "Status", code: 404 }, 404);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    reviews,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("startAdapter with checkPermissions", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function kubeconfigFile(server: string, token: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "startup-test-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "kubeconfig");
    await writeFile(
      path,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        // client-node refuses plain HTTP unless TLS verification is explicitly off.
        clusters: [{ name: "c", cluster: { server, "insecure-skip-tls-verify": true } }],
        users: [{ name: "u", user: { token } }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
    return path;
  }

  const config: MetricsDiscoveryConfig = {
    rules: [
      {
        seriesQuery: "x",
        seriesFilters: [],
        resources: { overrides: { deployment: { group: "apps", resource: "deployment" } } },
        name: { matches: "", as: "" },
        metricsQuery: "x",
      },
    ],
    externalRules: [],
  };

  it("asks about the resources its rules name and refuses to start, serving nothing, when one is missing", async () => {
    const api = await fakeApiServer((a) => a.resource === "deployments" && a.verb === "watch");
    cleanups.push(() => api.close());
    const { logger, records } = capturingLogger();
    const err = await startAdapter({
      bindAddress: "127.0.0.1",
      securePort: 0,
      kubeconfig: await kubeconfigFile(api.url, "t"),
      prometheus: { config, options: { url: "http://127.0.0.1:1" } },
      logger,
      checkPermissions: true,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPermissionsError);
    const message = (err as Error).message;
    expect(message).toContain("prom-hpa adapter lacks 1 of the 18 permissions it needs:");
    expect(message).toContain(
      "  - watch deployments (apps) cluster-wide — to resolve the objects the rules describe",
    );
    expect(message).toContain("system:serviceaccount:t:adapter (the identity it runs as)");
    expect(api.reviews).toContain("list apps/deployments");
    expect(errorsIn(records).map((r) => r.msg)).toEqual(["missing 1 permission; not starting"]);
    expect(records.some((r) => r.msg === "adapter serving")).toBe(false);
  });

  it("asks each question with the kubeconfig that will make those calls, and skips what its flags make moot", async () => {
    const lister = await fakeApiServer(() => true);
    const authn = await fakeApiServer(() => true);
    cleanups.push(
      () => lister.close(),
      () => authn.close(),
    );
    const { logger } = capturingLogger();
    await startAdapter({
      bindAddress: "127.0.0.1",
      securePort: 0,
      kubeconfig: await kubeconfigFile(lister.url, "lister"),
      authenticationKubeconfig: await kubeconfigFile(authn.url, "authn"),
      authorizationAlwaysAllow: true,
      prometheus: { config, options: { url: "http://127.0.0.1:1" } },
      logger,
      checkPermissions: true,
    }).catch(() => undefined);
    expect(authn.reviews).toEqual([
      "create authentication.k8s.io/tokenreviews",
      "get /configmaps ns=kube-system",
    ]);
    expect(lister.reviews).toContain("watch /pods");
    expect(lister.reviews).toContain("list apps/deployments");
    expect([...lister.reviews, ...authn.reviews].filter((r) => r.includes("subjectaccessreviews"))).toEqual(
      [],
    );
  });
});
