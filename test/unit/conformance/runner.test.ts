import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFiles, runVector } from "../../../src/conformance/runner.js";

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, "..", "..", "..");

const delayInput = {
  now: "2026-01-01T00:00:00Z",
  currentReplicas: 3,
  desiredReplicas: 5,
  lastScaleTime: "2025-12-31T23:50:00Z",
  upscaleDelaySeconds: 180,
  downscaleDelaySeconds: 300,
};
const right = {
  name: "up long after the delay",
  kind: "legacyDelay",
  input: delayInput,
  expect: { shouldScale: true },
};
const wrong = {
  name: "deliberately wrong expectation",
  kind: "legacyDelay",
  input: delayInput,
  expect: { shouldScale: false },
};
const unknownKind = { name: "a kind nobody knows", kind: "cheddarCheese", input: {}, expect: {} };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "prom-hpa-conformance-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function vectorFile(name: string, vectors: unknown[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify({ source: "runner.test.ts", vectors }));
  return file;
}

async function cli(file: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "src/cli.ts", "conformance", file], {
      cwd: repoRoot,
    });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "" };
  }
}

describe("conformance runner", () => {
  it("passes a vector whose expectation holds", () => {
    expect(runVector(right)).toEqual({ ok: true });
  });

  it("reports a vector with a wrong expectation as failed, with what was expected and what came out", async () => {
    const summary = await runFiles([await vectorFile("wrong.json", [right, wrong])]);
    expect(summary.passed).toBe(1);
    expect(summary.failed).toBe(1);
    expect(summary.failures[0]).toMatchObject({
      name: "deliberately wrong expectation",
      expected: '{"shouldScale":false}',
      got: '{"shouldScale":true}',
    });
  });

  it("counts a vector of an unknown kind as a failure, never a skip", async () => {
    const summary = await runFiles([await vectorFile("unknown.json", [unknownKind])]);
    expect(summary).toMatchObject({ passed: 0, failed: 1 });
    expect(summary.failures[0]?.got).toContain("cheddarCheese");
  });

  it("makes the CLI print the failing vector and exit non-zero", { timeout: 60_000 }, async () => {
    const result = await cli(await vectorFile("cli-wrong.json", [right, wrong]));
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain("deliberately wrong expectation");
    expect(result.stdout).toContain("1 passed, 1 failed");
  });

  it("makes the CLI exit non-zero on an unknown kind", { timeout: 60_000 }, async () => {
    const result = await cli(await vectorFile("cli-unknown.json", [unknownKind]));
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain("0 passed, 1 failed");
  });

  it("makes the CLI exit zero when every vector passes", { timeout: 60_000 }, async () => {
    const result = await cli(await vectorFile("cli-right.json", [right]));
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain("1 passed, 0 failed");
  });
});
