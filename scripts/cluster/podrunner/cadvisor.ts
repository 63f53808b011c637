// The series a kubelet's cAdvisor exposes per container, measured from the real local process
// that plays the pod (/proc/<pid>/stat and /proc/<pid>/status), plus node totals with
// id="/" (and the kubelet resource-metrics names), so resource rules written for a real
// cluster (containerQuery/nodeQuery) work here unchanged.
import { readFile } from "node:fs/promises";

export interface ProcessSample {
  cpuSeconds: number;
  workingSetBytes: number;
}

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux build we run on. */
export const CLOCK_TICKS = 100;

/** utime+stime from a /proc/<pid>/stat line; the command name may hold spaces and parens. */
export function parseProcStatCpuSeconds(stat: string, ticks = CLOCK_TICKS): number {
  const afterName = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the name start at field 3 (state); utime is field 14, stime field 15.
  const utime = Number(afterName[11]);
  const stime = Number(afterName[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error("unexpected /proc/<pid>/stat format");
  return (utime + stime) / ticks;
}

/** Resident set size in bytes from /proc/<pid>/status (VmRSS, in kB). */
export function parseProcStatusRssBytes(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m?.[1]) throw new Error("no VmRSS in /proc/<pid>/status");
  return Number(m[1]) * 1024;
}

/**
 * The working set a kubelet would report for the process's container: its anonymous and shared
 * memory (RssAnon + RssShmem). File pages of the runtime (the node binary, ~40 MB) are left
 * out: every "pod" here maps the same cached binary, and on a node such page cache is charged
 * to the cgroup that first read it, not to each replica. Counting them would put every replica
 * of the sample workload near the seed HPA's 100Mi memory target, so its memory metric would
 * never let it scale back in. Falls back to VmRSS on kernels without the split.
 */
export function parseProcStatusWorkingSetBytes(status: string): number {
  const anon = /^RssAnon:\s+(\d+)\s+kB$/m.exec(status);
  const shmem = /^RssShmem:\s+(\d+)\s+kB$/m.exec(status);
  if (!anon?.[1]) return parseProcStatusRssBytes(status);
  return (Number(anon[1]) + Number(shmem?.[1] ?? 0)) * 1024;
}

export async function sampleProcess(pid: number): Promise<ProcessSample | undefined> {
  try {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, "utf8"),
      readFile(`/proc/${pid}/status`, "utf8"),
    ]);
    return {
      cpuSeconds: parseProcStatCpuSeconds(stat),
      workingSetBytes: parseProcStatusWorkingSetBytes(status),
    };
  } catch {
    return undefined; // The process just exited; it drops out of the next scrape.
  }
}

export interface ContainerSample extends ProcessSample {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  image: string;
  node: string;
}

function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function series(name: string, labels: Record<string, string>, value: number): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}="${labelValue(v)}"`)
    .join(",");
  return `${name}{${body}} ${value}`;
}

/** Prometheus text exposition of the samples, per container and per node. */
export function renderCadvisorMetrics(samples: readonly ContainerSample[]): string {
  const cpu: string[] = [];
  const mem: string[] = [];
  const nodeCpu: string[] = [];
  const nodeMem: string[] = [];
  const perNode = new Map<string, ProcessSample>();
  for (const s of samples) {
    const labels = {
      namespace: s.namespace,
      pod: s.pod,
      container: s.container,
      node: s.node,
      image: s.image,
      name: `${s.container}_${s.pod}_${s.namespace}`,
      id: `/kubepods/pod${s.uid}/${s.container}`,
    };
    cpu.push(series("container_cpu_usage_seconds_total", labels, s.cpuSeconds));
    mem.push(series("container_memory_working_set_bytes", labels, s.workingSetBytes));
    const n = perNode.get(s.node) ?? { cpuSeconds: 0, workingSetBytes: 0 };
    perNode.set(s.node, {
      cpuSeconds: n.cpuSeconds + s.cpuSeconds,
      workingSetBytes: n.workingSetBytes + s.workingSetBytes,
    });
  }
  for (const [node, n] of [...perNode].sort(([a], [b]) => a.localeCompare(b))) {
    cpu.push(series("container_cpu_usage_seconds_total", { id: "/", node }, n.cpuSeconds));
    mem.push(series("container_memory_working_set_bytes", { id: "/", node }, n.workingSetBytes));
    nodeCpu.push(series("node_cpu_usage_seconds_total", { node }, n.cpuSeconds));
    nodeMem.push(series("node_memory_working_set_bytes", { node }, n.workingSetBytes));
  }
  return [
    "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.",
    "# TYPE container_cpu_usage_seconds_total counter",
    ...cpu,
    "# HELP container_memory_working_set_bytes Current working set in bytes.",
    "# TYPE container_memory_working_set_bytes gauge",
    ...mem,
    "# HELP node_cpu_usage_seconds_total Cumulative cpu time consumed by the node in core-seconds.",
    "# TYPE node_cpu_usage_seconds_total counter",
    ...nodeCpu,
    "# HELP node_memory_working_set_bytes Current working set of the node in bytes.",
    "# TYPE node_memory_working_set_bytes gauge",
    ...nodeMem,
    "",
  ].join("\n");
}
