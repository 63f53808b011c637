import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseBuildOutput } from "../../../../scripts/cluster/realnode/binaries.js";
import {
  BRIDGE,
  CONTAINERD_SOCKET,
  PAUSE_IMAGE,
  cniConflist,
  containerdConfig,
  kubeletArgs,
  kubeletConfig,
  nodeDirs,
} from "../../../../scripts/cluster/realnode/render.js";
import { KUBELET_JOBS, prometheusConfig } from "../../../../scripts/cluster/render.js";

const dirs = nodeDirs("/run-dir/node", "/cache/cni/bin");

describe("the real node's configuration", () => {
  it("keeps containerd's state in the run folder but its socket where cAdvisor looks", () => {
    const toml = containerdConfig({ dirs, runc: "/usr/sbin/runc", snapshotter: "overlayfs" });
    expect(toml).toContain('root = "/run-dir/node/containerd/root"');
    expect(toml).toContain('state = "/run-dir/node/containerd/state"');
    expect(toml).toContain(`address = "${CONTAINERD_SOCKET}"`);
    expect(toml).toContain("restrict_oom_score_adj = true");
    expect(toml).toContain(`sandbox = "${PAUSE_IMAGE}"`);
    expect(toml).toContain('bin_dirs = ["/cache/cni/bin"]');
  });

  it("puts pods on a bridge that is neither a gateway nor masqueraded, routing only the kubernetes Service's address", () => {
    const net = JSON.parse(cniConflist()) as { plugins: Array<Record<string, unknown>> };
    expect(net.plugins[0]).toMatchObject({
      type: "bridge",
      bridge: BRIDGE.name,
      isGateway: false,
      ipMasq: false,
      ipam: { type: "host-local", routes: [{ dst: "10.96.0.1/32", gw: "10.88.0.1" }] },
    });
  });

  it("runs kubelet on cgroup v1 with cgroupfs, oomScoreAdj 0 and folders in the run folder", () => {
    const cfg = parse(
      kubeletConfig({
        dirs,
        caFile: "/pki/ca.crt",
        servingCert: { certFile: "/pki/k.crt", keyFile: "/pki/k.key" },
        port: 10250,
        healthzPort: 10248,
      }),
    ) as Record<string, unknown>;
    expect(cfg).toMatchObject({
      failCgroupV1: false,
      cgroupDriver: "cgroupfs",
      oomScoreAdj: 0,
      address: BRIDGE.hostIp,
      podLogsDir: "/run-dir/node/pod-logs",
      authorization: { mode: "Webhook" },
      authentication: { anonymous: { enabled: false }, x509: { clientCAFile: "/pki/ca.crt" } },
    });
    expect(kubeletArgs({ configFile: "/c", kubeconfig: "/k", rootDir: "/r" })).toContain(
      `--node-ip=${BRIDGE.hostIp}`,
    );
  });

  it("has Prometheus scrape the kubelet's cAdvisor and resource endpoints only when there is one", () => {
    const without = parse(prometheusConfig({ scrapeIntervalSeconds: 2, sdDir: "/sd" })) as {
      scrape_configs: Array<{ job_name: string }>;
    };
    expect(without.scrape_configs.map((j) => j.job_name)).toEqual(["pods", "cadvisor"]);
    const withKubelet = parse(
      prometheusConfig({
        scrapeIntervalSeconds: 2,
        sdDir: "/sd",
        kubelet: { address: "10.88.0.1:10250", node: "n", caFile: "/ca", certFile: "/c", keyFile: "/k" },
      }),
    ) as { scrape_configs: Array<{ job_name: string; metrics_path?: string; scheme?: string }> };
    expect(withKubelet.scrape_configs.slice(2)).toMatchObject([
      { job_name: KUBELET_JOBS.cadvisor, metrics_path: "/metrics/cadvisor", scheme: "https" },
      { job_name: KUBELET_JOBS.resource, metrics_path: "/metrics/resource", scheme: "https" },
    ]);
  });

  it("reads build-node.sh's tool=folder lines", () => {
    expect(parseBuildOutput("kubelet=/c/kubelet-v1/bin\nnoise\ncni=/c/cni/bin\n")).toEqual({
      kubelet: "/c/kubelet-v1/bin",
      cni: "/c/cni/bin",
    });
  });
});
