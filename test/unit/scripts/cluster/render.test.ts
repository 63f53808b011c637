import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { PkiFiles } from "../../../../scripts/cluster/pki.js";
import {
  BASE_CONTROLLERS,
  HPA_CONTROLLER,
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  hpaFlagArgs,
  kubeconfig,
  kwokArgs,
  kwokNode,
  prometheusArgs,
  prometheusConfig,
  schedulerArgs,
  victoriaMetricsArgs,
} from "../../../../scripts/cluster/render.js";

const files = (name: string) => ({ certFile: `/pki/${name}.crt`, keyFile: `/pki/${name}.key` });
const pki: PkiFiles = {
  dir: "/pki",
  ca: files("ca"),
  frontProxyCa: files("front-proxy-ca"),
  frontProxyClient: files("front-proxy-client"),
  servingCa: files("serving-ca"),
  apiserver: files("apiserver"),
  admin: files("admin"),
  controllerManager: files("controller-manager"),
  scheduler: files("scheduler"),
  kwok: files("kwok"),
  apiserverKubeletClient: files("apiserver-kubelet-client"),
  loopbackServing: files("loopback-serving"),
  serviceAccountKeyFile: "/pki/sa.key",
  serviceAccountPubFile: "/pki/sa.pub",
};

function flagMap(args: string[]): Map<string, string> {
  return new Map(
    args.map((a) => {
      const eq = a.indexOf("=");
      return eq < 0 ? [a, ""] : [a.slice(0, eq), a.slice(eq + 1)];
    }),
  );
}

describe("kube-apiserver arguments", () => {
  const flags = flagMap(apiserverArgs({ port: 6443, etcdClientPort: 2379, pki }));

  it("configure the aggregation layer as a production cluster has it", () => {
    expect(flags.get("--requestheader-client-ca-file")).toBe("/pki/front-proxy-ca.crt");
    expect(flags.get("--requestheader-allowed-names")).toBe("front-proxy-client");
    expect(flags.get("--requestheader-username-headers")).toBe("X-Remote-User");
    expect(flags.get("--requestheader-group-headers")).toBe("X-Remote-Group");
    expect(flags.get("--requestheader-extra-headers-prefix")).toBe("X-Remote-Extra-");
    expect(flags.get("--proxy-client-cert-file")).toBe("/pki/front-proxy-client.crt");
    expect(flags.get("--proxy-client-key-file")).toBe("/pki/front-proxy-client.key");
    expect(flags.get("--enable-aggregator-routing")).toBe("false");
  });

  it("route the aggregator to endpoints (pod IPs) when asked, for pods on a real node", () => {
    const routed = flagMap(
      apiserverArgs({ port: 6443, etcdClientPort: 2379, pki, aggregatorRouting: "endpoints" }),
    );
    expect(routed.get("--enable-aggregator-routing")).toBe("true");
  });

  it("authorize with Node and RBAC and sign service-account tokens", () => {
    expect(flags.get("--authorization-mode")).toBe("Node,RBAC");
    expect(flags.get("--service-account-signing-key-file")).toBe("/pki/sa.key");
    expect(flags.get("--service-account-key-file")).toBe("/pki/sa.pub");
    expect(flags.get("--service-account-issuer")).toBe("https://kubernetes.default.svc.cluster.local");
  });

  it("listen on loopback only, at the given ports", () => {
    expect(flags.get("--bind-address")).toBe("127.0.0.1");
    expect(flags.get("--secure-port")).toBe("6443");
    expect(flags.get("--etcd-servers")).toBe("http://127.0.0.1:2379");
  });
});

describe("kube-controller-manager arguments", () => {
  it("run the base controllers without the HPA controller or its flags when it is off", () => {
    const flags = flagMap(
      controllerManagerArgs({ port: 10257, kubeconfig: "/k", pki, controllers: BASE_CONTROLLERS }),
    );
    const controllers = flags.get("--controllers")?.split(",") ?? [];
    expect(controllers).toEqual(
      expect.arrayContaining([
        "deployment-controller",
        "replicaset-controller",
        "serviceaccount-controller",
        "namespace-controller",
        "garbage-collector-controller",
      ]),
    );
    expect(controllers).not.toContain(HPA_CONTROLLER);
    expect([...flags.keys()].some((k) => k.startsWith("--horizontal-pod-autoscaler-"))).toBe(false);
    expect(flags.get("--service-account-private-key-file")).toBe("/pki/sa.key");
    expect(flags.get("--use-service-account-credentials")).toBe("true");
  });

  it("pass the HPA flags when the HPA controller runs", () => {
    const flags = flagMap(
      controllerManagerArgs({
        port: 10257,
        kubeconfig: "/k",
        pki,
        controllers: [...BASE_CONTROLLERS, HPA_CONTROLLER],
        hpaFlags: {
          syncPeriodSeconds: 5,
          tolerance: 0.05,
          downscaleStabilizationSeconds: 30,
          cpuInitializationPeriodSeconds: 60,
          initialReadinessDelaySeconds: 10,
        },
      }),
    );
    expect(flags.get("--controllers")?.split(",")).toContain(HPA_CONTROLLER);
    expect(flags.get("--horizontal-pod-autoscaler-sync-period")).toBe("5s");
    expect(flags.get("--horizontal-pod-autoscaler-tolerance")).toBe("0.05");
    expect(flags.get("--horizontal-pod-autoscaler-downscale-stabilization")).toBe("30s");
    expect(flags.get("--horizontal-pod-autoscaler-cpu-initialization-period")).toBe("60s");
    expect(flags.get("--horizontal-pod-autoscaler-initial-readiness-delay")).toBe("10s");
  });

  it("refuse HPA flags while the HPA controller is off", () => {
    expect(() =>
      controllerManagerArgs({
        port: 1,
        kubeconfig: "/k",
        pki,
        controllers: BASE_CONTROLLERS,
        hpaFlags: { tolerance: 0.2 },
      }),
    ).toThrow(/HPA controller is off/);
  });

  it("name the bad HPA flag", () => {
    expect(() => hpaFlagArgs({ syncPeriodSeconds: 0 })).toThrow(/syncPeriodSeconds must be > 0/);
    expect(() => hpaFlagArgs({ tolerance: -1 })).toThrow(/tolerance/);
    expect(() => hpaFlagArgs({ downscaleStabilizationSeconds: Number.NaN })).toThrow(
      /downscaleStabilizationSeconds/,
    );
    expect(hpaFlagArgs({})).toEqual([]);
  });
});

describe("the other components' arguments", () => {
  it("etcd serves clients and peers on the given loopback ports", () => {
    const flags = flagMap(etcdArgs({ dataDir: "/d", clientPort: 1111, peerPort: 2222 }));
    expect(flags.get("--listen-client-urls")).toBe("http://127.0.0.1:1111");
    expect(flags.get("--initial-cluster")).toBe("local=http://127.0.0.1:2222");
    expect(flags.get("--data-dir")).toBe("/d");
  });

  it("kube-scheduler serves health on loopback with the shared serving certificate", () => {
    const flags = flagMap(schedulerArgs({ port: 10259, kubeconfig: "/s", pki }));
    expect(flags.get("--secure-port")).toBe("10259");
    expect(flags.get("--tls-cert-file")).toBe("/pki/loopback-serving.crt");
  });

  it("kwok manages only the nodes carrying its annotation, with its own config file", () => {
    const flags = flagMap(kwokArgs({ kubeconfig: "/kw", configFile: "/kwok.yaml", port: 9999 }));
    expect(flags.get("--manage-nodes-with-annotation-selector")).toBe("kwok.x-k8s.io/node=fake");
    expect(flags.get("--config")).toBe("/kwok.yaml");
    expect(flags.get("--server-address")).toBe("127.0.0.1:9999");
    const node = kwokNode({ name: "n0", cpu: "8", memory: "16Gi", pods: 50 }) as {
      metadata: { annotations: Record<string, string> };
      status: { capacity: Record<string, string> };
    };
    expect(node.metadata.annotations["kwok.x-k8s.io/node"]).toBe("fake");
    expect(node.status.capacity).toEqual({ cpu: "8", memory: "16Gi", pods: "50" });
  });

  it("Prometheus listens on loopback with its own config and data folder", () => {
    const flags = flagMap(prometheusArgs({ configFile: "/p.yml", dataDir: "/data", port: 9090 }));
    expect(flags.get("--web.listen-address")).toBe("127.0.0.1:9090");
    expect(flags.get("--config.file")).toBe("/p.yml");
    expect(flags.get("--storage.tsdb.path")).toBe("/data");
  });

  it("VictoriaMetrics takes Prometheus' place: same port, same scrape config, fresh samples visible", () => {
    const flags = flagMap(victoriaMetricsArgs({ configFile: "/p.yml", dataDir: "/data", port: 9090 }));
    expect(flags.get("-httpListenAddr")).toBe("127.0.0.1:9090");
    expect(flags.get("-promscrape.config")).toBe("/p.yml");
    // Prometheus-only fields in that config (evaluation_interval, refresh_interval) are skipped.
    expect(flags.get("-promscrape.config.strictParse")).toBe("false");
    expect(flags.get("-storageDataPath")).toBe("/data");
    expect(flags.get("-search.latencyOffset")).toBe("0s");
  });
});

describe("Prometheus configuration", () => {
  it("scrapes the pod runners' file_sd targets at the short interval, taking cAdvisor labels from the exposition", () => {
    const cfg = parse(prometheusConfig({ scrapeIntervalSeconds: 2, sdDir: "/run/sd" })) as {
      global: Record<string, string>;
      scrape_configs: Array<{
        job_name: string;
        honor_labels?: boolean;
        file_sd_configs: Array<{ files: string[] }>;
      }>;
    };
    expect(cfg.global.scrape_interval).toBe("2s");
    expect(cfg.scrape_configs.map((j) => j.job_name)).toEqual(["pods", "cadvisor"]);
    expect(cfg.scrape_configs[0]?.file_sd_configs[0]?.files).toEqual(["/run/sd/pods-*.json"]);
    expect(cfg.scrape_configs[0]?.honor_labels).toBeUndefined();
    expect(cfg.scrape_configs[1]?.honor_labels).toBe(true);
    expect(cfg.scrape_configs[1]?.file_sd_configs[0]?.files).toEqual(["/run/sd/cadvisor-*.json"]);
  });

  it("with a client certificate, scrapes our programs listed in prom-hpa-*.json with it, keeping their labels, and loads rules-*.yaml", () => {
    const cfg = parse(
      prometheusConfig({
        scrapeIntervalSeconds: 2,
        sdDir: "/run/sd",
        programsClientCert: { certFile: "/pki/admin.crt", keyFile: "/pki/admin.key" },
      }),
    ) as {
      scrape_configs: Array<{
        job_name: string;
        honor_labels?: boolean;
        tls_config?: Record<string, unknown>;
        file_sd_configs: Array<{ files: string[] }>;
      }>;
      rule_files: string[];
    };
    const job = cfg.scrape_configs.find((j) => j.job_name === "prom-hpa");
    expect(job?.file_sd_configs[0]?.files).toEqual(["/run/sd/prom-hpa-*.json"]);
    expect(job?.honor_labels).toBe(true);
    expect(job?.tls_config).toEqual({
      cert_file: "/pki/admin.crt",
      key_file: "/pki/admin.key",
      insecure_skip_verify: true,
    });
    expect(cfg.rule_files).toEqual(["/run/sd/rules-*.yaml"]);
  });

  it("refuses a scrape interval that is not a whole number of seconds", () => {
    expect(() => prometheusConfig({ scrapeIntervalSeconds: 0.5, sdDir: "/x" })).toThrow(
      /scrapeIntervalSeconds/,
    );
  });
});

describe("kubeconfig", () => {
  it("embeds the CA and the client certificate and selects its one context", () => {
    const cfg = parse(
      kubeconfig({
        server: "https://127.0.0.1:6443",
        caPem: "CA",
        certPem: "CERT",
        keyPem: "KEY",
        user: "admin",
      }),
    ) as {
      clusters: Array<{ cluster: Record<string, string> }>;
      users: Array<{ name: string; user: Record<string, string> }>;
      "current-context": string;
      contexts: Array<{ name: string }>;
    };
    expect(cfg.clusters[0]?.cluster.server).toBe("https://127.0.0.1:6443");
    expect(
      Buffer.from(cfg.clusters[0]?.cluster["certificate-authority-data"] ?? "", "base64").toString(),
    ).toBe("CA");
    expect(Buffer.from(cfg.users[0]?.user["client-certificate-data"] ?? "", "base64").toString()).toBe(
      "CERT",
    );
    expect(Buffer.from(cfg.users[0]?.user["client-key-data"] ?? "", "base64").toString()).toBe("KEY");
    expect(cfg["current-context"]).toBe(cfg.contexts[0]?.name);
  });
});
