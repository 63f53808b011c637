// A real node beside the kwok nodes: containerd (with runc and the CNI bridge) and kubelet,
// joined to the harness' control plane, with its pause image built here and imported (no
// registry, no pull: containerd runs with an unreachable proxy). Everything it changed on the
// host is undone on stop, or by cleanupHost after a crash (see host.ts).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { existsSync, readFileSync } from "node:fs";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { SetupError } from "../binaries.js";
import { okProbe } from "../http.js";
import { issueCert, readKeyPair, writeKeyPair, type CertFiles } from "../pki.js";
import { startProcess, track, type Component } from "../process.js";
import { kubeconfig } from "../render.js";
import { writeOciArchive } from "../../image/oci.js";
import { ensureNodeBinaries, type NodeBinaries } from "./binaries.js";
import { cleanupHost, prepareHost } from "./host.js";
import {
  BRIDGE,
  CONTAINERD_SOCKET,
  PAUSE_IMAGE,
  REAL_NODE_NAME,
  cniConflist,
  containerdConfig,
  kubeletArgs,
  kubeletConfig,
  nodeDirs,
} from "./render.js";

const run = promisify(execFile);

/** Plain data about the real node, part of ClusterInfo. */
export interface RealNodeInfo {
  name: string;
  /** The kubelet's HTTPS address (on the bridge), for /metrics/cadvisor and /metrics/resource. */
  kubeletUrl: string;
  containerdSocket: string;
  /** containerd's ctr, for `ctr -n k8s.io images import`. */
  ctr: string;
  snapshotter: string;
  bridge: { name: string; cidr: string; hostIp: string };
  baseDir: string;
}

export interface RealNode {
  info: RealNodeInfo;
  components: Component[];
  stop(): Promise<string[]>;
}

export interface RealNodeOptions {
  runDir: string;
  logsDir: string;
  apiserverUrl: string;
  ca: CertFiles;
  kubeletPort: number;
  healthzPort: number;
  binaries?: NodeBinaries;
  kubeConfig: KubeConfig;
  timeoutMs: number;
  progress: (m: string) => void;
}

export class RealNodeSetupError extends SetupError {}

/** overlayfs where the kernel has it (containerd's default), else the copying snapshotter. */
export function snapshotter(): "overlayfs" | "native" {
  try {
    return /\toverlay\n/.test(`${readFileSync("/proc/filesystems", "utf8")}\n`) ? "overlayfs" : "native";
  } catch {
    return "native";
  }
}

/** Imports an OCI archive into the node's containerd, into the namespace kubelet's CRI uses. */
export async function importImage(
  info: Pick<RealNodeInfo, "ctr" | "containerdSocket" | "snapshotter">,
  archive: string,
): Promise<void> {
  await run(info.ctr, [
    "--address",
    info.containerdSocket,
    "-n",
    "k8s.io",
    "images",
    "import",
    "--snapshotter",
    info.snapshotter,
    archive,
  ]);
}

/** Checks the machine can run a node before anything changes on it. */
function checkHost(): void {
  if (process.getuid?.() !== 0)
    throw new RealNodeSetupError("a real node needs root (it creates a bridge, cgroups and mounts)");
  if (!existsSync("/sys/fs/cgroup"))
    throw new RealNodeSetupError("a real node needs cgroups mounted under /sys/fs/cgroup");
}

export async function startRealNode(o: RealNodeOptions): Promise<RealNode> {
  checkHost();
  const bins = o.binaries ?? (await ensureNodeBinaries());
  const dirs = nodeDirs(join(o.runDir, "node"), bins.cniBinDir);
  const { recovered } = await prepareHost(o.runDir, dirs.base, [bins.kubelet, bins.containerd, bins.shim]);
  if (recovered) o.progress(recovered);
  const components: Component[] = [];
  const stop = async (): Promise<string[]> => {
    // kubelet first so it does not restart what goes next; the rest goes in cleanupHost.
    for (const c of [...components].reverse()) await c.stop();
    return cleanupHost(dirs.base);
  };
  try {
    for (const d of [
      dirs.containerdRoot,
      dirs.containerdState,
      dirs.cniConfDir,
      dirs.kubeletRoot,
      dirs.podLogs,
      dirs.volumePlugins,
      dirs.images,
    ])
      await mkdir(d, { recursive: true });
    const snap = snapshotter();
    const info: RealNodeInfo = {
      name: REAL_NODE_NAME,
      kubeletUrl: `https://${BRIDGE.hostIp}:${o.kubeletPort}`,
      containerdSocket: CONTAINERD_SOCKET,
      ctr: bins.ctr,
      snapshotter: snap,
      bridge: { name: BRIDGE.name, cidr: BRIDGE.cidr, hostIp: BRIDGE.hostIp },
      baseDir: dirs.base,
    };

    // containerd
    const configFile = join(dirs.base, "containerd.toml");
    await writeFile(configFile, containerdConfig({ dirs, runc: bins.runc, snapshotter: snap }));
    await writeFile(join(dirs.cniConfDir, "10-prom-hpa.conflist"), cniConflist());
    const containerd = startProcess({
      name: "containerd",
      command: bins.containerd,
      args: ["--config", configFile],
      logFile: join(o.logsDir, "containerd.log"),
      env: {
        ...process.env,
        // The shim is looked up on PATH; runc is named in the config.
        PATH: `${dirname(bins.shim)}:${process.env.PATH ?? ""}`,
        // No pull can leave the machine: images are imported, pods use imagePullPolicy Never.
        HTTPS_PROXY: "127.0.0.1:9",
        HTTP_PROXY: "127.0.0.1:9",
        NO_PROXY: "",
      },
    });
    track(containerd);
    components.push(containerd);
    o.progress(`containerd started (pid ${containerd.pid}, log ${containerd.logFile})`);
    await containerd.waitHealthy({
      timeoutMs: 30_000,
      check: async () => {
        await run(bins.ctr, ["--address", CONTAINERD_SOCKET, "version"]);
        return true;
      },
    });

    // The pause image kubelet's sandboxes run, from kubelet's own pause.c.
    const rootfs = await mkdtemp(join(dirs.images, "pause-"));
    await run("install", ["-D", "-m", "0755", bins.pause, join(rootfs, "pause")]);
    const pauseArchive = join(dirs.images, "pause.tar");
    await writeOciArchive({
      layers: [rootfs],
      config: { entrypoint: ["/pause"], env: ["PATH=/"], user: "65535:65535" },
      ref: PAUSE_IMAGE,
      out: pauseArchive,
      workDir: join(dirs.images, "pause-work"),
    });
    await importImage(info, pauseArchive);

    // kubelet, with a client certificate of the Node authorizer's shape and a serving one for its IP.
    const ca = await readKeyPair(o.ca);
    const pkiDir = join(dirs.base, "pki");
    const client = await writeKeyPair(
      pkiDir,
      "kubelet-client",
      await issueCert(ca, {
        commonName: `system:node:${REAL_NODE_NAME}`,
        organizations: ["system:nodes"],
        usage: "client",
      }),
    );
    const serving = await writeKeyPair(
      pkiDir,
      "kubelet-serving",
      await issueCert(ca, {
        commonName: REAL_NODE_NAME,
        dnsNames: [REAL_NODE_NAME],
        ips: [BRIDGE.hostIp],
        usage: "server",
      }),
    );
    const kubeletKubeconfig = join(dirs.base, "kubelet.kubeconfig");
    await writeFile(
      kubeletKubeconfig,
      kubeconfig({
        server: o.apiserverUrl,
        caPem: ca.certPem,
        certPem: await readFile(client.certFile, "utf8"),
        keyPem: await readFile(client.keyFile, "utf8"),
        user: `system:node:${REAL_NODE_NAME}`,
      }),
      { mode: 0o600 },
    );
    const kubeletConfigFile = join(dirs.base, "kubelet.yaml");
    await writeFile(
      kubeletConfigFile,
      kubeletConfig({
        dirs,
        caFile: o.ca.certFile,
        servingCert: serving,
        port: o.kubeletPort,
        healthzPort: o.healthzPort,
      }),
    );
    const kubelet = startProcess({
      name: "kubelet",
      command: bins.kubelet,
      args: kubeletArgs({
        configFile: kubeletConfigFile,
        kubeconfig: kubeletKubeconfig,
        rootDir: dirs.kubeletRoot,
      }),
      logFile: join(o.logsDir, "kubelet.log"),
    });
    track(kubelet);
    components.push(kubelet);
    o.progress(`kubelet started (pid ${kubelet.pid}, log ${kubelet.logFile})`);
    await kubelet.waitHealthy({
      timeoutMs: 60_000,
      check: okProbe(`http://127.0.0.1:${o.healthzPort}/healthz`),
    });
    const core = o.kubeConfig.makeApiClient(CoreV1Api);
    await kubelet.waitHealthy({
      timeoutMs: o.timeoutMs,
      intervalMs: 500,
      check: async () => {
        if (!containerd.running) throw new Error("containerd exited");
        const node = await core.readNode({ name: REAL_NODE_NAME });
        const ready = node.status?.conditions?.find((c) => c.type === "Ready");
        if (ready?.status === "True") return true;
        throw new Error(`node ${REAL_NODE_NAME} not Ready: ${ready?.message ?? "no Ready condition yet"}`);
      },
    });
    return { info, components, stop };
  } catch (err) {
    const problems = await stop().catch((e: unknown) => [String(e)]);
    if (problems.length > 0)
      o.progress(`real node cleanup after a failed start left: ${problems.join("; ")}`);
    throw err;
  }
}
