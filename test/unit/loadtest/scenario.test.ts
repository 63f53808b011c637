import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  formatIssues,
  parseDuration,
  parseScenario,
  scenarioDuration,
} from "../../../loadtest/generator/scenario.js";

const issuesOf = (text: string) => {
  const r = parseScenario(text);
  if (r.ok) throw new Error("expected the scenario to be rejected");
  return r.issues;
};

describe("parseDuration", () => {
  it.each([
    ["30s", 30],
    ["2m", 120],
    ["1m30s", 90],
    ["1h", 3600],
    ["500ms", 0.5],
    ["45", 45],
    [12, 12],
  ] as const)("reads %s as %s seconds", (raw, seconds) => {
    expect(parseDuration(raw)).toBe(seconds);
  });

  it.each(["2x", "m", "1m 30s", "", "-5s"])("rejects %j", (raw) => {
    expect(parseDuration(raw)).toBeUndefined();
  });
});

describe("parseScenario", () => {
  it("fills in defaults and turns durations into seconds", () => {
    const r = parseScenario(`
phases:
  - {type: ramp, from: 1, to: 30, duration: 2m}
  - {type: steady, rate: 30, duration: "1m30s", connections: 4}
  - {type: spike, duration: 10s}
  - {type: idle, duration: 300}
`);
    expect(r).toEqual({
      ok: true,
      scenario: {
        name: "scenario",
        path: "/",
        sampleInterval: 5,
        rampStep: 10,
        phases: [
          { type: "ramp", from: 1, to: 30, duration: 120, connections: 10 },
          { type: "steady", rate: 30, duration: 90, connections: 4 },
          { type: "spike", duration: 10, connections: 10 },
          { type: "idle", duration: 300 },
        ],
      },
    });
  });

  it("names the field of every mistake", () => {
    const issues = issuesOf(`
sampleInterval: soon
phases:
  - {type: ramp, from: 1, to: -3, duration: 2x}
  - {type: steady, rate: fast, duration: 1m, conections: 3}
  - {type: boom, duration: 1m}
  - {type: idle, duration: 0s}
  - {type: spike, rate: 0, duration: 1m, connections: 2.5}
`);
    expect(issues).toEqual([
      { path: "sampleInterval", message: 'expected a duration like "30s", "2m" or "1m30s", got "soon"' },
      { path: "phases[0].to", message: "must be >= 0 requests per second" },
      { path: "phases[0].duration", message: 'expected a duration like "30s", "2m" or "1m30s", got "2x"' },
      { path: "phases[1].rate", message: "expected requests per second (a number)" },
      { path: "phases[1]", message: 'unknown field "conections"' },
      { path: "phases[2].type", message: 'expected type to be one of "ramp", "steady", "spike", "idle"' },
      { path: "phases[3].duration", message: "must be longer than 0s" },
      { path: "phases[4].rate", message: "must be > 0 requests per second" },
      { path: "phases[4].connections", message: "must be a whole number" },
    ]);
  });

  it("rejects a scenario without phases and unknown top-level fields", () => {
    expect(issuesOf("phases: []")).toEqual([{ path: "phases", message: "needs at least one phase" }]);
    expect(issuesOf("phase: []\nphases: [{type: idle, duration: 1}]")).toEqual([
      { path: "", message: 'unknown field "phase"' },
    ]);
  });

  it("reports broken YAML as a document error", () => {
    const issues = issuesOf("phases: [");
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe("");
    expect(issues[0]?.message).toMatch(/^invalid YAML: /);
  });

  it("formats issues one per line under the file name", () => {
    expect(
      formatIssues("s.yaml", [
        { path: "phases[1].rate", message: "must be > 0 requests per second" },
        { path: "", message: "x" },
      ]),
    ).toBe("s.yaml: invalid scenario\n  phases[1].rate: must be > 0 requests per second\n  (document): x");
  });
});

describe("the seed scenario", () => {
  it("is valid: ramp up, steady, idle, lasting minutes", async () => {
    const text = await readFile(
      fileURLToPath(new URL("../../../loadtest/scenarios/seed.yaml", import.meta.url)),
      "utf8",
    );
    const r = parseScenario(text);
    if (!r.ok) throw new Error(formatIssues("seed.yaml", r.issues));
    expect(r.scenario.phases.map((p) => p.type)).toEqual(["ramp", "steady", "idle"]);
    expect(scenarioDuration(r.scenario)).toBeGreaterThanOrEqual(5 * 60);
    expect(scenarioDuration(r.scenario)).toBeLessThanOrEqual(15 * 60);
  });
});
