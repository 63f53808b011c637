// Failover: two `prom-hpa autoscaler --leader-elect` processes on one Lease. While a scale-down
// is held back by the downscale stabilization window (a recent recommendation of 4 replicas,
// the metric now asking for 1), the leader is killed with SIGKILL, so it neither releases the
// Lease nor says goodbye. The standby must take over once the Lease expires, and must not scale
// down before the window that began with the dead leader's recommendation has passed: it reads
// that recommendation from the history annotation the leader kept on the HPA. (Upstream keeps
// it in memory only; a new kube-controller-manager leader would scale down at its first sync.)
// Then the new leader is stopped gracefully and must release the Lease at once.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { HISTORY_ANNOTATION } from "../../src/autoscaler/index.js";
import { REPO_ROOT } from "../../scripts/cluster/binaries.js";
import { killGroup, startProcess, track, type Component } from "../../scripts/cluster/process.js";
import {
  deployment,
  hpa,
  kube,
  metrics,
  startMetricsEnv,
  type MetricsEnv,
} from "./support/autoscaler-env.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const LEASE = "as-failover";
const LEASE_DURATION_S = 8;
const STABILIZATION_S = 30;
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

const leaseSchema = z.object({
  spec: z.object({
    holderIdentity: z.string().nullish(),
    leaseTransitions: z.number().nullish(),
    renewTime: z.string().nullish(),
  }),
});
const historySchema = z.object({
  rec: z.array(z.tuple([z.number(), z.number()])),
  cur: z.number().nullable(),
});

describe("failover: the leader is killed during a held scale-down", () => {
  const ns = useNamespace(() => cluster, "as-failover");
  let env: MetricsEnv | undefined;
  const replicas = new Map<string, Component>();

  const startReplica = (id: string): Component => {
    const c = startProcess({
      name: `autoscaler ${id}`,
      command: process.execPath,
      args: [
        "--import",
        tsxLoader,
        join(REPO_ROOT, "src", "cli.ts"),
        "autoscaler",
        `--kubeconfig=${cluster.kubeconfigPath}`,
        `--namespaces=${ns.name}`,
        "--sync-period=2s",
        `--downscale-stabilization=${STABILIZATION_S}s`,
        "--leader-elect",
        `--leader-elect-lease-namespace=${ns.name}`,
        `--leader-elect-lease-name=${LEASE}`,
        `--leader-elect-lease-duration=${LEASE_DURATION_S}s`,
        "--leader-elect-renew-deadline=5s",
        "--leader-elect-retry-period=1s",
        `--leader-elect-identity=${id}`,
        "--metrics-bind-address=127.0.0.1:0",
      ],
      logFile: join(cluster.info.logsDir, `autoscaler-failover-${ns.name}-${id}.log`),
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: "info" },
    });
    track(c);
    replicas.set(id, c);
    return c;
  };

  beforeAll(async () => {
    env = await startMetricsEnv(cluster, ns.name);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...replicas.values()].map((c) => c.stop()));
    await env?.stop();
  });

  it("the standby takes over within the lease duration and keeps the dead leader's stabilization window", async () => {
    const k = kube(cluster, ns.name);
    const t0 = Date.now();
    const lease = async () =>
      leaseSchema.parse(
        JSON.parse(await cluster.kubectl(["get", "lease", LEASE, "-o", "json"], { namespace: ns.name })),
      ).spec;
    const history = async () => {
      const text = (await k.hpa("fo")).metadata.annotations?.[HISTORY_ANNOTATION];
      return text === undefined ? undefined : historySchema.parse(JSON.parse(text));
    };
    const log = (m: string) => console.log(`failover +${((Date.now() - t0) / 1000).toFixed(1)}s: ${m}`);

    env!.setLevels("fo", { load: 0.35 });
    await k.apply([deployment("fo", 1), hpa("fo", { name: "fo" }, { metrics: [metrics.pods("100m")] })]);
    startReplica("replica-a");
    startReplica("replica-b");
    const first = await waitFor(
      "a leader",
      async () => {
        const holder = (await lease()).holderIdentity;
        return holder ? holder : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    log(`${first} leads`);
    await waitFor("fo at 4 replicas", async () => (await k.replicas("fo")) === 4, {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    log("scaled 1→4");

    // The metric now asks for 1; the window holds 4 until 30s after the last recommendation of 4.
    env!.setLevels("fo", { load: 0.05 });
    const held = await waitFor(
      "the leader's history to hold the recommendation of 4 and a current one of 1",
      async () => {
        const h = await history();
        const four = h?.rec.find(([, n]) => n === 4);
        return h?.cur === 1 && four !== undefined ? four[0] : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const leader = (await lease()).holderIdentity ?? "";
    const standby = leader === "replica-a" ? "replica-b" : "replica-a";
    expect(["replica-a", "replica-b"]).toContain(leader);
    const killedAt = Date.now();
    killGroup(replicas.get(leader)!.pid, "SIGKILL");
    // Its last renewal, now final: the Lease runs out LEASE_DURATION_S after it.
    const lastRenew = Date.parse((await lease()).renewTime ?? "");
    log(
      `${leader} killed ${((killedAt - held) / 1000).toFixed(1)}s after its last recommendation of 4, ${((killedAt - lastRenew) / 1000).toFixed(1)}s after its last renewal`,
    );

    // Until the scale-down: the size never drops early, and the standby takes the Lease.
    let tookOverAt: number | undefined;
    let transitions: number | undefined;
    const downAt = await waitFor(
      "fo scaled in to 1",
      async () => {
        const n = await k.replicas("fo");
        if (n !== 4 && n !== 1) throw new Error(`fo at ${n}: a step we did not expect`);
        if (tookOverAt === undefined) {
          const l = await lease();
          if (l.holderIdentity === standby) {
            tookOverAt = Date.now();
            transitions = l.leaseTransitions ?? undefined;
            log(
              `${standby} holds the Lease (${((tookOverAt - killedAt) / 1000).toFixed(1)}s after the kill, ${((tookOverAt - lastRenew) / 1000).toFixed(1)}s after the last renewal; lease duration ${LEASE_DURATION_S}s)`,
            );
          }
        }
        return n === 1 ? Date.now() : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    log(`scaled 4→1, ${((downAt - held) / 1000).toFixed(1)}s after the last recommendation of 4`);

    expect(tookOverAt).toBeDefined();
    // Within the lease duration from the dead leader's last renewal, plus the standby's retry
    // period (1s) and slack for this loaded machine and our 0.5s poll.
    expect(tookOverAt! - lastRenew).toBeLessThanOrEqual((LEASE_DURATION_S + 1 + 3) * 1000);
    expect(transitions).toBeGreaterThanOrEqual(1);
    // The standby led well before the window ended: scaling in at once would have been early.
    expect(held + STABILIZATION_S * 1000 - tookOverAt!).toBeGreaterThan(5_000);
    // The window is honoured across the failover (timestamps in the annotation are the leader's clock, ms).
    expect(downAt - held).toBeGreaterThanOrEqual(STABILIZATION_S * 1000 - 1000);
    // One scale-down, straight to 1, by upstream's wording.
    const rescales = (await k.events("fo"))
      .filter((e) => e.reason === "SuccessfulRescale")
      .map((e) => `${e.message} ×${e.count ?? 1}`);
    expect(rescales.sort()).toEqual(
      [
        "New size: 1; reason: All metrics below target ×1",
        "New size: 4; reason: pods metric e2e_load above target ×1",
      ].sort(),
    );

    // A graceful stop hands the Lease back at once.
    const stoppedAt = Date.now();
    await replicas.get(standby)!.stop(15_000);
    const released = await lease();
    log(
      `${standby} stopped gracefully in ${((Date.now() - stoppedAt) / 1000).toFixed(1)}s; Lease holder now "${released.holderIdentity ?? ""}"`,
    );
    expect(released.holderIdentity ?? "").toBe("");
  }, 300_000);
});
