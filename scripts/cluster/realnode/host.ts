// What a real node changes on the host, recorded before the change and undone on stop: the
// bridge, kubelet's cgroup root, kernel sysctls kubelet sets, iptables chains it adds, mounts
// and network namespaces of pods, and the fixed paths kubelet and containerd create. The
// record lives in the run folder and a machine-wide owner file points at it, so a stop after a
// crash (cluster:down, or the next start) undoes the same things.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { mkdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { which } from "../binaries.js";
import { BRIDGE, CGROUP_ROOT, KUBELET_CHAINS, KUBELET_SYSCTLS, KUBERNETES_SERVICE } from "./render.js";

const run = promisify(execFile);

/** Machine-wide: the fixed socket, bridge and cgroup root allow one real node per machine. */
export const OWNER_FILE = "/run/prom-hpa-real-node.json";
/** Paths kubelet, containerd and the CNI plugins hard-code; removed on stop if they were not there. */
export const FIXED_PATHS = [
  "/run/containerd",
  "/run/netns",
  "/var/lib/cni",
  "/var/log/containers",
  "/var/log/pods",
  "/var/lib/kubelet",
] as const;
const CGROUP_FS = "/sys/fs/cgroup";

const recordSchema = z.object({
  base: z.string(),
  sysctls: z.record(z.string(), z.string()),
  existed: z.record(z.string(), z.boolean()),
  netnsBefore: z.array(z.string()),
  /** `table/chain` names present before; null when iptables is not installed. */
  chainsBefore: z.array(z.string()).nullable(),
  bridgeExisted: z.boolean(),
  /** Hierarchies (under /sys/fs/cgroup) that had the cgroup root before; kubelet adds it to others. */
  cgroupsExisted: z.array(z.string()),
  /** kubelet, containerd and the shim: whatever still runs one of these after a crash is ours. */
  exes: z.array(z.string()),
});
export type HostRecord = z.infer<typeof recordSchema>;

const ownerSchema = z.object({ runDir: z.string(), base: z.string(), ownerPid: z.number() });

export function recordFile(base: string): string {
  return join(base, "host.json");
}

function sysctlPath(name: string): string {
  return join("/proc/sys", ...name.split("."));
}

export function readSysctls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of KUBELET_SYSCTLS) out[s] = readFileSync(sysctlPath(s), "utf8").trim();
  return out;
}

function listNetns(): string[] {
  try {
    return readdirSync("/run/netns").sort();
  } catch {
    return [];
  }
}

async function iptablesChains(): Promise<string[] | null> {
  const bin = which("iptables-save", `${process.env.PATH ?? ""}:/usr/sbin:/sbin`);
  if (!bin) return null;
  const { stdout } = await run(bin, []);
  const chains: string[] = [];
  let table = "";
  for (const line of stdout.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1);
    else if (line.startsWith(":")) chains.push(`${table}/${line.slice(1).split(" ")[0]}`);
  }
  return chains;
}

/** The v1 hierarchies (and the unified one on a hybrid host) mounted under /sys/fs/cgroup. */
function cgroupHierarchies(): string[] {
  try {
    return readdirSync(CGROUP_FS).filter((d) => existsSync(join(CGROUP_FS, d, "cgroup.procs")));
  } catch {
    return [];
  }
}

async function ip(args: string[]): Promise<void> {
  await run("ip", args);
}

/** A pid the owner file names is alive: then another real node is running on this machine. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface PrepareResult {
  record: HostRecord;
  /** Set when a crashed node's leftovers were cleaned up first. */
  recovered?: string;
}

/**
 * Records the host's state, then makes the node's host-side objects (bridge, cgroup root).
 * Fails when another live real node owns the machine; cleans up after a dead one first.
 */
export async function prepareHost(runDir: string, base: string, exes: string[]): Promise<PrepareResult> {
  let recovered: string | undefined;
  if (existsSync(OWNER_FILE)) {
    const owner = ownerSchema.safeParse(JSON.parse(readFileSync(OWNER_FILE, "utf8")));
    if (owner.success && pidAlive(owner.data.ownerPid)) {
      throw new Error(
        `a real node is already running on this machine (run folder ${owner.data.runDir}, pid ${owner.data.ownerPid}); stop that cluster first`,
      );
    }
    if (owner.success) {
      const problems = await cleanupHost(owner.data.base);
      recovered = `cleaned up the real node of a run that did not stop (${owner.data.runDir})${problems.length ? `: ${problems.join("; ")}` : ""}`;
    }
    await rm(OWNER_FILE, { force: true });
  }
  await mkdir(base, { recursive: true });
  const existed: Record<string, boolean> = {};
  for (const p of FIXED_PATHS) existed[p] = existsSync(p);
  const record: HostRecord = {
    base,
    sysctls: readSysctls(),
    existed,
    netnsBefore: listNetns(),
    chainsBefore: await iptablesChains(),
    bridgeExisted: existsSync(`/sys/class/net/${BRIDGE.name}`),
    cgroupsExisted: cgroupHierarchies().filter((h) => existsSync(join(CGROUP_FS, h, CGROUP_ROOT))),
    exes,
  };
  if (record.bridgeExisted) {
    throw new Error(
      `network interface ${BRIDGE.name} already exists; remove it (ip link del ${BRIDGE.name}) if nothing uses it`,
    );
  }
  await writeRecord(record);
  await writeFile(OWNER_FILE, JSON.stringify({ runDir, base, ownerPid: process.pid }));

  await ip(["link", "add", BRIDGE.name, "type", "bridge"]);
  await ip(["addr", "add", `${BRIDGE.hostIp}/${BRIDGE.prefix}`, "dev", BRIDGE.name]);
  // Goes with the bridge; see KUBERNETES_SERVICE.
  await ip(["addr", "add", `${KUBERNETES_SERVICE.ip}/32`, "dev", BRIDGE.name]);
  await ip(["link", "set", BRIDGE.name, "up"]);

  for (const h of cgroupHierarchies()) {
    if (h === "unified") continue;
    const dir = join(CGROUP_FS, h, CGROUP_ROOT);
    if (existsSync(dir)) continue;
    await mkdir(dir);
    if (h === "cpuset") {
      // A new cpuset has no CPUs or memory nodes until given its parent's.
      for (const f of ["cpuset.cpus", "cpuset.mems"])
        await writeFile(join(dir, f), await readFile(join(CGROUP_FS, h, f), "utf8"));
    }
  }
  return { record, ...(recovered ? { recovered } : {}) };
}

export async function writeRecord(record: HostRecord): Promise<void> {
  await writeFile(recordFile(record.base), JSON.stringify(record, null, 2));
}

/** Mount points from /proc/self/mountinfo (octal escapes decoded). */
function mountPoints(): string[] {
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) =>
      (l.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
    );
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

function pidsInCgroup(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
      for (const p of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n"))
        if (p.trim()) out.push(Number(p));
    } catch {
      return;
    }
    for (const e of entries) walk(join(d, e));
  };
  walk(dir);
  return out;
}

function pidsRunning(exe: string): number[] {
  let real = exe;
  try {
    real = realpathSync(exe);
  } catch {
    // The binary may be gone; compare by the recorded path.
  }
  const out: number[] = [];
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      if (readlinkSync(`/proc/${d}/exe`) === real) out.push(Number(d));
    } catch {
      // Gone, or a kernel thread.
    }
  }
  return out;
}

async function rmdirDeep(dir: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return;
  }
  for (const e of entries) await rmdirDeep(join(dir, e));
  // A cgroup whose last process just died may refuse for a moment.
  for (let i = 0; i < 20; i++) {
    try {
      await rmdir(dir);
      return;
    } catch {
      await sleep(50);
    }
  }
  await rmdir(dir);
}

/**
 * Undoes everything the node changed on the host, from the record under `base`. Idempotent:
 * safe after a clean stop, after a crash, and twice. Returns what could not be undone.
 */
export async function cleanupHost(base: string): Promise<string[]> {
  const problems: string[] = [];
  let record: HostRecord;
  try {
    record = recordSchema.parse(JSON.parse(await readFile(recordFile(base), "utf8")));
  } catch {
    return [];
  }
  const attempt = async (what: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (err) {
      problems.push(`${what}: ${err instanceof Error ? err.message.trim() : String(err)}`);
    }
  };

  // 1. Processes: kubelet, containerd and the shims by their binaries, then every container.
  const kill = (pid: number) => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  for (const exe of record.exes) pidsRunning(exe).forEach(kill);
  for (let round = 0; round < 20; round++) {
    const left = cgroupHierarchies().flatMap((h) => pidsInCgroup(join(CGROUP_FS, h, CGROUP_ROOT)));
    if (left.length === 0) break;
    left.forEach(kill);
    await sleep(100);
  }

  // 2. Mounts: pods' volumes, rootfs, shm and netns, deepest first.
  const netnsDir = "/run/netns";
  const ours = (m: string) =>
    under(m, base) ||
    under(m, "/run/containerd") ||
    (under(m, netnsDir) && m !== netnsDir && !record.netnsBefore.includes(m.slice(netnsDir.length + 1))) ||
    (!record.existed["/var/lib/kubelet"] && under(m, "/var/lib/kubelet")) ||
    (!record.existed["/run/netns"] && m === netnsDir);
  for (let round = 0; round < 5; round++) {
    const mounts = mountPoints()
      .filter(ours)
      .sort((a, b) => b.length - a.length);
    if (mounts.length === 0) break;
    for (const m of mounts) await run("umount", ["-l", m]).catch(() => undefined);
  }
  const stuck = mountPoints().filter(ours);
  if (stuck.length > 0) problems.push(`still mounted: ${stuck.join(", ")}`);

  // 3. Network namespaces the pods had, then the bridge (their veths go with them).
  for (const ns of listNetns().filter((n) => !record.netnsBefore.includes(n)))
    await attempt(`netns ${ns}`, () => rm(join(netnsDir, ns), { force: true }));
  if (!record.bridgeExisted && existsSync(`/sys/class/net/${BRIDGE.name}`))
    await attempt(`bridge ${BRIDGE.name}`, () => ip(["link", "del", BRIDGE.name]));

  // 4. kubelet's cgroups.
  for (const h of cgroupHierarchies().filter((x) => !record.cgroupsExisted.includes(x)))
    await attempt(`cgroup ${h}${CGROUP_ROOT}`, () => rmdirDeep(join(CGROUP_FS, h, CGROUP_ROOT)));

  // 5. Sysctls kubelet changed.
  const now = readSysctls();
  for (const [name, value] of Object.entries(record.sysctls)) {
    if (now[name] !== value) await attempt(`sysctl ${name}`, () => writeFile(sysctlPath(name), value));
  }

  // 6. iptables chains kubelet added (only where iptables is installed).
  if (record.chainsBefore !== null) {
    const before = new Set(record.chainsBefore);
    const nowChains = new Set((await iptablesChains()) ?? []);
    for (const c of KUBELET_CHAINS) {
      const key = `${c.table}/${c.chain}`;
      if (before.has(key) || !nowChains.has(key)) continue;
      await attempt(`iptables ${key}`, async () => {
        for (const from of c.jumpsFrom) {
          // Delete every jump to it; -D fails once none is left.
          for (let i = 0; i < 10; i++) {
            try {
              await run("iptables", ["-w", "-t", c.table, "-D", from, "-j", c.chain]);
            } catch {
              break;
            }
          }
        }
        await run("iptables", ["-w", "-t", c.table, "-F", c.chain]);
        await run("iptables", ["-w", "-t", c.table, "-X", c.chain]);
      });
    }
  }

  // 7. Fixed paths that were not there before, and the node's own bulky state.
  if (stuck.length === 0) {
    for (const p of FIXED_PATHS)
      if (!record.existed[p]) await attempt(`remove ${p}`, () => rm(p, { recursive: true, force: true }));
    for (const d of ["containerd", "kubelet", "images"])
      await attempt(`remove ${d}`, () => rm(join(base, d), { recursive: true, force: true }));
  } else {
    problems.push("left folders in place because mounts remain");
  }
  if (problems.length === 0) await rm(recordFile(base), { force: true });
  try {
    const owner = ownerSchema.parse(JSON.parse(readFileSync(OWNER_FILE, "utf8")));
    if (owner.base === base) await rm(OWNER_FILE, { force: true });
  } catch {
    // No owner file, or another's.
  }
  return problems;
}
