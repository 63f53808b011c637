import { describe, expect, it } from "vitest";
import { escapeXml, formatSeconds, niceCeil, renderChartSvg } from "../../../loadtest/generator/chart.js";
import { renderSummaryTable } from "../../../loadtest/generator/table.js";
import { renderTimelineJson, summarize, type Timeline } from "../../../loadtest/generator/timeline.js";

/** A seed-like run: load ramps up, replicas follow 1→3, load stops, replicas return to 1. */
export const fixedTimeline: Timeline = {
  metricName: "pods/cpu_system",
  phases: [
    { index: 0, name: "ramp-up", type: "ramp", start: 0, end: 60, targetRps: "2→36" },
    { index: 1, name: "steady", type: "steady", start: 60, end: 120, targetRps: "36" },
    { index: 2, name: "idle", type: "idle", start: 120, end: 180, targetRps: "0" },
  ],
  samples: [
    { t: 0, rps: 0, metric: null, currentReplicas: 1, desiredReplicas: 1 },
    { t: 30, rps: 10, metric: 0.012, currentReplicas: 1, desiredReplicas: 1 },
    { t: 60, rps: 30, metric: 0.031, currentReplicas: 1, desiredReplicas: 2 },
    { t: 90, rps: 36, metric: 0.024, currentReplicas: 2, desiredReplicas: 3 },
    { t: 120, rps: 36, metric: 0.018, currentReplicas: 3, desiredReplicas: 3 },
    { t: 150, rps: 0, metric: 0.001, currentReplicas: 3, desiredReplicas: 1 },
    { t: 180, rps: 0, metric: 0, currentReplicas: 1, desiredReplicas: 1 },
  ],
};

describe("niceCeil", () => {
  it.each([
    [0, 1],
    [0.031, 0.05],
    [36, 50],
    [100, 100],
    [101, 200],
    [3, 5],
  ])("rounds %s up to %s", (x, nice) => {
    expect(niceCeil(x)).toBeCloseTo(nice, 10);
  });
});

describe("renderChartSvg", () => {
  const svg = renderChartSvg(fixedTimeline, { title: "seed <demo>" });

  it("draws load, metric, current and desired replicas as one path each", () => {
    const paths = [...svg.matchAll(/<path d="([^"]+)"[^>]*><title>([^<]+)<\/title>/g)].map((m) => m[2]);
    expect(paths).toEqual(["load", "pods/cpu_system", "current replicas", "desired replicas"]);
  });

  it("places the samples on a shared time axis and each panel's own scale", () => {
    // Load panel: 0..50 req/s over y 194..44; t 0..180 s over x 70..936.
    const load = /<path d="([^"]+)"[^>]*><title>load</.exec(svg)?.[1];
    expect(load).toBe("M70,194 L214.3,164 L358.7,104 L503,86 L647.3,86 L791.7,194 L936,194");
    // The metric starts at its first known value (the null at t=0 is left out).
    const metric = /<path d="([^"]+)"[^>]*><title>pods\/cpu_system</.exec(svg)?.[1];
    expect(metric?.startsWith("M214.3,")).toBe(true);
    // Replicas are steps: hold the value, then jump.
    const current = /<path d="([^"]+)"[^>]*><title>current replicas</.exec(svg)?.[1];
    // Replicas panel: 0..3 over y 562..412.
    expect(current).toBe("M70,512 H214.3 V512 H358.7 V512 H503 V462 H647.3 V412 H791.7 V412 H936 V512");
  });

  it("shades and names the phases and escapes text", () => {
    for (const name of ["ramp-up", "steady", "idle"]) expect(svg).toContain(`>${name}</text>`);
    expect(svg).toContain("seed &lt;demo&gt;");
    expect(svg).not.toContain("<demo>");
    expect(svg.match(/<rect x=/g)).toHaveLength(3);
  });

  it("renders an empty timeline without failing", () => {
    expect(renderChartSvg({ samples: [], phases: [] })).toContain("</svg>");
  });
});

describe("timeline rendering", () => {
  it("writes samples with exactly the documented fields, in order", () => {
    const json = JSON.parse(renderTimelineJson(fixedTimeline)) as { samples: Array<Record<string, unknown>> };
    expect(Object.keys(json.samples[0] ?? {})).toEqual([
      "t",
      "rps",
      "metric",
      "currentReplicas",
      "desiredReplicas",
    ]);
    expect(json.samples).toHaveLength(7);
    expect(json.samples[3]).toEqual({
      t: 90,
      rps: 36,
      metric: 0.024,
      currentReplicas: 2,
      desiredReplicas: 3,
    });
  });

  it("summarizes each phase from the samples of its intervals", () => {
    expect(summarize(fixedTimeline)).toEqual([
      {
        phase: "ramp-up",
        type: "ramp",
        seconds: 60,
        targetRps: "2→36",
        meanRps: 20,
        metricMean: 0.0215,
        metricMax: 0.031,
        replicasMin: 1,
        replicasMax: 1,
        replicasEnd: 1,
      },
      {
        phase: "steady",
        type: "steady",
        seconds: 60,
        targetRps: "36",
        meanRps: 36,
        metricMean: 0.021,
        metricMax: 0.024,
        replicasMin: 2,
        replicasMax: 3,
        replicasEnd: 3,
      },
      {
        phase: "idle",
        type: "idle",
        seconds: 60,
        targetRps: "0",
        meanRps: 0,
        metricMean: 0.0005,
        metricMax: 0.001,
        replicasMin: 1,
        replicasMax: 3,
        replicasEnd: 1,
      },
    ]);
  });

  it("prints a short table, one row per phase", () => {
    const table = renderSummaryTable(summarize(fixedTimeline), "cpu_system");
    const lines = table.split("\n");
    expect(lines[1]).toContain("cpu_system mean");
    expect(lines.find((l) => l.includes("steady"))).toMatch(
      /steady\s+│ 60s\s+│ 36\s+│ 36\s+│ 0\.021\s+│ 0\.024\s+│ 2\.\.3\s+│ 3/,
    );
    expect(lines.filter((l) => /ramp-up|steady|idle/.test(l))).toHaveLength(3);
  });
});

describe("helpers", () => {
  it("formats seconds as the axis shows them", () => {
    expect([0, 45, 60, 90, 600].map(formatSeconds)).toEqual(["0s", "45s", "1m", "1m30s", "10m"]);
  });

  it("escapes XML", () => {
    expect(escapeXml(`a<b>&"c"`)).toBe("a&lt;b&gt;&amp;&quot;c&quot;");
  });
});
