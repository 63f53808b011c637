// The README's main command, shortened: `npm start` brings up its own local control plane,
// installs prom-hpa, deploys hello-world with the seed's HPA and drives it with load. The
// timeline it leaves must show replicas following the load up and back down to minReplicas,
// and our autoscaler's SuccessfulRescale Events must carry upstream's wording.
//
// The demo starts (and tears down) its own cluster, so this file uses nothing of the shared one.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { REPO_ROOT } from "../../scripts/cluster/binaries.js";

const timelineSchema = z.object({
  samples: z.array(
    z.object({
      t: z.number(),
      rps: z.number(),
      metric: z.number().nullable(),
      currentReplicas: z.number().int().nullable(),
      desiredReplicas: z.number().int().nullable(),
    }),
  ),
  phases: z.array(z.object({ name: z.string(), type: z.string(), start: z.number(), end: z.number() })),
});
const eventsSchema = z.array(
  z.object({ type: z.string().optional(), reason: z.string().optional(), message: z.string().optional() }),
);

interface DemoRun {
  code: number | null;
  output: string;
  lines: string[];
}

function runDemo(env: Record<string, string>, timeoutMs: number): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "scripts", "demo.ts")], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    // Past the deadline: Ctrl-C (the demo tears down and keeps its report), then the exit code says so.
    const timer = setTimeout(() => child.kill("SIGINT"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const lines = output.split("\n").filter((l) => l.trim() !== "");
      resolve({ code, output, lines });
    });
  });
}

describe("npm start (the demo), shortened", () => {
  let run: DemoRun;
  const reportDir = join(mkdtempSync(join(tmpdir(), "prom-hpa-demo-")), "report");

  beforeAll(async () => {
    run = await runDemo(
      {
        PROM_HPA_DEMO_SCENARIO: join(REPO_ROOT, "loadtest", "scenarios", "demo-short.yaml"),
        PROM_HPA_DEMO_SYNC_PERIOD: "3s",
        PROM_HPA_DEMO_UPSCALE_DELAY: "10s",
        PROM_HPA_DEMO_DOWNSCALE_DELAY: "15s",
        PROM_HPA_DEMO_SETTLE: "3m",
        PROM_HPA_DEMO_REPORT_DIR: reportDir,
      },
      14 * 60_000,
    );
    if (run.code !== 0) console.error(`demo output:\n${run.output}`);
  }, 15 * 60_000);

  it("exits 0 and prints the report folder's absolute path as its last line", () => {
    expect(run.code).toBe(0);
    const last = run.lines[run.lines.length - 1] ?? "";
    expect(isAbsolute(last)).toBe(true);
    expect(last).toBe(reportDir);
    expect(statSync(join(last, "chart.svg")).size).toBeGreaterThan(1000);
    expect(readFileSync(join(last, "chart.svg"), "utf8")).toContain("<svg");
  });

  it("prints kubectl describe hpa as it goes, says which delays it shortened, and tears down", () => {
    expect(run.output).toMatch(/--sync-period=3s --upscale-delay=10s --downscale-delay=15s/);
    expect(run.output).toMatch(/shortened from the seed's 30s sync, 3m upscale and 5m downscale delays/);
    expect(run.output).toMatch(/kubectl describe hpa hello-world {2}\(rescaled 1 → \d+\)/);
    expect(run.output).toMatch(/Reference:\s+Deployment\/hello-world/);
    expect(run.output).toMatch(/"cpu_system" on pods:\s+\S+ \/ 20m/);
    expect(run.output).toMatch(/tearing down/);
  });

  it("records a timeline where replicas rise under load, return to min after it, and never exceed max", () => {
    const timeline = timelineSchema.parse(JSON.parse(readFileSync(join(reportDir, "timeline.json"), "utf8")));
    const samples = timeline.samples;
    expect(samples.length).toBeGreaterThan(20);
    const loadEnd = Math.max(...timeline.phases.filter((p) => p.type !== "idle").map((p) => p.end));
    const underLoad = samples.filter((s) => s.t <= loadEnd);
    const after = samples.filter((s) => s.t > loadEnd);
    // Load reached the pods (responses per second as the generator saw them).
    expect(Math.max(...underLoad.map((s) => s.rps))).toBeGreaterThanOrEqual(12);
    expect(samples[0]?.currentReplicas).toBe(1);
    const peak = Math.max(...underLoad.map((s) => s.currentReplicas ?? 0));
    expect(peak).toBeGreaterThanOrEqual(3);
    for (const s of samples) {
      expect(s.currentReplicas ?? 0).toBeLessThanOrEqual(10);
      expect(s.desiredReplicas ?? 0).toBeLessThanOrEqual(10);
    }
    // Replicas only came down once the load had stopped, and ended at minReplicas.
    expect(after.length).toBeGreaterThan(0);
    expect(samples[samples.length - 1]?.currentReplicas).toBe(1);
    expect(Math.max(...after.map((s) => s.currentReplicas ?? 0))).toBeGreaterThan(1);
    // The metric the HPA saw rose with the load and fell after it.
    const metricUnderLoad = Math.max(...underLoad.map((s) => s.metric ?? 0));
    expect(metricUnderLoad).toBeGreaterThan(50);
    expect(samples[samples.length - 1]?.metric ?? 100).toBeLessThan(25);
  });

  it("leaves SuccessfulRescale Events with upstream's wording, up under load and down after it", () => {
    const events = eventsSchema.parse(JSON.parse(readFileSync(join(reportDir, "events.json"), "utf8")));
    const rescales = events.filter((e) => e.reason === "SuccessfulRescale").map((e) => e.message ?? "");
    expect(rescales.length).toBeGreaterThanOrEqual(2);
    for (const m of rescales)
      expect(m).toMatch(/^New size: \d+; reason: (.+ above target|All metrics below target)$/);
    expect(rescales).toContainEqual(
      expect.stringMatching(
        /^New size: \d+; reason: cpu resource utilization \(percentage of request\) above target$/,
      ),
    );
    expect(rescales).toContain("New size: 1; reason: All metrics below target");
    expect(existsSync(join(reportDir, "describe-hpa.txt"))).toBe(true);
  });
});
