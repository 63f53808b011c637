import { describe, expect, it } from "vitest";
import { parseSeconds, parseUpFlags, readyLines } from "../../../../scripts/cluster/options.js";

describe("cluster:up flags", () => {
  it("default to our autoscaler in charge, two kwok nodes only and a 2s scrape interval", () => {
    expect(parseUpFlags({})).toEqual({
      hpaController: false,
      nodes: 2,
      ports: {},
      scrapeIntervalSeconds: 2,
      addons: [],
      realNode: false,
      aggregatorRouting: "service",
    });
  });

  it("route the aggregator to pod IPs with --aggregator-routing endpoints, and refuse other modes", () => {
    expect(parseUpFlags({ realNode: true, aggregatorRouting: "endpoints" }).aggregatorRouting).toBe(
      "endpoints",
    );
    expect(() => parseUpFlags({ aggregatorRouting: "proxy" })).toThrow(
      '--aggregator-routing must be service or endpoints, got "proxy"',
    );
  });

  it("add the real node beside the kwok nodes with --real-node", () => {
    const opts = parseUpFlags({ realNode: true, nodes: "1" });
    expect(opts.realNode).toBe(true);
    expect(opts.nodes).toBe(1);
  });

  it("turn kube-controller-manager's HPA flags into seconds", () => {
    const opts = parseUpFlags({
      hpaController: true,
      hpaSyncPeriod: "5s",
      hpaTolerance: "0.05",
      hpaDownscaleStabilization: "1m",
      hpaCpuInitializationPeriod: "30",
      hpaInitialReadinessDelay: "10s",
    });
    expect(opts.hpaFlags).toEqual({
      syncPeriodSeconds: 5,
      tolerance: 0.05,
      downscaleStabilizationSeconds: 60,
      cpuInitializationPeriodSeconds: 30,
      initialReadinessDelaySeconds: 10,
    });
  });

  it("refuse HPA flags without the HPA controller", () => {
    expect(() => parseUpFlags({ hpaTolerance: "0.2" })).toThrow(/need --hpa-controller/);
  });

  it("name the flag that is wrong", () => {
    expect(() => parseUpFlags({ nodes: "zero" })).toThrow(/--nodes must be an integer/);
    expect(() => parseUpFlags({ apiserverPort: "70000" })).toThrow(/--apiserver-port/);
    expect(() => parseUpFlags({ hpaController: true, hpaSyncPeriod: "soon" })).toThrow(
      /--hpa-sync-period must be a duration/,
    );
    expect(() => parseUpFlags({ pods: "no-slash" })).toThrow(/--pods must be <namespace>\/<label selector>/);
    expect(() => parseUpFlags({ burnMs: "10" })).toThrow(/--burn-ms needs --pods/);
  });

  it("read fixed ports, addons and the pod runner's target", () => {
    const opts = parseUpFlags({
      apiserverPort: "6443",
      prometheusPort: "9090",
      with: "adapter, autoscaler",
      pods: "default/app=hello-world",
      burnMs: "15",
    });
    expect(opts.ports).toEqual({ "kube-apiserver": 6443, prometheus: 9090 });
    expect(opts.addons).toEqual(["adapter", "autoscaler"]);
    expect(opts.pods).toEqual({ namespace: "default", labelSelector: "app=hello-world", burnMs: 15 });
  });

  it("pick the Prometheus-API backend by name, and refuse an unknown one listing the choices", () => {
    expect(parseUpFlags({ prometheus: "victoriametrics" }).prometheus).toBe("victoriametrics");
    expect(parseUpFlags({}).prometheus).toBeUndefined();
    expect(() => parseUpFlags({ prometheus: "thanos" })).toThrow(
      '--prometheus must be one of debian, prometheus3, victoriametrics, got "thanos"',
    );
  });

  it("parse durations as kube flags write them", () => {
    expect(parseSeconds("x", "90")).toBe(90);
    expect(parseSeconds("x", "2m")).toBe(120);
    expect(parseSeconds("x", "1h")).toBe(3600);
    expect(parseSeconds("x", undefined)).toBeUndefined();
  });
});

describe("cluster:up output", () => {
  it("ends with the KUBECONFIG and PATH exports, each on a line of its own", () => {
    const lines = readyLines({
      runDir: "/r",
      seconds: 4.2,
      apiserverUrl: "https://127.0.0.1:1",
      prometheusUrl: "http://127.0.0.1:2",
      infoFile: "/r/cluster.json",
      logs: [{ name: "etcd", logFile: "/r/logs/etcd.log" }],
      extra: [],
      kubeconfigPath: "/r/kubeconfig/admin.kubeconfig",
      binDir: "/bin/kube",
    });
    expect(lines.slice(-2)).toEqual([
      "export KUBECONFIG=/r/kubeconfig/admin.kubeconfig",
      "export PATH=/bin/kube:$PATH",
    ]);
    expect(lines.some((l) => l.includes("etcd") && l.includes("/r/logs/etcd.log"))).toBe(true);
  });
});
