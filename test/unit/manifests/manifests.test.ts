import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { diffManifests, renderManifests, writeManifests } from "../../../src/manifests/render.js";
import { tlsOverlayKustomization, generateServingPair } from "../../../src/manifests/tls.js";
import { defaultConfig, parseConfig } from "../../../src/adapter/config/index.js";
import { adapterRulesConfig, SHIPPED_RATE_INTERVAL } from "../../../src/manifests/adapter-config.js";

const manifestsDir = fileURLToPath(new URL("../../../manifests", import.meta.url));

interface Probe {
  httpGet: unknown;
}
interface Container {
  args: string[];
  securityContext: { readOnlyRootFilesystem: boolean };
  livenessProbe: Probe;
  readinessProbe: Probe;
  resources: { requests: unknown };
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

function objectsOf(files: Map<string, string>, prefix = ""): Obj[] {
  return [...files.entries()]
    .filter(([p]) => p.endsWith(".yaml") && p.startsWith(prefix))
    .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as Obj));
}

function find(objects: Obj[], kind: string, name: string): Obj {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
}

describe("committed manifests", () => {
  it("equal what the code renders (run `npm run manifests` after changing src/manifests or src/rbac)", async () => {
    const diffs = await diffManifests(manifestsDir);
    expect(diffs).toEqual([]);
  });
});

describe("diffManifests", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("names a changed, a missing and an extra file", async () => {
    dir = await mkdtemp(join(tmpdir(), "prom-hpa-manifests-"));
    await writeManifests(dir);
    expect(await diffManifests(dir)).toEqual([]);
    await writeFile(join(dir, "namespace.yaml"), "kind: Namespace\n");
    await rm(join(dir, "adapter", "pdb.yaml"));
    await writeFile(join(dir, "stray.yaml"), "x: 1\n");
    expect(await diffManifests(dir)).toEqual([
      { path: "adapter/pdb.yaml", problem: "missing" },
      { path: "namespace.yaml", problem: "differs" },
      { path: "stray.yaml", problem: "not rendered by the code" },
    ]);
  });
});

describe("rendered install manifests", () => {
  const files = renderManifests();
  const all = objectsOf(files);
  const install = objectsOf(
    new Map([...files].filter(([p]) => !p.startsWith("examples/") && !p.startsWith("components/"))),
  );

  it("lists every base file in kustomization.yaml", () => {
    const k = parse(files.get("kustomization.yaml") ?? "") as { resources: string[] };
    const baseFiles = [...files.keys()].filter(
      (p) =>
        p.endsWith(".yaml") &&
        p !== "kustomization.yaml" &&
        !p.startsWith("examples/") &&
        !p.startsWith("components/"),
    );
    expect([...k.resources].sort()).toEqual(baseFiles.sort());
  });

  it("registers the four APIServices with the adapter's Service and no insecureSkipTLSVerify", () => {
    const apiServices = install.filter((o) => o.kind === "APIService");
    expect(apiServices.map((o) => o.metadata.name).sort()).toEqual([
      "v1beta1.custom.metrics.k8s.io",
      "v1beta1.external.metrics.k8s.io",
      "v1beta1.metrics.k8s.io",
      "v1beta2.custom.metrics.k8s.io",
    ]);
    for (const a of apiServices) {
      const spec = a.spec as Record<string, unknown>;
      expect(spec.insecureSkipTLSVerify).toBeUndefined();
      expect(spec.service).toEqual({ name: "prom-hpa-adapter", namespace: "prom-hpa", port: 443 });
    }
  });

  it("runs the adapter as 2 non-root replicas with a read-only root, HTTPS probes and a PDB", () => {
    const d = find(install, "Deployment", "prom-hpa-adapter") as unknown as {
      spec: {
        replicas: number;
        template: { spec: { securityContext: { runAsNonRoot: boolean }; containers: Container[] } };
      };
    };
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const c = d.spec.template.spec.containers[0]!;
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.livenessProbe.httpGet).toEqual({ path: "/livez", port: "https", scheme: "HTTPS" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "https", scheme: "HTTPS" });
    expect(c.resources.requests).toEqual({ cpu: "100m", memory: "128Mi" });
    expect(c.args).toEqual(
      expect.arrayContaining(["adapter", "--config=/etc/prom-hpa/config.yaml", "--secure-port=6443"]),
    );
    expect(c.args.some((a) => a.startsWith("--prometheus-url="))).toBe(true);
    expect(find(install, "PodDisruptionBudget", "prom-hpa-adapter").spec).toEqual({
      minAvailable: 1,
      selector: {
        matchLabels: { "app.kubernetes.io/name": "prom-hpa", "app.kubernetes.io/component": "adapter" },
      },
    });
  });

  it("runs the autoscaler as 2 replicas electing a leader on a Lease in its namespace", () => {
    const d = find(install, "Deployment", "prom-hpa-autoscaler") as unknown as {
      spec: {
        replicas: number;
        template: { spec: { serviceAccountName: string; containers: Array<{ args: string[] }> } };
      };
    };
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.serviceAccountName).toBe("prom-hpa-autoscaler");
    expect(d.spec.template.spec.containers[0]!.args).toEqual(
      expect.arrayContaining([
        "autoscaler",
        "--leader-elect",
        "--leader-elect-lease-namespace=$(POD_NAMESPACE)",
        "--leader-elect-lease-name=prom-hpa-autoscaler",
      ]),
    );
  });

  it("ships the rules config with the seed's cpu_system as the only rule naming it", () => {
    const cm = find(install, "ConfigMap", "prom-hpa-adapter-config") as unknown as {
      data: Record<string, string>;
    };
    const config = parse(cm.data["config.yaml"] ?? "") as {
      rules: Array<{ seriesQuery: string; name: { matches: string; as: string }; metricsQuery: string }>;
      resourceRules: { window: string };
    };
    const named = config.rules.filter((r) => r.name.as === "cpu_system");
    expect(named).toHaveLength(1);
    expect(named[0]!.seriesQuery).toContain("process_cpu_system_seconds_total");
    expect(config.rules).toHaveLength(7);
    expect(config.resourceRules.window).toBe("1m");
  });

  it("never binds anything to system:anonymous or system:unauthenticated", () => {
    for (const o of all.filter((x) => x.kind.endsWith("Binding"))) {
      const subjects = o.subjects as Array<{ name: string }>;
      for (const s of subjects) expect(["system:anonymous", "system:unauthenticated"]).not.toContain(s.name);
    }
  });
});

describe("the shipped rules config", () => {
  const result = parseConfig(adapterRulesConfig());
  const shipped = result.ok ? result.config : undefined;
  const defaults = defaultConfig({ rateInterval: SHIPPED_RATE_INTERVAL });

  it("loads without issues in the adapter's own config loader", () => {
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it("is the seed's cpu_system rule, then the adapter's default rules over the shipped 1m window", () => {
    expect(shipped?.rules[0]?.seriesQuery).toBe('process_cpu_system_seconds_total{namespace!="",pod!=""}');
    expect(shipped?.rules[0]?.metricsQuery).toBe(
      "sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)",
    );
    expect(shipped?.rules.slice(1).map((r) => [r.seriesQuery, r.metricsQuery])).toEqual(
      defaults.rules.map((r) => [r.seriesQuery, r.metricsQuery]),
    );
  });

  it("leaves cAdvisor's cpu_system series out of the default rules, so cpu_system has one source", () => {
    const cadvisorRules =
      shipped?.rules.filter((r) => r.seriesQuery.startsWith('{__name__=~"^container_')) ?? [];
    expect(cadvisorRules.map((r) => r.seriesFilters.map((f) => f.isNot).at(-1))).toEqual([
      "^container_cpu_system_seconds_total$",
      "^container_cpu_system_seconds_total$",
      "^container_cpu_system_seconds_total$",
    ]);
  });

  it("reads metrics.k8s.io from cAdvisor's container series, nodes by their node label", () => {
    expect(shipped?.resourceRules?.cpu.containerQuery).toBe(
      'sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!="",pod!=""}[1m])) by (<<.GroupBy>>)',
    );
    expect(shipped?.resourceRules?.memory.resources.overrides.node).toEqual({ group: "", resource: "node" });
    expect(shipped?.resourceRules?.windowSeconds).toBe(60);
  });
});

describe("rendered examples", () => {
  const examples = objectsOf(renderManifests(), "examples/");

  it("are the seed's HPAs in autoscaling/v2: 1..10, cpu 50%, memory 100Mi, cpu_system 20m", () => {
    const hpas = examples.filter((o) => o.kind === "HorizontalPodAutoscaler");
    expect(hpas).toHaveLength(2);
    const custom = hpas.find((h) => JSON.stringify(h).includes("cpu_system")) as unknown as {
      apiVersion: string;
      spec: Record<string, unknown>;
    };
    expect(custom.apiVersion).toBe("autoscaling/v2");
    expect(custom.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "hello-world" },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
        },
        {
          type: "Resource",
          resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } },
        },
        {
          type: "Pods",
          pods: { metric: { name: "cpu_system" }, target: { type: "AverageValue", averageValue: "20m" } },
        },
      ],
    });
  });

  it("give hello-world the seed's requests and a Service", () => {
    const d = find(examples, "Deployment", "hello-world") as unknown as {
      spec: { template: { spec: { containers: Array<{ resources: unknown }> } } };
    };
    expect(d.spec.template.spec.containers[0]!.resources).toEqual({
      requests: { cpu: "500m", memory: "64Mi" },
    });
    expect(find(examples, "Service", "hello-world").kind).toBe("Service");
  });
});

describe("TLS overlay", () => {
  it("patches the caBundle of every APIService with the CA that signed the serving pair", async () => {
    const pair = await generateServingPair({ now: new Date("2026-01-01T00:00:00Z"), validDays: 2 });
    const { X509Certificate } = await import("node:crypto");
    const ca = new X509Certificate(pair.caCert);
    const cert = new X509Certificate(pair.cert);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain("DNS:prom-hpa-adapter.prom-hpa.svc");
    const k = parse(tlsOverlayKustomization("../manifests", pair.caCert).replace(/^#.*\n/, "")) as {
      resources: string[];
      patches: Array<{ target: { kind: string }; patch: string }>;
    };
    expect(k.resources).toEqual(["../manifests"]);
    const ops = parse(k.patches[0]!.patch) as Array<{ op: string; path: string; value: string }>;
    expect(k.patches[0]!.target.kind).toBe("APIService");
    expect(ops).toEqual([
      { op: "add", path: "/spec/caBundle", value: Buffer.from(pair.caCert).toString("base64") },
    ]);
  });
});

describe("TLS serving pair", () => {
  it("is signed with SHA-256, which the image's OpenSSL 3 accepts (SHA-1 fails: ca md too weak)", async () => {
    const { execFileSync } = await import("node:child_process");
    const pair = await generateServingPair({ now: new Date("2026-01-01T00:00:00Z"), validDays: 2 });
    for (const pem of [pair.caCert, pair.cert]) {
      const text = execFileSync("openssl", ["x509", "-noout", "-text"], { input: pem, encoding: "utf8" });
      expect(text).toContain("Signature Algorithm: ecdsa-with-SHA256");
    }
  });
});

describe("committed README of manifests/", () => {
  it("documents the caBundle choices", async () => {
    const text = await readFile(join(manifestsDir, "README.md"), "utf8");
    expect(text).toContain("insecureSkipTLSVerify");
    expect(text).toContain("cert-manager.io/inject-ca-from");
  });
});
