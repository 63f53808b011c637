import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import { buildCli } from "../../../src/cli.js";
import { parseScenario, resolveSettings, ScenarioError } from "../../../src/simulate/scenario.js";
import { simulate } from "../../../src/simulate/simulate.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const seedPath = join(repoRoot, "examples", "simulate", "seed.yaml");
const seedText = readFileSync(seedPath, "utf8");

const runSimulation = (text: string, flags = {}) => {
  const scenario = parseScenario(text, "test.yaml");
  return simulate(scenario, resolveSettings(scenario.settings, flags));
};
const scaleSteps = (result: ReturnType<typeof simulate>) =>
  result.rescales.map((r) => ({ t: r.t / 1000, from: r.from, to: r.to }));

/** Every problem a file has, as the user reads them. */
function problemsOf(text: string): string[] {
  try {
    parseScenario(text, "bad.yaml");
  } catch (err: unknown) {
    if (err instanceof ScenarioError) return err.problems;
    throw err;
  }
  return [];
}

const cpuHpa = (extra: Record<string, unknown> = {}) => ({
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: { name: "web", namespace: "shop" },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
    minReplicas: 1,
    maxReplicas: 10,
    metrics: [
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
      },
    ],
    ...extra,
  },
});

describe("the seed scenario (examples/simulate/seed.yaml)", () => {
  const result = runSimulation(seedText);

  it("scales 1→2→3→4 one step per upscale delay, then back to 1 once the 5m downscale delay has passed", () => {
    // 3m delays must be exceeded, so the next step comes at the first 30s sync after lastScaleTime + 3m
    expect(scaleSteps(result)).toEqual([
      { t: 60, from: 1, to: 2 },
      { t: 270, from: 2, to: 3 },
      { t: 480, from: 3, to: 4 },
      { t: 810, from: 4, to: 1 },
    ]);
    expect(result.syncs).toHaveLength(34);
    expect(result.finalReplicas).toBe(1);
    expect([result.minReplicas, result.maxReplicas]).toEqual([1, 4]);
  });

  it("records upstream's SuccessfulRescale Events and reasons", () => {
    const events = result.syncs.flatMap((s) => s.events.map((e) => `${e.reason}: ${e.message}`));
    expect(events).toEqual([
      "SuccessfulRescale: New size: 2; reason: cpu resource utilization (percentage of request) above target",
      "SuccessfulRescale: New size: 3; reason: cpu resource utilization (percentage of request) above target",
      "SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target",
      "SuccessfulRescale: New size: 1; reason: All metrics below target",
    ]);
  });

  it("holds a needed scale-up back while the upscale delay is open, reporting AbleToScale False BackoffBoth", () => {
    const at4m = result.syncs.find((s) => s.t === 240_000);
    expect(at4m).toMatchObject({ replicas: 2, desiredReplicas: 2, scaled: false, stepName: "needs 3" });
    expect(at4m?.metrics[0]).toEqual({ key: "cpu", type: "Resource", current: "65%", target: "50%" });
    expect(at4m?.conditions.find((c) => c.type === "AbleToScale")).toMatchObject({
      status: "False",
      reason: "BackoffBoth",
    });
    expect(at4m?.heldBack).toEqual({ replicas: 3, by: "upscale delay" });
  });

  it("says which syncs the downscale delay held back after the load stopped", () => {
    const held = result.syncs.filter((s) => s.heldBack?.by === "downscale delay").map((s) => s.t / 1000);
    expect(held).toEqual([600, 630, 660, 690, 720, 750, 780]);
    expect(result.syncs.find((s) => s.t === 600_000)?.heldBack).toEqual({
      replicas: 1,
      by: "downscale delay",
    });
  });

  it("splits the total load evenly across the replicas, so the per-pod value falls after a scale-up", () => {
    const cpuAt = (t: number) => result.syncs.find((s) => s.t === t)?.metrics.map((m) => m.current);
    expect(cpuAt(60_000)).toEqual(["80%", "90Mi", "20m"]); // 400m, 90Mi, 20m on one pod
    expect(cpuAt(90_000)).toEqual(["40%", "45Mi", "10m"]); // the same totals on two pods
  });
});

describe("settings", () => {
  it("flags override the file's settings", () => {
    const scenario = parseScenario(seedText, "seed.yaml");
    const settings = resolveSettings(scenario.settings, {
      upscaleDelay: "0",
      downscaleDelay: "1m",
      syncPeriod: "15s",
    });
    expect(settings.syncPeriodMs).toBe(15_000);
    expect(settings.controller).toMatchObject({
      upscaleDelaySeconds: 0,
      downscaleDelaySeconds: 60,
      downscaleStabilizationWindowSeconds: 0,
      tolerance: 0.1,
    });
    // with no upscale delay each stair is climbed at the first sync of its step; the scale-down
    // waits only for the 1m downscale delay (strictly exceeded) after the last scale at 7m
    expect(scaleSteps(simulate(scenario, settings))).toEqual([
      { t: 60, from: 1, to: 2 },
      { t: 240, from: 2, to: 3 },
      { t: 420, from: 3, to: 4 },
      { t: 600, from: 4, to: 1 },
    ]);
  });

  it("a 5m stabilization window from the flags delays the scale-down to when the last 4-replica recommendation (9m30s) leaves it", () => {
    const scenario = parseScenario(seedText, "seed.yaml");
    const result = simulate(scenario, resolveSettings(scenario.settings, { downscaleStabilization: "5m" }));
    expect(result.settings.controller.downscaleStabilizationWindowSeconds).toBe(300);
    expect(scaleSteps(result).at(-1)).toEqual({ t: 900, from: 4, to: 1 });
  });

  it("defaults to the autoscaler's: 15s sync, no delays, 5m stabilization, tolerance 0.1", () => {
    expect(resolveSettings({}, {})).toMatchObject({
      syncPeriodMs: 15_000,
      controller: {
        upscaleDelaySeconds: 0,
        downscaleDelaySeconds: 0,
        downscaleStabilizationWindowSeconds: 300,
        tolerance: 0.1,
      },
    });
  });

  it("names the flag or the file's field when a setting is bad", () => {
    expect(() => resolveSettings({}, { upscaleDelay: "3 minutes" })).toThrow(
      /^--upscale-delay: invalid duration "3 minutes"/,
    );
    expect(() => resolveSettings({ syncPeriod: "500ms" }, {})).toThrow(
      'settings.syncPeriod: "500ms" is below the minimum of 1s',
    );
    expect(() => resolveSettings({}, { tolerance: "-1" })).toThrow(
      '--tolerance: "-1" is not a non-negative number',
    );
  });
});

describe("malformed scenario files", () => {
  it("names the step and metric of a level that is not a number", () => {
    const file = {
      hpa: cpuHpa(),
      pods: { requests: { cpu: "500m" } },
      steps: [
        { duration: "1m", metrics: { cpu: "100m" } },
        { duration: "1m" },
        { duration: "1m", metrics: { cpu: [1] } },
      ],
    };
    expect(problemsOf(stringify(file))).toEqual([
      "steps[2].metrics.cpu: expected a number or a quantity such as 1200m or 300Mi, or { total: Q }, { perPod: Q } or { error: text }",
    ]);
  });

  it("reports every problem at once, each with its path", () => {
    const file = {
      hpa: cpuHpa(),
      settings: { upscaleDelay: "3 minutes" },
      steps: [{ duration: "1m", metrics: { cpu: "100m", memory: "1Gi" } }, { duration: 0 }],
    };
    expect(problemsOf(stringify(file))).toEqual([
      'steps[0].metrics.memory: the HPA has no metric "memory" (it has cpu)',
      "steps[1].duration: expected a positive duration",
      'settings.upscaleDelay: invalid duration "3 minutes" (expected a number followed by a unit (ns, us, ms, s, m, h)); use a Go duration such as 30s, 3m or 1h30m',
    ]);
  });

  it("names the HPA's own fields, unknown keys and durations without a unit", () => {
    const { maxReplicas: _, ...specWithoutMax } = cpuHpa().spec;
    const file = {
      hpa: { ...cpuHpa(), spec: specWithoutMax },
      settings: { syncPeriod: 30, upscaleDelays: "3m" },
      steps: [{ duration: "1m", metrics: { cpu: 1 } }],
    };
    const problems = problemsOf(stringify(file));
    expect(problems).toContain("hpa.spec.maxReplicas: Invalid input: expected number, received undefined");
    expect(problems).toContain("settings.syncPeriod: 30 needs a unit: a Go duration such as 30s or 30m");
    expect(
      problems.some((p) => p.startsWith("settings: Unrecognized key") && p.includes("upscaleDelays")),
    ).toBe(true);
  });

  it("asks the first step for every metric's level", () => {
    expect(problemsOf(stringify({ hpa: cpuHpa(), steps: [{ duration: "1m", metrics: {} }] }))).toEqual([
      "steps[0].metrics.cpu: missing; the first step must give every metric's level (later steps carry it over)",
    ]);
  });

  it("says where YAML itself is broken", () => {
    expect(problemsOf("hpa: [\nsteps: 1\n")[0]).toMatch(/^not valid YAML \(line \d+, column \d+\)/);
  });
});

describe("behavior", () => {
  it("a scale-up policy of 1 pod per 60s and a scale-down policy of 2 pods per 60s limit each step", () => {
    const behavior = {
      scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] },
      scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] },
    };
    const file = {
      hpa: cpuHpa({ behavior }),
      settings: { syncPeriod: "15s" },
      pods: { requests: { cpu: "500m" } },
      steps: [
        { name: "needs 5", duration: "4m30s", metrics: { cpu: "1250m" } },
        { name: "idle", duration: "3m", metrics: { cpu: "50m" } },
      ],
    };
    const result = runSimulation(stringify(file));
    // up: one pod per sync once the previous scale-up has left the 60s period
    // down: two pods per 60s period from the first idle sync (4m30s)
    expect(scaleSteps(result)).toEqual([
      { t: 0, from: 1, to: 2 },
      { t: 60, from: 2, to: 3 },
      { t: 120, from: 3, to: 4 },
      { t: 180, from: 4, to: 5 },
      { t: 270, from: 5, to: 3 },
      { t: 330, from: 3, to: 1 },
    ]);
    const limited = result.syncs.find((s) => s.t === 0)?.conditions.find((c) => c.type === "ScalingLimited");
    expect(limited).toMatchObject({ status: "True", reason: "ScaleUpLimit" });
  });
});

describe("other metric sources and readiness", () => {
  it("feeds an External AverageValue metric its value and lets a metrics API error stop scaling", () => {
    const hpa = cpuHpa({
      metrics: [
        {
          type: "External",
          external: { metric: { name: "queue_depth" }, target: { type: "AverageValue", averageValue: "10" } },
        },
      ],
    });
    const file = {
      hpa,
      settings: { syncPeriod: "30s", downscaleStabilization: "0" },
      steps: [
        { duration: "1m", metrics: { queue_depth: 45 } },
        { duration: "1m", metrics: { queue_depth: { error: "prometheus is down" } } },
      ],
    };
    const result = runSimulation(stringify(file));
    // 45 / 10 per pod → 5, limited by max(2×1, 4) = 4 at first, then 5
    expect(scaleSteps(result)).toEqual([
      { t: 0, from: 1, to: 4 },
      { t: 30, from: 4, to: 5 },
    ]);
    const failed = result.syncs.find((s) => s.t === 60_000);
    expect(failed?.metrics[0]).toEqual({ key: "queue_depth", type: "External", target: "10" });
    expect(failed?.conditions.find((c) => c.type === "ScalingActive")).toMatchObject({
      status: "False",
      reason: "FailedGetExternalMetric",
    });
  });

  it("feeds a ContainerResource metric to its container and an Object metric its value", () => {
    const hpa = cpuHpa({
      metrics: [
        {
          type: "ContainerResource",
          containerResource: {
            name: "cpu",
            container: "app",
            target: { type: "Utilization", averageUtilization: 50 },
          },
        },
        {
          type: "Object",
          object: {
            describedObject: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "main" },
            metric: { name: "requests_per_second" },
            target: { type: "Value", value: "100" },
          },
        },
      ],
    });
    const file = {
      hpa,
      settings: { syncPeriod: "30s" },
      pods: {
        containers: [
          { name: "app", requests: { cpu: "200m" } },
          { name: "proxy", requests: { cpu: "100m" } },
        ],
      },
      steps: [{ duration: "1m", metrics: { "app/cpu": "150m", requests_per_second: 300 } }],
    };
    const result = runSimulation(stringify(file));
    // app: 150m of 200m = 75% → 2 replicas; the Ingress at 300 against 100 → 3 replicas, which wins
    expect(result.syncs[0]?.metrics.map((m) => `${m.key} ${m.current}/${m.target}`)).toEqual([
      "app/cpu 75%/50%",
      "requests_per_second 300/100",
    ]);
    expect(result.rescales[0]).toEqual({
      t: 0,
      from: 1,
      to: 3,
      reason: "Ingress metric requests_per_second above target",
    });
  });

  it("keeps new pods not Ready for a step's readyAfter, and their cpu out of the calculation", () => {
    const file = {
      hpa: cpuHpa(),
      settings: { syncPeriod: "30s" },
      pods: { requests: { cpu: "500m" } },
      steps: [{ duration: "2m", readyAfter: "1m", metrics: { cpu: "1000m" } }],
    };
    const result = runSimulation(stringify(file));
    expect(result.syncs.map((s) => [s.t / 1000, s.replicas, s.readyReplicas])).toEqual([
      [0, 1, 1],
      [30, 4, 1],
      [60, 4, 4],
      [90, 4, 4],
    ]);
    expect(scaleSteps(result)).toEqual([{ t: 0, from: 1, to: 4 }]);
  });
});

describe("prom-hpa simulate (the command)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it("prints JSON with the flags' settings applied", async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    await (
      await buildCli("simulate")
    ).parseAsync([
      "node",
      "prom-hpa",
      "simulate",
      seedPath,
      "--json",
      "--upscale-delay",
      "0",
      "--downscale-delay",
      "1m",
      "--sync-period",
      "15s",
    ]);
    const json = JSON.parse(out.join("")) as {
      settings: Record<string, number>;
      rescales: { t: string; to: number }[];
      summary: { text: string };
    };
    expect(json.settings).toMatchObject({
      syncPeriodSeconds: 15,
      upscaleDelaySeconds: 0,
      downscaleDelaySeconds: 60,
    });
    expect(json.rescales.map((r) => `${r.to}@${r.t}`)).toEqual(["2@1m0s", "3@4m0s", "4@7m0s", "1@10m0s"]);
    expect(json.summary.text).toContain("1→2 at 1m0s, 2→3 at 4m0s, 3→4 at 7m0s, 4→1 at 10m0s");
  });

  it("prints the table and a summary line", async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    await (await buildCli("simulate")).parseAsync(["node", "prom-hpa", "simulate", seedPath]);
    const text = out.join("");
    expect(text).toContain(
      "SuccessfulRescale: New size: 3; reason: cpu resource utilization (percentage of request) above target",
    );
    expect(text).toContain("AbleToScale=False BackoffDownscale");
    expect(text).toContain("held back by the upscale delay: would scale to 4");
    expect(text.trimEnd().split("\n").at(-1)).toBe(
      "default/hello-world: 4 rescales in 17m0s (34 syncs; sync 30s, upscale delay 3m0s, downscale delay 5m0s, stabilization 0s, tolerance 0.1): 1→2 at 1m0s, 2→3 at 4m30s, 3→4 at 8m0s, 4→1 at 13m30s; replicas 1..4, final 1",
    );
  });

  it("treats a flag commander rejects as bad input (exit 2)", async () => {
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    await expect(
      (await buildCli("simulate")).parseAsync([
        "node",
        "prom-hpa",
        "simulate",
        seedPath,
        "--upscale-delays",
        "1m",
      ]),
    ).rejects.toMatchObject({
      exitCode: 2,
      code: "commander.unknownOption",
    });
  });

  it("exits 2 with one clear message naming the field, no stack trace", async () => {
    const bad = seedText.replace("cpu: 650m # 2 pods", "cpu: [650] # 2 pods");
    const file = join(import.meta.dirname, ".bad-seed.test-tmp.yaml");
    const { writeFile, rm } = await import("node:fs/promises");
    await writeFile(file, bad);
    try {
      const err = await promisify(execFile)("npx", ["tsx", "src/cli.ts", "simulate", file], {
        cwd: repoRoot,
      }).then(
        () => undefined,
        (e: { code: number; stderr: string; stdout: string }) => e,
      );
      expect(err?.code).toBe(2);
      expect(err?.stdout).toBe("");
      expect(err?.stderr.trim()).toBe(
        `${file}: steps[2].metrics.cpu: expected a number or a quantity such as 1200m or 300Mi, or { total: Q }, { perPod: Q } or { error: text }`,
      );
    } finally {
      await rm(file, { force: true });
    }
  }, 60_000);
});
