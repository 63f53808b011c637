// charts/prom-hpa rendered by the pinned helm (scripts/helm/build.sh builds it when missing):
// `helm lint` and `helm template` with values files written as prometheus-adapter's chart users
// write theirs, compared with the kustomize install in manifests/.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/adapter/config/index.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const chart = `${root}charts/prom-hpa`;
const fixture = (name: string): string => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [k: string]: unknown;
}

/** The helm binary, or why it could not be built. */
function buildHelm(): { path: string } | { error: string } {
  const r = spawnSync("bash", [`${root}scripts/helm/build.sh`], { encoding: "utf8" });
  return r.status === 0 ? { path: r.stdout.trim().split("\n").pop() ?? "" } : { error: r.stderr.trim() };
}
const helm = buildHelm();
const helmPath = "path" in helm ? helm.path : "";
if ("error" in helm) console.warn(`charts/prom-hpa tests skipped: helm could not be built:\n${helm.error}`);

function runHelm(args: string[]): string {
  const r = spawnSync(helmPath, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`helm ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** `helm template prom-hpa` into namespace prom-hpa (the kustomize install's names). */
function render(valuesFiles: string[] = [], set: string[] = []): Obj[] {
  const args = ["template", "prom-hpa", chart, "--namespace", "prom-hpa"];
  for (const f of valuesFiles) args.push("-f", fixture(f));
  for (const s of set) args.push("--set", s);
  return parseAllDocuments(runHelm(args))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function find(objects: Obj[], kind: string, name: string): Obj {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o)
    throw new Error(
      `no ${kind} ${name} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(", ")}`,
    );
  return o;
}

/** Walks a dotted path (numbers index arrays). */
function at(value: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((v, key) => {
    if (v === null || typeof v !== "object") return undefined;
    return (v as Record<string, unknown>)[key];
  }, value);
}

/** The chart's container matches the kustomize Deployment's in every field both installs share. */
function expectContainerAsKustomize(ours: unknown, kustomizeFile: string): void {
  const kustomize = at(kustomizeObjects(kustomizeFile)[0], "spec.template.spec.containers.0");
  for (const field of ["ports", "livenessProbe", "readinessProbe", "resources", "securityContext", "env"]) {
    expect(at(ours, field), field).toEqual(at(kustomize, field));
  }
}

const adapterContainer = (objects: Obj[]): unknown =>
  at(find(objects, "Deployment", "prom-hpa-adapter"), "spec.template.spec.containers.0");
const adapterArgs = (objects: Obj[]): string[] => at(adapterContainer(objects), "args") as string[];
const configYaml = (objects: Obj[]): string =>
  (at(find(objects, "ConfigMap", "prom-hpa-adapter-config"), "data") as Record<string, string>)[
    "config.yaml"
  ] ?? "";
const apiServiceNames = (objects: Obj[]): string[] =>
  objects
    .filter((o) => o.kind === "APIService")
    .map((o) => o.metadata.name)
    .sort();

function kustomizeObjects(file: string): Obj[] {
  return parseAllDocuments(readFileSync(`${root}manifests/${file}`, "utf8")).map((d) => d.toJS() as Obj);
}

function chartSuite(): void {
  describe("helm lint", () => {
    const files = [
      [],
      ["prometheus-adapter-user.yaml"],
      ["default-and-custom.yaml"],
      ["tls.yaml"],
      ["cert-manager.yaml"],
      ["autoscaler.yaml"],
      ["local-image.yaml"],
    ];
    it.each(files.map((f) => [f.join(",") || "defaults", f] as const))("passes --strict with %s", (_, f) => {
      const out = runHelm(["lint", chart, "--strict", ...f.flatMap((x) => ["-f", fixture(x)])]);
      expect(out).toContain("0 chart(s) failed");
    });
  });

  describe("with default values", () => {
    const objects = render();

    it("renders the kustomize install's adapter objects under the same names", () => {
      const names = (os: Obj[]): string[] => os.map((o) => `${o.kind}/${o.metadata.name}`).sort();
      const kustomize = [
        "service-accounts.yaml",
        "rbac/adapter.yaml",
        "rbac/metrics-readers.yaml",
        "adapter/config.yaml",
        "adapter/deployment.yaml",
        "adapter/pdb.yaml",
        "adapter/service.yaml",
      ]
        .flatMap(kustomizeObjects)
        .filter((o) => !o.metadata.name.includes("autoscaler"));
      const chartNames = names(objects);
      expect(chartNames).toEqual(expect.arrayContaining(names(kustomize)));
      // No namespace (helm's --create-namespace makes it), no autoscaler, and prometheus-adapter's
      // APIServices for rules.default only (see below).
      expect(chartNames.filter((n) => !names(kustomize).includes(n))).toEqual([
        "APIService/v1beta1.custom.metrics.k8s.io",
        "APIService/v1beta2.custom.metrics.k8s.io",
      ]);
    });

    it("gives the adapter the kustomize install's RBAC rules", () => {
      for (const file of ["rbac/adapter.yaml", "rbac/metrics-readers.yaml"]) {
        for (const o of kustomizeObjects(file)) {
          const ours = find(objects, o.kind, o.metadata.name);
          expect(ours.rules ?? ours.roleRef).toEqual(o.rules ?? o.roleRef);
          if (o.kind === "RoleBinding") expect(ours.metadata.namespace).toBe("kube-system");
        }
      }
      const readers = find(objects, "ClusterRoleBinding", "prom-hpa:custom-metrics-reader");
      expect(readers.subjects).toEqual([
        { kind: "ServiceAccount", name: "horizontal-pod-autoscaler", namespace: "kube-system" },
      ]);
    });

    it("runs the adapter container as the kustomize install does", () => {
      expectContainerAsKustomize(adapterContainer(objects), "adapter/deployment.yaml");
      expect(adapterArgs(objects)).toEqual([
        "adapter",
        "--secure-port=6443",
        "--self-signed-hosts=prom-hpa-adapter,prom-hpa-adapter.prom-hpa,prom-hpa-adapter.prom-hpa.svc,prom-hpa-adapter.prom-hpa.svc.cluster.local",
        "--config=/etc/prom-hpa/config.yaml",
        "--prometheus-url=http://prometheus.default.svc:9090",
        "--metrics-relist-interval=1m",
        "--log-level=info",
      ]);
      const deployment = find(objects, "Deployment", "prom-hpa-adapter");
      expect(at(deployment, "spec.replicas")).toBe(2);
      expect(at(deployment, "spec.strategy")).toEqual({
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
      });
      expect(at(deployment, "spec.template.spec.securityContext")).toEqual(
        at(kustomizeObjects("adapter/deployment.yaml")[0], "spec.template.spec.securityContext"),
      );
    });

    it("registers custom.metrics.k8s.io only, skipping verification of the self-signed certificate", () => {
      expect(apiServiceNames(objects)).toEqual([
        "v1beta1.custom.metrics.k8s.io",
        "v1beta2.custom.metrics.k8s.io",
      ]);
      const v1beta2 = find(objects, "APIService", "v1beta2.custom.metrics.k8s.io");
      expect(v1beta2.spec).toEqual({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        service: { name: "prom-hpa-adapter", namespace: "prom-hpa", port: 443 },
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 200,
      });
    });

    it("leaves scaling to kube-controller-manager: no autoscaler objects", () => {
      expect(objects.filter((o) => o.metadata.name.includes("autoscaler"))).toEqual([]);
    });
  });

  describe("with a prometheus-adapter chart user's values", () => {
    const objects = render(["prometheus-adapter-user.yaml"]);
    const pod = at(find(objects, "Deployment", "prom-hpa-adapter"), "spec.template");

    it("maps the values to the adapter's flags, extraArguments last", () => {
      expect(adapterArgs(objects)).toEqual([
        "adapter",
        "--secure-port=6443",
        "--self-signed-hosts=prom-hpa-adapter,prom-hpa-adapter.prom-hpa,prom-hpa-adapter.prom-hpa.svc,prom-hpa-adapter.prom-hpa.svc.cluster.local",
        "--config=/etc/prom-hpa/config.yaml",
        "--prometheus-url=http://prometheus.monitoring.svc:9090/",
        "--metrics-relist-interval=30s",
        "--log-level=info",
        "--prometheus-header=X-Scope-OrgID=team-a",
      ]);
    });

    it("applies the pod-level values", () => {
      expect(at(pod, "metadata.labels.team")).toBe("platform");
      expect(at(pod, "metadata.annotations")).toMatchObject({ "example.com/owner": "platform" });
      expect(at(pod, "spec.nodeSelector")).toEqual({ "kubernetes.io/os": "linux" });
      expect(at(pod, "spec.tolerations")).toEqual([
        { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
      ]);
      expect(at(pod, "spec.priorityClassName")).toBe("system-cluster-critical");
      expect(at(pod, "spec.serviceAccountName")).toBe("custom-metrics-apiserver");
      expect(at(pod, "spec.containers.0.resources")).toEqual({
        requests: { cpu: "200m", memory: "256Mi" },
        limits: { memory: "1Gi" },
      });
      expect(at(pod, "spec.volumes.2")).toEqual({
        name: "prometheus-ca",
        configMap: { name: "prometheus-ca" },
      });
      expect(at(pod, "spec.containers.0.volumeMounts.2")).toEqual({
        name: "prometheus-ca",
        mountPath: "/etc/prometheus-ca",
        readOnly: true,
      });
      expect(at(find(objects, "Deployment", "prom-hpa-adapter"), "spec.strategy.rollingUpdate")).toEqual({
        maxSurge: "25%",
        maxUnavailable: "25%",
      });
    });

    it("names the ServiceAccount as asked, with its annotations, in every binding", () => {
      const sa = find(objects, "ServiceAccount", "custom-metrics-apiserver");
      expect(sa.metadata.annotations).toEqual({
        "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/metrics",
      });
      const subject = { kind: "ServiceAccount", name: "custom-metrics-apiserver", namespace: "prom-hpa" };
      expect(find(objects, "ClusterRoleBinding", "prom-hpa-adapter:system:auth-delegator").subjects).toEqual([
        subject,
      ]);
      expect(
        find(objects, "RoleBinding", "prom-hpa-adapter:extension-apiserver-authentication-reader").subjects,
      ).toEqual([subject]);
    });

    it("keeps a minAvailable PodDisruptionBudget without the default maxUnavailable", () => {
      expect(find(objects, "PodDisruptionBudget", "prom-hpa-adapter").spec).toEqual({
        minAvailable: 1,
        selector: {
          matchLabels: {
            "app.kubernetes.io/name": "prom-hpa",
            "app.kubernetes.io/instance": "prom-hpa",
            "app.kubernetes.io/component": "adapter",
          },
        },
      });
    });

    it("registers all four APIServices: custom, external and resource rules are set", () => {
      expect(apiServiceNames(objects)).toEqual([
        "v1beta1.custom.metrics.k8s.io",
        "v1beta1.external.metrics.k8s.io",
        "v1beta1.metrics.k8s.io",
        "v1beta2.custom.metrics.k8s.io",
      ]);
    });

    // prometheus-adapter's chart writes `rules:` only when rules.default or rules.custom is set
    // (the default rules first, custom after), then `externalRules:` from rules.external and
    // `resourceRules:` from rules.resource, each only when set.
    it("renders the rules config prometheus-adapter's chart renders for the same rules.*", () => {
      expect(configYaml(objects)).toBe(`# Rendered by the prom-hpa chart from its rules.* values.
rules:
- metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)
  name:
    as: \${1}_per_second
    matches: ^(.*)_total$
  resources:
    overrides:
      namespace:
        resource: namespace
      pod:
        resource: pod
  seriesQuery: http_requests_total{namespace!="",pod!=""}
externalRules:
- metricsQuery: max(<<.Series>>{<<.LabelMatchers>>}) by (queue)
  name:
    as: queue_depth
  resources:
    template: <<.Resource>>
  seriesQuery: '{__name__="queue_messages_ready",queue!=""}'
resourceRules:
  cpu:
    containerLabel: container
    containerQuery: |
      sum by (<<.GroupBy>>) (
        rate(container_cpu_usage_seconds_total{container!="",<<.LabelMatchers>>}[3m])
      )
    nodeQuery: |
      sum by (<<.GroupBy>>) (
        rate(node_cpu_seconds_total{mode!="idle",mode!="iowait",mode!="steal",<<.LabelMatchers>>}[3m])
      )
    resources:
      overrides:
        namespace:
          resource: namespace
        node:
          resource: node
        pod:
          resource: pod
  memory:
    containerLabel: container
    containerQuery: |
      sum by (<<.GroupBy>>) (
        avg_over_time(container_memory_working_set_bytes{container!="",<<.LabelMatchers>>}[3m])
      )
    nodeQuery: |
      sum by (<<.GroupBy>>) (
        avg_over_time(node_memory_MemTotal_bytes{<<.LabelMatchers>>}[3m])
        -
        avg_over_time(node_memory_MemAvailable_bytes{<<.LabelMatchers>>}[3m])
      )
    resources:
      overrides:
        namespace:
          resource: namespace
        node:
          resource: node
        pod:
          resource: pod
  window: 3m
`);
    });

    it("renders a config the adapter's own loader accepts", () => {
      const result = parseConfig(configYaml(objects));
      expect(result.ok ? [] : result.issues).toEqual([]);
    });
  });

  describe("with rules.default and one custom rule", () => {
    const objects = render(["default-and-custom.yaml"]);

    it("builds the Prometheus URL without a port when prometheus.port is empty", () => {
      expect(adapterArgs(objects)).toContain(
        "--prometheus-url=http://prometheus-operated.monitoring.svc.cluster.local/prometheus",
      );
    });

    it("renders prometheus-adapter's six default rules, then the custom rule, and nothing else", () => {
      const container = `    resources:
      overrides:
        namespace:
          resource: namespace
        pod:
          resource: pod
`;
      const containerQuery = `'{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'`;
      const appQuery = `'{namespace!="",__name__!~"^container_.*"}'`;
      expect(configYaml(objects)).toBe(`# Rendered by the prom-hpa chart from its rules.* values.
rules:
- metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by
    (<<.GroupBy>>)
  name:
    as: ""
    matches: ^container_(.*)_seconds_total$
  resources:
    overrides:
      namespace:
        resource: namespace
      pod:
        resource: pod
  seriesFilters: []
  seriesQuery: ${containerQuery}
- metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by
    (<<.GroupBy>>)
  name:
    as: ""
    matches: ^container_(.*)_total$
${container.replace(/^ {2}/gm, "")}  seriesFilters:
  - isNot: ^container_.*_seconds_total$
  seriesQuery: ${containerQuery}
- metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)
  name:
    as: ""
    matches: ^container_(.*)$
${container.replace(/^ {2}/gm, "")}  seriesFilters:
  - isNot: ^container_.*_total$
  seriesQuery: ${containerQuery}
- metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
  name:
    as: ""
    matches: ""
  resources:
    template: <<.Resource>>
  seriesFilters:
  - isNot: .*_total$
  seriesQuery: ${appQuery}
- metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
  name:
    as: ""
    matches: ^(.*)_total$
  resources:
    template: <<.Resource>>
  seriesFilters:
  - isNot: .*_seconds_total
  seriesQuery: ${appQuery}
- metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
  name:
    as: ""
    matches: ^(.*)_seconds_total$
  resources:
    template: <<.Resource>>
  seriesFilters: []
  seriesQuery: ${appQuery}
- metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
  name:
    as: jobs_queued_now
  resources:
    template: <<.Resource>>
  seriesQuery: jobs_queued{namespace!=""}
`);
      expect(parseConfig(configYaml(objects)).ok).toBe(true);
    });

    it("registers no external or resource metrics APIService", () => {
      expect(apiServiceNames(objects)).toEqual([
        "v1beta1.custom.metrics.k8s.io",
        "v1beta2.custom.metrics.k8s.io",
      ]);
    });
  });

  it("writes no `rules:` key when rules.default is off and rules.custom is empty, as prometheus-adapter's chart", () => {
    const objects = render([], ["rules.default=false"]);
    expect(configYaml(objects)).toBe("# Rendered by the prom-hpa chart from its rules.* values.\n");
    expect(apiServiceNames(objects)).toEqual([]);
  });

  it("runs on the host network with the given DNS settings when asked", () => {
    const spec = at(
      find(
        render(
          [],
          [
            "hostNetwork.enabled=true",
            "dnsPolicy=ClusterFirstWithHostNet",
            "dnsConfig.searches[0]=my.dns.search.suffix",
          ],
        ),
        "Deployment",
        "prom-hpa-adapter",
      ),
      "spec.template.spec",
    );
    expect([at(spec, "hostNetwork"), at(spec, "dnsPolicy"), at(spec, "dnsConfig")]).toEqual([
      true,
      "ClusterFirstWithHostNet",
      { searches: ["my.dns.search.suffix"] },
    ]);
  });

  it("maps a numeric logLevel (klog --v) to a log level", () => {
    const level = (v: string): string | undefined =>
      adapterArgs(render([], [`logLevel=${v}`])).find((a) => a.startsWith("--log-level="));
    expect([level("2"), level("4"), level("6"), level("warn")]).toEqual([
      "--log-level=info",
      "--log-level=debug",
      "--log-level=trace",
      "--log-level=warn",
    ]);
  });

  it("refuses prometheus-adapter's klog flags and --cert-dir in extraArguments, naming the value to use", () => {
    const error = (arg: string): string => {
      const r = spawnSync(helmPath, ["template", "prom-hpa", chart, "--set", `extraArguments[0]=${arg}`], {
        encoding: "utf8",
      });
      return r.status === 0 ? "rendered" : r.stderr;
    };
    expect(error("--v=6")).toContain("extraArguments: --v is a klog flag of prometheus-adapter");
    expect(error("--logtostderr=true")).toContain("set logLevel");
    expect(error("--cert-dir=/tmp/cert")).toContain("extraArguments: --cert-dir is not a prom-hpa flag");
    expect(error("--prometheus-verb=GET")).toBe("rendered");
  });

  describe("with tls.enable", () => {
    const objects = render(["tls.yaml"]);
    const values = parse(readFileSync(fixture("tls.yaml"), "utf8")) as {
      tls: { ca: string; certificate: string; key: string };
    };
    const b64 = (s: string): string => Buffer.from(s).toString("base64");

    it("serves the given certificate from a Secret the adapter mounts", () => {
      expect(find(objects, "Secret", "prom-hpa-adapter-tls").data).toEqual({
        "tls.crt": b64(values.tls.certificate),
        "tls.key": b64(values.tls.key),
        "ca.crt": b64(values.tls.ca),
      });
      expect(adapterArgs(objects)).toEqual(
        expect.arrayContaining([
          "--tls-cert-file=/var/run/serving-cert/tls.crt",
          "--tls-private-key-file=/var/run/serving-cert/tls.key",
        ]),
      );
      expect(adapterArgs(objects).some((a) => a.startsWith("--self-signed-hosts"))).toBe(false);
    });

    it("puts tls.ca in every APIService's caBundle and verifies", () => {
      const spec = find(objects, "APIService", "v1beta1.custom.metrics.k8s.io").spec;
      expect(at(spec, "caBundle")).toBe(b64(values.tls.ca));
      expect(at(spec, "insecureSkipTLSVerify")).toBeUndefined();
    });
  });

  describe("with certManager.enabled and rules.existing", () => {
    const objects = render(["cert-manager.yaml"]);

    it("issues the serving certificate for the Service's names from a CA of its own", () => {
      const cert = find(objects, "Certificate", "prom-hpa-adapter");
      expect(at(cert, "spec.secretName")).toBe("prom-hpa-adapter-tls");
      expect(at(cert, "spec.duration")).toBe("2160h0m0s");
      expect(at(cert, "spec.issuerRef")).toEqual({ kind: "Issuer", name: "prom-hpa-adapter-ca" });
      expect(at(cert, "spec.dnsNames")).toEqual([
        "prom-hpa-adapter",
        "prom-hpa-adapter.prom-hpa",
        "prom-hpa-adapter.prom-hpa.svc",
        "prom-hpa-adapter.prom-hpa.svc.cluster.local",
      ]);
      expect(at(find(objects, "Certificate", "prom-hpa-adapter-ca"), "spec.isCA")).toBe(true);
      expect(at(find(objects, "Issuer", "prom-hpa-adapter-selfsigned"), "spec")).toEqual({ selfSigned: {} });
    });

    it("has cert-manager inject that CA into the APIServices", () => {
      for (const name of apiServiceNames(objects)) {
        const o = find(objects, "APIService", name);
        expect(o.metadata.annotations).toEqual({
          "cert-manager.io/inject-ca-from": "prom-hpa/prom-hpa-adapter-ca",
        });
        expect(at(o, "spec.insecureSkipTLSVerify")).toBeUndefined();
      }
      expect(apiServiceNames(objects)).toContain("v1beta1.external.metrics.k8s.io");
    });

    it("mounts the existing rules ConfigMap and renders none", () => {
      expect(objects.filter((o) => o.kind === "ConfigMap")).toEqual([]);
      const volumes = at(find(objects, "Deployment", "prom-hpa-adapter"), "spec.template.spec.volumes");
      expect(volumes).toContainEqual({ name: "config", configMap: { name: "my-adapter-rules" } });
    });
  });

  describe("with autoscaler.enabled", () => {
    const objects = render(["autoscaler.yaml"]);

    it("runs the autoscaler as the kustomize install does, with leader election on a Lease", () => {
      const ours = at(find(objects, "Deployment", "prom-hpa-autoscaler"), "spec.template.spec.containers.0");
      expectContainerAsKustomize(ours, "autoscaler/deployment.yaml");
      expect(at(ours, "args")).toEqual([
        "autoscaler",
        "--leader-elect",
        "--leader-elect-lease-name=prom-hpa-autoscaler",
        "--leader-elect-lease-namespace=$(POD_NAMESPACE)",
        "--leader-elect-identity=$(POD_NAME)",
        "--sync-period=15s",
        "--upscale-delay=3m",
        "--downscale-delay=5m",
        "--metrics-bind-address=:8080",
        "--hpa-selector=autoscaler=prom-hpa",
      ]);
    });

    it("gives the autoscaler the kustomize install's RBAC, Lease permissions included", () => {
      for (const o of kustomizeObjects("rbac/autoscaler.yaml")) {
        const ours = find(objects, o.kind, o.metadata.name);
        expect(ours.rules ?? ours.roleRef).toEqual(o.rules ?? o.roleRef);
        expect(ours.subjects).toEqual(o.subjects);
        expect(ours.metadata.namespace).toBe(o.metadata.namespace);
      }
      for (const name of ["prom-hpa:resource-metrics-reader", "prom-hpa:custom-metrics-reader"]) {
        const kustomize = find(kustomizeObjects("rbac/metrics-readers.yaml"), "ClusterRoleBinding", name);
        expect(find(objects, "ClusterRoleBinding", name).subjects).toEqual(kustomize.subjects);
      }
    });

    it("adds its ServiceAccount and PodDisruptionBudget", () => {
      expect(find(objects, "ServiceAccount", "prom-hpa-autoscaler").metadata.namespace).toBe("prom-hpa");
      expect(at(find(objects, "PodDisruptionBudget", "prom-hpa-autoscaler"), "spec.maxUnavailable")).toBe(1);
    });
  });

  describe("with a local image (pullPolicy Never)", () => {
    const objects = render(["local-image.yaml"]);
    const containers = objects
      .filter((o) => o.kind === "Deployment")
      .map((d) => at(d, "spec.template.spec.containers.0"));

    it("runs both programs from that image without pulling", () => {
      expect(containers.map((c) => [at(c, "image"), at(c, "imagePullPolicy")])).toEqual([
        ["docker.io/library/prom-hpa:dev", "Never"],
        ["docker.io/library/prom-hpa:dev", "Never"],
      ]);
    });

    it("drops rollingUpdate for a Recreate strategy and the PodDisruptionBudget when disabled", () => {
      expect(at(find(objects, "Deployment", "prom-hpa-adapter"), "spec.strategy")).toEqual({
        type: "Recreate",
      });
      expect(objects.filter((o) => o.kind === "PodDisruptionBudget").map((o) => o.metadata.name)).toEqual([
        "prom-hpa-autoscaler",
      ]);
      expect(at(containers[1], "args")).not.toContain("--leader-elect");
    });
  });
}

// Without helm every test below would fail on collection; say once why they did not run.
if ("error" in helm) {
  describe("charts/prom-hpa", () => {
    it.skip(`skipped: helm could not be built (${helm.error.split("\n")[0]})`, () => {});
  });
} else {
  describe("charts/prom-hpa", chartSuite);
}
