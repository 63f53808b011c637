// A real node beside the kwok nodes runs the prom-hpa image built without a container engine:
// the pod runs as the manifests run it (uid 1000, read-only root filesystem), gets an IP on
// the host-only bridge, its logs reach kubectl, the kubelet's cAdvisor series reach
// Prometheus, and after stop the host is as it was.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { which } from "../../scripts/cluster/binaries.js";
import { startCluster, type Cluster } from "../../scripts/cluster/cluster.js";
import { readSysctls } from "../../scripts/cluster/realnode/host.js";
import { BRIDGE, CONTAINERD_SOCKET, REAL_NODE_NAME } from "../../scripts/cluster/realnode/render.js";
import { buildImage, type BuiltImage } from "../../scripts/image/build.js";
import { waitFor } from "./support/wait.js";

const canRun = process.getuid?.() === 0 && existsSync("/sys/fs/cgroup/memory");

function kubeChains(): string[] {
  const save = which("iptables-save", `${process.env.PATH ?? ""}:/usr/sbin:/sbin`);
  if (!save) return [];
  return execFileSync(save, [], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith(":KUBE-"));
}

function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(dir));
}

const podSchema = z.object({
  status: z.object({
    phase: z.string(),
    podIP: z.string().optional(),
    conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
  }),
});

// The image's own node, serving its uid so the test sees who the container runs as.
const SERVER =
  "require('http').createServer((q,s)=>s.end(JSON.stringify({uid:process.getuid()}))).listen(8080);" +
  "console.log('listening as', process.getuid());" +
  "setInterval(()=>{const t=Date.now();while(Date.now()-t<20){}},100);";

describe.skipIf(!canRun)("a real node", () => {
  let cluster: Cluster;
  let image: BuiltImage;
  const before = { sysctls: readSysctls(), chains: kubeChains(), containerd: existsSync("/run/containerd") };
  const t0 = Date.now();

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, realNode: true });
    image = await buildImage(() => undefined);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("registers a Ready node running containerd, with its InternalIP on the bridge", async () => {
    const node = z
      .object({
        status: z.object({
          addresses: z.array(z.object({ type: z.string(), address: z.string() })),
          nodeInfo: z.object({ containerRuntimeVersion: z.string(), kubeletVersion: z.string() }),
          conditions: z.array(z.object({ type: z.string(), status: z.string() })),
        }),
      })
      .parse(JSON.parse(await cluster.kubectl(["get", "node", REAL_NODE_NAME, "-o", "json"])));
    expect(node.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(node.status.nodeInfo.containerRuntimeVersion).toBe("containerd://2.4.2");
    expect(node.status.addresses).toContainEqual({ type: "InternalIP", address: BRIDGE.hostIp });
    expect(image.imported).toBe(true);
  });

  it("runs the prom-hpa image as uid 1000 on a read-only root filesystem, Ready with a bridge IP", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "prom-hpa-image", namespace: "default" },
      spec: {
        nodeName: REAL_NODE_NAME,
        restartPolicy: "Always",
        automountServiceAccountToken: false,
        // The manifests' securityContext.
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 1000,
          seccompProfile: { type: "RuntimeDefault" },
        },
        initContainers: [
          {
            // The image as built: its entrypoint and default command (`--help`).
            name: "help",
            image: image.ref,
            imagePullPolicy: "Never",
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
          },
        ],
        containers: [
          {
            name: "web",
            image: image.ref,
            imagePullPolicy: "Never",
            command: ["node", "-e", SERVER],
            readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
          },
        ],
      },
    };
    await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(pod) });
    const status = await waitFor(
      "the prom-hpa image pod Running and Ready",
      async () => {
        const p = podSchema.parse(
          JSON.parse(await cluster.kubectl(["get", "pod", "prom-hpa-image", "-n", "default", "-o", "json"])),
        );
        const ready = p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True");
        return p.status.phase === "Running" && ready ? p.status : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(status.podIP).toMatch(/^10\.88\.0\.\d+$/);
    // From the host over the bridge: the process inside runs as 1000.
    const res = await fetch(`http://${status.podIP}:8080/`);
    expect(await res.json()).toEqual({ uid: 1000 });
  });

  it("serves the containers' logs through kubectl logs (kube-apiserver → kubelet)", async () => {
    const help = await cluster.kubectl(["logs", "prom-hpa-image", "-c", "help", "-n", "default"]);
    expect(help).toMatch(/adapter/);
    expect(help).toMatch(/autoscaler/);
    const web = await cluster.kubectl(["logs", "prom-hpa-image", "-c", "web", "-n", "default"]);
    expect(web).toContain("listening as 1000");
  });

  it("has Prometheus scrape the pod's CPU from the kubelet's cAdvisor and resource endpoints", async () => {
    const q = 'container_cpu_usage_seconds_total{namespace="default",pod="prom-hpa-image",container="web"}';
    const samples = await waitFor(
      "the pod's container_cpu_usage_seconds_total in Prometheus from both kubelet jobs",
      async () => {
        const s = await cluster.promQuery(q);
        // The two jobs scrape on their own schedules: one may be first by a scrape interval.
        return new Set(s.map((x) => x.labels.job)).size >= 2 ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(new Set(samples.map((s) => s.labels.job))).toEqual(
      new Set(["kubelet-cadvisor", "kubelet-resource"]),
    );
    expect(samples.every((s) => s.value > 0)).toBe(true);
  });

  it("leaves the host as it found it after stop", async () => {
    const runDir = cluster.info.runDir;
    await cluster.stop();
    expect(existsSync(`/sys/class/net/${BRIDGE.name}`)).toBe(false);
    expect(mountsUnder(runDir)).toEqual([]);
    expect(mountsUnder("/run/netns/")).toEqual([]);
    expect(kubeChains()).toEqual(before.chains);
    expect(readSysctls()).toEqual(before.sysctls);
    expect(existsSync("/run/containerd")).toBe(before.containerd);
    expect(existsSync(CONTAINERD_SOCKET)).toBe(false);
    expect(existsSync("/sys/fs/cgroup/memory/prom-hpa-node")).toBe(false);
    console.log(`[real-node] e2e body took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  });
});
