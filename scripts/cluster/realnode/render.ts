// Pure rendering of the real node's configuration: containerd's config, the CNI network and
// kubelet's config and flags. Where each value comes from is in ../../../../shared/real-node.md
// (measured on this kind of machine).
import { stringify } from "yaml";
import { KUBERNETES_SERVICE_IP } from "../render.js";

/** Where cAdvisor looks for containerd; elsewhere pods' series lose their pod/container labels. */
export const CONTAINERD_SOCKET = "/run/containerd/containerd.sock";
/** kubelet v1.37's sandbox image, built locally from kubelet's own pause.c. */
export const PAUSE_IMAGE = "registry.k8s.io/pause:3.10.2";
export const PAUSE_VERSION = "3.10.2";
export const REAL_NODE_NAME = "prom-hpa-node";
/** The pods' bridge: host-only, not routed, no NAT. */
export const BRIDGE = { name: "prom-hpa0", cidr: "10.88.0.0/24", hostIp: "10.88.0.1", prefix: 24 } as const;
/**
 * Where pods find kube-apiserver without kube-proxy: kubelet gives every container
 * KUBERNETES_SERVICE_HOST/PORT from the `kubernetes` Service (its ClusterIP, port 443), so
 * that address sits on the bridge, pods route it there, and the harness forwards it to the
 * loopback kube-apiserver (whose certificate names it).
 */
export const KUBERNETES_SERVICE = { ip: KUBERNETES_SERVICE_IP, port: 443 } as const;
/** The cgroup every v1 hierarchy gets for kubelet's pods (kubelet's `cgroupRoot`). */
export const CGROUP_ROOT = "/prom-hpa-node";
/** What kubelet writes at start unless they already hold kubelet's values; restored on stop. */
export const KUBELET_SYSCTLS = [
  "vm.overcommit_memory",
  "vm.panic_on_oom",
  "kernel.panic",
  "kernel.panic_on_oops",
  "kernel.keys.root_maxkeys",
  "kernel.keys.root_maxbytes",
] as const;
/** The iptables chains kubelet adds when iptables is installed (per table). */
export const KUBELET_CHAINS: ReadonlyArray<{ table: string; chain: string; jumpsFrom: string[] }> = [
  { table: "mangle", chain: "KUBE-IPTABLES-HINT", jumpsFrom: [] },
  { table: "mangle", chain: "KUBE-KUBELET-CANARY", jumpsFrom: [] },
  { table: "nat", chain: "KUBE-KUBELET-CANARY", jumpsFrom: [] },
  { table: "filter", chain: "KUBE-KUBELET-CANARY", jumpsFrom: [] },
  { table: "filter", chain: "KUBE-FIREWALL", jumpsFrom: ["INPUT", "OUTPUT"] },
];

/** Every folder of the node, under `<run folder>/node`. */
export interface NodeDirs {
  base: string;
  containerdRoot: string;
  containerdState: string;
  containerdOpt: string;
  cniConfDir: string;
  cniBinDir: string;
  kubeletRoot: string;
  podLogs: string;
  volumePlugins: string;
  images: string;
}

export function nodeDirs(base: string, cniBinDir: string): NodeDirs {
  return {
    base,
    containerdRoot: `${base}/containerd/root`,
    containerdState: `${base}/containerd/state`,
    containerdOpt: `${base}/containerd/opt`,
    cniConfDir: `${base}/cni/net.d`,
    cniBinDir,
    kubeletRoot: `${base}/kubelet`,
    podLogs: `${base}/pod-logs`,
    volumePlugins: `${base}/volume-plugins`,
    images: `${base}/images`,
  };
}

export interface ContainerdInputs {
  dirs: NodeDirs;
  runc: string;
  snapshotter: "overlayfs" | "native";
}

/** containerd v2's config (version 3). */
export function containerdConfig(i: ContainerdInputs): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    "version = 3",
    `root = ${q(i.dirs.containerdRoot)}`,
    `state = ${q(i.dirs.containerdState)}`,
    // NRI would put a socket under /var/run/nri; nothing here uses it.
    'disabled_plugins = ["io.containerd.nri.v1.nri"]',
    "",
    "[grpc]",
    `  address = ${q(CONTAINERD_SOCKET)}`,
    "",
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(i.dirs.containerdOpt)}`,
    "",
    '[plugins."io.containerd.cri.v1.runtime"]',
    // Root here lacks CAP_SYS_RESOURCE: runc cannot lower a sandbox's oom_score_adj below ours.
    "  restrict_oom_score_adj = true",
    '  [plugins."io.containerd.cri.v1.runtime".containerd]',
    '    default_runtime_name = "runc"',
    '    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]',
    '      runtime_type = "io.containerd.runc.v2"',
    '      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]',
    `        BinaryName = ${q(i.runc)}`,
    "        SystemdCgroup = false",
    '  [plugins."io.containerd.cri.v1.runtime".cni]',
    `    bin_dirs = [${q(i.dirs.cniBinDir)}]`,
    `    conf_dir = ${q(i.dirs.cniConfDir)}`,
    "",
    '[plugins."io.containerd.cri.v1.images"]',
    `  snapshotter = ${q(i.snapshotter)}`,
    '  [plugins."io.containerd.cri.v1.images".pinned_images]',
    `    sandbox = ${q(PAUSE_IMAGE)}`,
    "",
    '[plugins."io.containerd.grpc.v1.cri"]',
    // kubectl logs/exec stream through here; loopback only.
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    "",
  ].join("\n");
}

/**
 * The pods' network: the pre-created bridge, host-local addresses, no gateway, no NAT, no
 * route out; one host route, to the `kubernetes` Service's address on the bridge.
 */
export function cniConflist(): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "prom-hpa",
      plugins: [
        {
          type: "bridge",
          bridge: BRIDGE.name,
          isGateway: false,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: BRIDGE.cidr, rangeStart: "10.88.0.10", gateway: BRIDGE.hostIp }]],
            routes: [{ dst: `${KUBERNETES_SERVICE.ip}/32`, gw: BRIDGE.hostIp }],
          },
        },
        { type: "loopback" },
      ],
    },
    null,
    2,
  );
}

export interface KubeletInputs {
  dirs: NodeDirs;
  caFile: string;
  servingCert: { certFile: string; keyFile: string };
  port: number;
  healthzPort: number;
}

export function kubeletConfig(i: KubeletInputs): string {
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // kubelet 1.37 refuses cgroup v1 hosts unless told otherwise.
    failCgroupV1: false,
    cgroupDriver: "cgroupfs",
    cgroupRoot: CGROUP_ROOT,
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    // See containerd's restrict_oom_score_adj.
    oomScoreAdj: 0,
    address: BRIDGE.hostIp,
    port: i.port,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: i.healthzPort,
    tlsCertFile: i.servingCert.certFile,
    tlsPrivateKeyFile: i.servingCert.keyFile,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: i.caFile },
    },
    authorization: { mode: "Webhook" },
    podLogsDir: i.dirs.podLogs,
    volumePluginDir: i.dirs.volumePlugins,
    failSwapOn: false,
    // Images come from `ctr import`, not a registry: garbage-collecting one would lose it.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // A shared build machine's disk and memory must not evict the test pods.
    evictionHard: { "memory.available": "1Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
    serializeImagePulls: false,
    registerNode: true,
    nodeStatusReportFrequency: "10s",
  });
}

export interface KubeletArgInputs {
  configFile: string;
  kubeconfig: string;
  rootDir: string;
}

export function kubeletArgs(i: KubeletArgInputs): string[] {
  return [
    `--config=${i.configFile}`,
    `--kubeconfig=${i.kubeconfig}`,
    `--root-dir=${i.rootDir}`,
    `--hostname-override=${REAL_NODE_NAME}`,
    // kube-apiserver dials this address (InternalIP), never the name, which DNS would not know.
    `--node-ip=${BRIDGE.hostIp}`,
    "--v=1",
  ];
}
