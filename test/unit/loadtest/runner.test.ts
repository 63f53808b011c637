import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Clock } from "../../../loadtest/generator/clock.js";
import type { LoadDriver } from "../../../loadtest/generator/driver.js";
import { runScenario } from "../../../loadtest/generator/runner.js";
import { planSegments } from "../../../loadtest/generator/schedule.js";
import type { Scenario } from "../../../loadtest/generator/scenario.js";

/** A clock whose sleeps return at once, moving time forward by exactly the time slept. */
function fakeClock(): Clock & { log: number[] } {
  let now = 0;
  const log: number[] = [];
  return {
    log,
    now: () => now,
    sleep: async (ms) => {
      if (ms > 0) now += ms;
      log.push(now / 1000);
    },
  };
}

/** Records when each segment starts and stops; "serves" rate × elapsed responses. */
function fakeDriver(clock: Clock): LoadDriver & { events: string[] } {
  const events: string[] = [];
  let completed = 0;
  let current: { rate: number; since: number } | undefined;
  const settle = (): void => {
    if (current) {
      completed += (current.rate * (clock.now() - current.since)) / 1000;
      current.since = clock.now();
    }
  };
  return {
    events,
    start(segment) {
      settle();
      events.push(
        `start t=${clock.now() / 1000} rate=${segment.rate ?? "max"} conns=${segment.connections} ${segment.phaseName}`,
      );
      current = { rate: segment.rate ?? 0, since: clock.now() };
      return {
        stop: async () => {
          settle();
          current = undefined;
          events.push(`stop t=${clock.now() / 1000}`);
        },
      };
    },
    completedRequests: () => {
      settle();
      return completed;
    },
    failedRequests: () => 0,
    errorResponses: () => 0,
  };
}

const scenario: Scenario = {
  name: "test",
  path: "/",
  sampleInterval: 5,
  rampStep: 10,
  phases: [
    { type: "ramp", name: "up", from: 0, to: 40, duration: 20, connections: 4 },
    { type: "steady", name: "hold", rate: 40, duration: 10, connections: 4 },
    { type: "idle", name: "rest", duration: 10 },
  ],
};

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});
const tempDir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), "prom-hpa-loadtest-"));
  dirs.push(d);
  return d;
};

describe("planSegments", () => {
  it("cuts a ramp into steps at the rate of each step's middle, then the constant phases", () => {
    expect(
      planSegments(scenario).map((s) => [s.phaseName, s.start, s.duration, s.rate, s.connections]),
    ).toEqual([
      ["up", 0, 10, 10, 4],
      ["up", 10, 10, 30, 4],
      ["hold", 20, 10, 40, 4],
      ["rest", 30, 10, 0, 0],
    ]);
  });

  it("names unnamed phases by position and type, and leaves an unthrottled phase without a rate", () => {
    const segs = planSegments({ ...scenario, phases: [{ type: "spike", duration: 3, connections: 2 }] });
    expect(segs).toEqual([
      {
        phase: 0,
        phaseName: "1:spike",
        type: "spike",
        start: 0,
        duration: 3,
        rate: undefined,
        connections: 2,
        targetRps: "max",
      },
    ]);
  });

  it("keeps a ramp shorter than one step as one step at its mean rate", () => {
    const segs = planSegments({
      ...scenario,
      phases: [{ type: "ramp", from: 10, to: 20, duration: 4, connections: 1 }],
    });
    expect(segs.map((s) => [s.start, s.duration, s.rate])).toEqual([[0, 4, 15]]);
  });
});

describe("runScenario with an injected clock and driver", () => {
  it("starts and stops each segment on time and samples every sampleInterval", async () => {
    const clock = fakeClock();
    const driver = fakeDriver(clock);
    let replicas = 1;
    const result = await runScenario({
      target: "http://127.0.0.1:9/",
      scenario,
      reportDir: await tempDir(),
      clock,
      driver,
      samplers: {
        metric: async () => 0.01 * replicas,
        replicas: async () => ({ current: replicas, desired: ++replicas }),
      },
    });
    expect(driver.events).toEqual([
      "start t=0 rate=10 conns=4 up",
      "stop t=10",
      "start t=10 rate=30 conns=4 up",
      "stop t=20",
      "start t=20 rate=40 conns=4 hold",
      "stop t=30",
    ]);
    const samples = result.timeline.samples;
    expect(samples.map((s) => s.t)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);
    expect(samples.map((s) => s.rps)).toEqual([0, 10, 10, 30, 30, 40, 40, 0, 0]);
    expect(samples.map((s) => s.currentReplicas)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(samples.map((s) => s.desiredReplicas)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(result.aborted).toBe(false);
    expect(
      result.summary.map((r) => [
        r.phase,
        r.targetRps,
        r.meanRps,
        r.replicasMin,
        r.replicasMax,
        r.replicasEnd,
      ]),
    ).toEqual([
      ["up", "0→40", 20, 2, 5, 5],
      ["hold", "40", 40, 6, 7, 7],
      ["rest", "0", 0, 8, 9, 9],
    ]);
  });

  it("writes timeline.json with the documented sample fields and chart.svg", async () => {
    const clock = fakeClock();
    const dir = await tempDir();
    const result = await runScenario({
      target: "http://localhost:9/",
      scenario: { ...scenario, phases: [{ type: "steady", rate: 4, duration: 10, connections: 1 }] },
      reportDir: dir,
      clock,
      driver: fakeDriver(clock),
      metricName: "pods/cpu_system",
    });
    expect(result.timelineFile).toBe(join(dir, "timeline.json"));
    const json = JSON.parse(await readFile(result.timelineFile, "utf8")) as {
      samples: unknown[];
      metricName: string;
    };
    expect(json.samples).toEqual([
      { t: 0, rps: 0, metric: null, currentReplicas: null, desiredReplicas: null },
      { t: 5, rps: 4, metric: null, currentReplicas: null, desiredReplicas: null },
      { t: 10, rps: 4, metric: null, currentReplicas: null, desiredReplicas: null },
    ]);
    expect(json.metricName).toBe("pods/cpu_system");
    const svg = await readFile(result.chartFile, "utf8");
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg).toContain("pods/cpu_system");
  });

  it("records a failing sampler as null and reports it once", async () => {
    const clock = fakeClock();
    const reported: string[] = [];
    const result = await runScenario({
      target: "http://127.0.0.1:9/",
      scenario: { ...scenario, phases: [{ type: "idle", duration: 10 }] },
      reportDir: await tempDir(),
      clock,
      driver: fakeDriver(clock),
      samplers: {
        metric: async () => {
          throw new Error("503 ServiceUnavailable");
        },
        replicas: async () => ({ current: 2, desired: 2 }),
      },
      onSamplerError: (name, err) => reported.push(`${name}: ${(err as Error).message}`),
    });
    expect(result.timeline.samples.map((s) => [s.metric, s.currentReplicas])).toEqual([
      [null, 2],
      [null, 2],
      [null, 2],
    ]);
    expect(reported).toEqual(["metric: 503 ServiceUnavailable"]);
  });

  it("stops early when aborted and still writes the report", async () => {
    const clock = fakeClock();
    const driver = fakeDriver(clock);
    const controller = new AbortController();
    const result = await runScenario({
      target: "http://127.0.0.1:9/",
      scenario,
      reportDir: await tempDir(),
      clock,
      driver,
      signal: controller.signal,
      samplers: {
        replicas: async () => {
          if (clock.now() >= 15_000) controller.abort();
          return { current: 1, desired: 1 };
        },
      },
    });
    expect(result.aborted).toBe(true);
    expect(driver.events).toEqual([
      "start t=0 rate=10 conns=4 up",
      "stop t=10",
      "start t=10 rate=30 conns=4 up",
      "stop t=15",
    ]);
    expect(result.timeline.samples.map((s) => s.t)).toEqual([0, 5, 10, 15]);
    expect(await readFile(result.timelineFile, "utf8")).toContain('"samples"');
  });
});

describe("runScenario with autocannon against a loopback server", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it("sends about the asked rate and counts the responses", async () => {
    let served = 0;
    server = createServer((_req, res) => {
      served++;
      res.end("ok");
    });
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", () => resolve()));
    const { port } = server.address() as AddressInfo;
    const result = await runScenario({
      target: `http://127.0.0.1:${port}/`,
      scenario: {
        name: "real",
        path: "/work",
        sampleInterval: 1,
        rampStep: 1,
        phases: [{ type: "steady", rate: 20, duration: 2, connections: 2 }],
      },
      reportDir: await tempDir(),
    });
    const rps = result.timeline.samples.slice(1).map((s) => s.rps);
    expect(rps.length).toBeGreaterThanOrEqual(2);
    for (const r of rps) expect(r).toBeGreaterThan(5);
    expect(served).toBeGreaterThanOrEqual(20);
    expect(served).toBeLessThanOrEqual(80);
    expect(result.failedRequests).toBe(0);
  }, 15_000);
});
