// `prom-hpa explain` and `prom-hpa replay` against a live run of our autoscaler (the only HPA
// controller): a step load scales a Deployment up one pod per 10s (a behavior policy), then down.
//   - after a policy-limited rescale, `explain --recorded` names the policy and reports the reason
//     the SuccessfulRescale Event gave;
//   - at the top, a fresh `explain` reads the values the custom metrics API serves, names the
//     metric the Events named and lands on the size the autoscaler wrote;
//   - afterwards `prom-hpa replay` of that window (the same HPA, rules and sync period) gives the
//     live sequence of sizes, each change within one sync period of the live one.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAutoscaler, type AutoscalerHandle } from "../../src/autoscaler/index.js";
import { buildCli } from "../../src/cli.js";
import { createLogger } from "../../src/log/logger.js";
import {
  ADAPTER_CONFIG,
  deployment,
  hpa,
  kube,
  metrics,
  startMetricsEnv,
  textTable,
  type MetricsEnv,
} from "./support/autoscaler-env.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const SYNC_MS = 2_000;
const APP = "x-web";

/**
 * The CLI as a user runs it (`prom-hpa <args>`), in this process: starting one more Node with
 * tsx per call would cost the test most of its time on a busy machine.
 */
async function cli(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  }) as typeof process.stdout.write;
  const exitCode = process.exitCode;
  try {
    await (await buildCli(args[0])).parseAsync(["node", "prom-hpa", ...args]);
  } finally {
    process.stdout.write = write;
  }
  if (process.exitCode !== exitCode) {
    process.exitCode = exitCode;
    throw new Error(`prom-hpa ${args.join(" ")} failed`);
  }
  return chunks.join("");
}

interface Change {
  time: number;
  from: number;
  to: number;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const rescaleOf = (message: string) => /^New size: (\d+); reason: (.*)$/.exec(message);

describe("explain and replay: what the autoscaler did, and the same again from Prometheus", () => {
  const ns = useNamespace(() => cluster, "explain");
  let env: MetricsEnv | undefined;
  let autoscaler: AutoscalerHandle | undefined;
  const live: Change[] = [];
  let watching = true;
  let watcher: Promise<void> | undefined;

  beforeAll(async () => {
    env = await startMetricsEnv(cluster, ns.name);
  }, 180_000);

  afterAll(async () => {
    watching = false;
    await watcher;
    await autoscaler?.stop();
    await env?.stop();
  });

  const spec = {
    metrics: [metrics.pods("100m")],
    minReplicas: 1,
    maxReplicas: 5,
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 2, periodSeconds: 10 }] },
      scaleDown: { stabilizationWindowSeconds: 0 },
    },
  };

  it("explains a policy-limited scale-up and the top size, and replay reproduces the run", async () => {
    const k = kube(cluster, ns.name);
    env!.setLevels(APP, { load: 0.1 });
    await k.apply([deployment(APP, 1), hpa(APP, { name: APP }, spec)]);
    autoscaler = await startAutoscaler({
      kubeconfig: cluster.kubeconfigPath,
      namespaces: [ns.name],
      syncPeriodMs: SYNC_MS,
      log: createLogger("autoscaler", "warn"),
    });
    // wait for a steady start: a recorded decision at 1 replica, with the metric read
    await waitFor("the first recorded decision", async () => {
      const a = (await k.hpa(APP)).metadata.annotations?.["autoscaler.prom-hpa.io/last-decision"];
      return (
        a !== undefined &&
        (JSON.parse(a) as { metrics: { current?: string }[] }).metrics[0]?.current !== undefined
      );
    });
    const windowStart = Date.now() - 2_000;
    watcher = (async () => {
      let last = await k.replicas(APP);
      while (watching) {
        const now = await k.replicas(APP).catch(() => last);
        if (now !== last) live.push({ time: Date.now(), from: last, to: now });
        last = now;
        await new Promise((r) => setTimeout(r, 400));
      }
    })();
    await new Promise((r) => setTimeout(r, 6_000));

    // up: 0.48 over 100m per pod wants 5; the policy allows 2 pods per 10s: 1→3. Each later change
    // follows a change of load (not the policy's clock), so live and replay line up change by change.
    env!.setLevels(APP, { load: 0.48 });
    await waitFor("the first rescale", async () => (await k.replicas(APP)) >= 3, { timeoutMs: 30_000 });
    const firstRescale = Date.now();
    // long enough at 0.48 for every sync grid to see it; then 3 pods at 100m each hold
    await new Promise((r) => setTimeout(r, 3_000));
    env!.setLevels(APP, { load: 0.3 });
    const recordedText = await cli([
      "explain",
      "-n",
      ns.name,
      APP,
      "--recorded",
      "-o",
      "json",
      "--kubeconfig",
      cluster.kubeconfigPath,
    ]);
    const recorded = JSON.parse(recordedText) as {
      scaled: boolean;
      desiredReplicas: number;
      reason?: string;
      steps: { step: string; text: string; reason?: string }[];
      lastRescale?: {
        desiredReplicas: number;
        reason?: string;
        steps: { step: string; text: string; reason?: string }[];
      };
    };
    const rescale = recorded.scaled ? recorded : recorded.lastRescale;
    expect(rescale).toBeDefined();
    const events = await k.events(APP);
    const event = events
      .filter((e) => e.reason === "SuccessfulRescale")
      .map((e) => rescaleOf(e.message))
      .find((m) => m !== null && Number(m[1]) === rescale?.desiredReplicas);
    console.log(
      `recorded: New size ${rescale?.desiredReplicas}; reason: ${rescale?.reason}; Event: ${event?.[0]}`,
    );
    expect(rescale?.reason).toBe(event?.[2]);
    const policies = rescale?.steps.find((s) => s.step === "policies");
    console.log(`recorded policy step: ${policies?.text}`);
    expect(policies?.reason).toBe("ScaleUpLimit");
    expect(policies?.text).toContain("Pods 2 per 10s");
    expect(rescale?.desiredReplicas).toBe(3);

    // once the policy's period is over, 0.47 wants 5: 3→5
    await new Promise((r) => setTimeout(r, Math.max(0, firstRescale + 12_000 - Date.now())));
    env!.setLevels(APP, { load: 0.47 });

    // the top: 5 pods at 94m each, inside the tolerance band: it stays
    await waitFor("the top size", async () => (await k.replicas(APP)) === 5, { timeoutMs: 70_000 });
    const fresh = await waitFor("a fresh explanation on 5 pods with values", async () => {
      const e = JSON.parse(
        await cli(["explain", "-n", ns.name, APP, "-o", "json", "--kubeconfig", cluster.kubeconfigPath]),
      ) as {
        currentReplicas: number;
        desiredReplicas: number;
        metrics: {
          name: string;
          winner: boolean;
          current?: string;
          values?: { count: number; highest: { pod: string; value: string }[] };
        }[];
      };
      return e.metrics[0]?.values?.count === 5 ? e : undefined;
    });
    const api = JSON.parse(
      await cluster.kubectl([
        "get",
        "--raw",
        `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/e2e_load?labelSelector=app%3D${APP}`,
      ]),
    ) as { items: { describedObject: { name: string }; value: string }[] };
    const apiValues = new Map(api.items.map((i) => [i.describedObject.name, i.value]));
    console.log(
      `explain: ${fresh.metrics[0]?.name} current ${fresh.metrics[0]?.current}, values ${JSON.stringify(fresh.metrics[0]?.values?.highest)}; API: ${JSON.stringify([...apiValues])}`,
    );
    for (const v of fresh.metrics[0]?.values?.highest ?? []) expect(v.value).toBe(apiValues.get(v.pod));
    expect(fresh.metrics[0]?.winner).toBe(true);
    expect(`${fresh.metrics[0]?.name ?? ""} above target`).toBe(rescale?.reason);
    expect(fresh).toMatchObject({ currentReplicas: 5, desiredReplicas: await k.replicas(APP) });
    const text = await cli(["explain", "-n", ns.name, APP, "--kubeconfig", cluster.kubeconfigPath]);
    console.log(text);

    // down: 0.15 wants 2 (the default policy allows it at once)
    env!.setLevels(APP, { load: 0.15 });
    await waitFor("the bottom size", async () => (await k.replicas(APP)) === 2, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 4_000));
    watching = false;
    await watcher;
    const windowEnd = Date.now();

    // the replay of that window
    const dir = mkdtempSync(join(tmpdir(), "replay-"));
    writeFileSync(join(dir, "rules.yaml"), ADAPTER_CONFIG);
    const candidate = hpa(APP, { name: APP }, spec) as { metadata: Record<string, unknown> };
    writeFileSync(
      join(dir, "hpa.yaml"),
      JSON.stringify({ ...candidate, metadata: { ...candidate.metadata, namespace: ns.name } }),
    );
    const out = JSON.parse(
      await cli([
        "replay",
        "--prometheus-url",
        cluster.prometheusUrl,
        "--config",
        join(dir, "rules.yaml"),
        "--hpa",
        join(dir, "hpa.yaml"),
        "--since",
        `${Math.ceil((windowEnd - windowStart) / 1000)}s`,
        "--until",
        new Date(windowEnd).toISOString(),
        "--step",
        "1s",
        "--sync-period",
        `${SYNC_MS / 1000}s`,
        "-o",
        "json",
      ]),
    ) as {
      candidates: { changes: { time: string; from: number; to: number }[] }[];
      recorded: { changes: { time: string; from: number; to: number }[] };
    };
    const replayed = (out.candidates[0]?.changes ?? []).map((c) => ({
      time: Date.parse(c.time),
      from: c.from,
      to: c.to,
    }));
    const rows = Array.from({ length: Math.max(live.length, replayed.length) }, (_, i) => {
      const l = live[i];
      const r = replayed[i];
      return [
        l ? `${l.from}→${l.to}` : "",
        l ? clock(l.time) : "",
        r ? `${r.from}→${r.to}` : "",
        r ? clock(r.time) : "",
        l && r ? `${((r.time - l.time) / 1000).toFixed(1)}s` : "",
      ];
    });
    console.log(
      await cli([
        "replay",
        "--prometheus-url",
        cluster.prometheusUrl,
        "--config",
        join(dir, "rules.yaml"),
        "--hpa",
        join(dir, "hpa.yaml"),
        "--since",
        `${Math.ceil((windowEnd - windowStart) / 1000)}s`,
        "--until",
        new Date(windowEnd).toISOString(),
        "--step",
        "1s",
        "--sync-period",
        `${SYNC_MS / 1000}s`,
        "--svg",
        join(dir, "replay.svg"),
      ]),
    );
    console.log(
      `live vs replayed sizes:\n${textTable(["live", "at", "replay", "at", "replay - live"], rows)}`,
    );
    expect(replayed.map((c) => [c.from, c.to])).toEqual(live.map((c) => [c.from, c.to]));
    // within one sync period, plus the poll's resolution (400ms) and Prometheus' second steps
    replayed.forEach((r, i) =>
      expect(Math.abs(r.time - (live[i]?.time ?? 0))).toBeLessThanOrEqual(SYNC_MS + 1_500),
    );
  }, 180_000);
});
