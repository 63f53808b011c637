// What the install e2e files share: a user's kustomize overlay of manifests/ for the local
// cluster, pod and APIService readers, and a client that polls a metric through kube-apiserver.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { Agent, request } from "undici";
import { parse, stringify } from "yaml";
import { z } from "zod";
import type { ClusterHandle } from "../../../scripts/cluster/handle.js";
import { removeFileSd, writeFileSd } from "../../../scripts/cluster/podrunner/sd.js";
import { SD_JOBS } from "../../../scripts/cluster/render.js";
import { writeTlsOverlay } from "../../../src/manifests/tls.js";

export const MANIFESTS_DIR = resolve(import.meta.dirname, "../../../manifests");

export const METRICS_APISERVICES = [
  "v1beta1.custom.metrics.k8s.io",
  "v1beta2.custom.metrics.k8s.io",
  "v1beta1.external.metrics.k8s.io",
  "v1beta1.metrics.k8s.io",
];

/** `docker.io/library/prom-hpa:0.1.0` → kustomize's newName and newTag. */
export function splitImageRef(ref: string): { newName: string; newTag: string } {
  const colon = ref.lastIndexOf(":");
  if (colon < 0 || ref.slice(colon).includes("/")) return { newName: ref, newTag: "latest" };
  return { newName: ref.slice(0, colon), newTag: ref.slice(colon + 1) };
}

const deploymentArgs = z.object({
  spec: z.object({
    template: z.object({ spec: z.object({ containers: z.array(z.object({ args: z.array(z.string()) })) }) }),
  }),
});

async function manifestArgs(file: string): Promise<string[]> {
  const d = deploymentArgs.parse(parse(await readFile(join(MANIFESTS_DIR, file), "utf8")));
  return d.spec.template.spec.containers[0]?.args ?? [];
}

/** Replaces `--flag=…` in args (or appends it), as a user edits a flag list. */
export function setFlag(args: readonly string[], flag: string, value: string): string[] {
  const i = args.findIndex((a) => a.startsWith(`${flag}=`));
  const out = [...args];
  if (i < 0) out.push(`${flag}=${value}`);
  else out[i] = `${flag}=${value}`;
  return out;
}

export interface OverlayOptions {
  /** Folder for the tls overlay (`<dir>/tls`) and ours on top of it (`<dir>/install`). */
  dir: string;
  image: string;
  prometheusUrl: string;
  nodeName: string;
  /** Flags changed on the autoscaler (e.g. a shorter sync period for a test). */
  autoscalerFlags: Record<string, string>;
}

/**
 * `npm run manifests -- tls --overlay <dir>/tls`, then an overlay on it as a user writes one:
 * the local image (never pulled), the Prometheus URL, the pods pinned to the real node.
 */
export async function writeInstallOverlay(o: OverlayOptions): Promise<string> {
  await writeTlsOverlay(join(o.dir, "tls"), MANIFESTS_DIR);
  let adapterArgs = setFlag(
    await manifestArgs("adapter/deployment.yaml"),
    "--prometheus-url",
    o.prometheusUrl,
  );
  adapterArgs = setFlag(adapterArgs, "--metrics-relist-interval", "10s");
  let autoscalerArgs = await manifestArgs("autoscaler/deployment.yaml");
  for (const [flag, value] of Object.entries(o.autoscalerFlags))
    autoscalerArgs = setFlag(autoscalerArgs, flag, value);
  // This machine is shared: its pods' CPU share (cgroup v1 shares from their requests) can be a
  // small fraction of two busy cores, so start-up gets a startupProbe's slack and probes 5s.
  const slowNode = (liveness: Record<string, unknown>) => [
    {
      op: "add",
      path: "/spec/template/spec/containers/0/startupProbe",
      value: { ...liveness, periodSeconds: 2, failureThreshold: 90, timeoutSeconds: 5 },
    },
    { op: "add", path: "/spec/template/spec/containers/0/livenessProbe/timeoutSeconds", value: 5 },
    { op: "add", path: "/spec/template/spec/containers/0/readinessProbe/timeoutSeconds", value: 5 },
  ];
  const pin = (args: string[], liveness: Record<string, unknown>) =>
    stringify(
      [
        ...slowNode(liveness),
        { op: "replace", path: "/spec/template/spec/containers/0/args", value: args },
        { op: "add", path: "/spec/template/spec/containers/0/imagePullPolicy", value: "Never" },
        {
          op: "add",
          path: "/spec/template/spec/nodeSelector",
          value: { "kubernetes.io/hostname": o.nodeName },
        },
      ],
      { lineWidth: 0 },
    );
  const install = join(o.dir, "install");
  await mkdir(install, { recursive: true });
  await writeFile(
    join(install, "kustomization.yaml"),
    stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["../tls"],
      images: [{ name: "prom-hpa", ...splitImageRef(o.image) }],
      patches: [
        {
          target: { kind: "Deployment", name: "prom-hpa-adapter" },
          patch: pin(adapterArgs, { httpGet: { path: "/livez", port: "https", scheme: "HTTPS" } }),
        },
        {
          target: { kind: "Deployment", name: "prom-hpa-autoscaler" },
          patch: pin(autoscalerArgs, { httpGet: { path: "/healthz", port: "http" } }),
        },
      ],
    }),
  );
  return install;
}

export const podListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({
        name: z.string(),
        creationTimestamp: z.string(),
        deletionTimestamp: z.string().nullish(),
      }),
      spec: z.object({ nodeName: z.string().nullish() }),
      status: z.object({
        phase: z.string().nullish(),
        podIP: z.string().nullish(),
        conditions: z
          .array(z.object({ type: z.string(), status: z.string(), lastTransitionTime: z.string().nullish() }))
          .nullish(),
        containerStatuses: z
          .array(
            z.object({
              name: z.string(),
              ready: z.boolean(),
              restartCount: z.number(),
              state: z.object({ running: z.object({ startedAt: z.string() }).nullish() }).passthrough(),
            }),
          )
          .nullish(),
      }),
    }),
  ),
});
export type PodItem = z.infer<typeof podListSchema>["items"][number];

export async function listPods(
  cluster: ClusterHandle,
  namespace: string,
  selector: string,
): Promise<PodItem[]> {
  return podListSchema.parse(
    JSON.parse(await cluster.kubectl(["get", "pods", "-n", namespace, "-l", selector, "-o", "json"])),
  ).items;
}

export function isReady(p: PodItem): boolean {
  return (
    p.status.phase === "Running" &&
    !p.metadata.deletionTimestamp &&
    (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}

/** Seconds from the container's start to the pod's Ready condition (both whole seconds). */
export function startToReadySeconds(p: PodItem): number | undefined {
  const started = p.status.containerStatuses?.[0]?.state.running?.startedAt;
  const ready = (p.status.conditions ?? []).find((c) => c.type === "Ready" && c.status === "True");
  if (!started || !ready?.lastTransitionTime) return undefined;
  return (Date.parse(ready.lastTransitionTime) - Date.parse(started)) / 1000;
}

const apiServiceSchema = z.object({
  status: z.object({
    conditions: z
      .array(z.object({ type: z.string(), status: z.string(), message: z.string().nullish() }))
      .nullish(),
  }),
});

/** undefined when every named APIService is Available, else why not. */
export async function apiServicesUnavailable(
  cluster: ClusterHandle,
  names: readonly string[] = METRICS_APISERVICES,
): Promise<string | undefined> {
  const problems: string[] = [];
  for (const name of names) {
    const a = apiServiceSchema.parse(
      JSON.parse(await cluster.kubectl(["get", "apiservice", name, "-o", "json"])),
    );
    const c = (a.status.conditions ?? []).find((x) => x.type === "Available");
    if (c?.status !== "True") problems.push(`${name}: ${c?.message ?? "no condition"}`);
  }
  return problems.length === 0 ? undefined : problems.join("; ");
}

export interface PollResult {
  requests: number;
  failures: Array<{ at: number; status: number | string }>;
}

/**
 * Gets `path` through kube-apiserver (as the admin) back to back until `stop()`, counting every
 * answer that is not 200, as the HPA controller would see them.
 */
export function pollThroughApiserver(cluster: ClusterHandle, path: string): { stop(): Promise<PollResult> } {
  const result: PollResult = { requests: 0, failures: [] };
  let running = true;
  const loop = (async () => {
    const pki = cluster.info.pki;
    const dispatcher = new Agent({
      connect: {
        ca: await readFile(pki.ca.certFile, "utf8"),
        cert: await readFile(pki.admin.certFile, "utf8"),
        key: await readFile(pki.admin.keyFile, "utf8"),
      },
    });
    while (running) {
      result.requests++;
      try {
        const res = await request(`${cluster.apiserverUrl}${path}`, { dispatcher });
        const body = await res.body.text();
        if (res.statusCode !== 200)
          result.failures.push({ at: Date.now(), status: `${res.statusCode} ${body.slice(0, 200)}` });
      } catch (err) {
        result.failures.push({ at: Date.now(), status: err instanceof Error ? err.message : String(err) });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await dispatcher.close();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return result;
    },
  };
}

/**
 * Stands in for a workload's own /metrics: `process_cpu_system_seconds_total{namespace,pod}`
 * (what the manifests' `cpu_system` rule reads) for every Running pod of `app`, each at the
 * scripted rate. Scraped by the harness' Prometheus through file_sd; the pod list is refreshed
 * in the background so a scrape never waits on kube-apiserver.
 */
export async function startCpuSystemExporter(
  cluster: ClusterHandle,
  namespace: string,
  app: string,
): Promise<{ set(perPodCores: number): void; stop(): Promise<void> }> {
  let rate = 0;
  let pods: string[] = [];
  let running = true;
  const refresh = (async () => {
    while (running) {
      try {
        pods = (await listPods(cluster, namespace, `app=${app}`))
          .filter((p) => p.status.phase === "Running" && !p.metadata.deletionTimestamp)
          .map((p) => p.metadata.name);
      } catch {
        // Keep the last list; the next round tries again.
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const counters = new Map<string, { seconds: number; at: number }>();
  const server = createServer((_req, res) => {
    const now = Date.now();
    const lines = ["# TYPE process_cpu_system_seconds_total counter"];
    for (const pod of pods) {
      const c = counters.get(pod) ?? { seconds: 0, at: now };
      c.seconds += ((now - c.at) / 1000) * rate;
      c.at = now;
      counters.set(pod, c);
      lines.push(
        `process_cpu_system_seconds_total{namespace="${namespace}",pod="${pod}"} ${c.seconds} ${now}`,
      );
    }
    res.end(`${lines.join("\n")}\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const sdFile = join(cluster.info.sdDir, `${SD_JOBS.cadvisor}-install-${namespace}.json`);
  await writeFileSd(sdFile, [{ address: `127.0.0.1:${(server.address() as AddressInfo).port}`, labels: {} }]);
  return {
    set(perPodCores) {
      rate = perPodCores;
    },
    async stop() {
      running = false;
      await refresh;
      await removeFileSd(sdFile);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
