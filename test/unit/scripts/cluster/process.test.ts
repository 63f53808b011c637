import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ComponentError, groupAlive, startProcess, tailFile } from "../../../../scripts/cluster/process.js";

const dir = mkdtempSync(join(tmpdir(), "process-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("components", () => {
  it("a component that exits before it is healthy is named, with its exit code and log tail", async () => {
    const c = startProcess({
      name: "fake-apiserver",
      command: "sh",
      args: ["-c", "echo 'bad flag --x'; exit 3"],
      logFile: join(dir, "a.log"),
    });
    const err = await c
      .waitHealthy({ check: () => Promise.resolve(false), timeoutMs: 10_000, intervalMs: 20 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComponentError);
    expect((err as ComponentError).message).toContain(
      "fake-apiserver exited (code 3) before it became healthy",
    );
    expect((err as ComponentError).logTail).toBe("bad flag --x");
  });

  it("a component not healthy in time is named with the last probe error", async () => {
    const c = startProcess({ name: "slow", command: "sleep", args: ["30"], logFile: join(dir, "b.log") });
    try {
      const err = await c
        .waitHealthy({
          check: () => Promise.reject(new Error("connection refused")),
          timeoutMs: 200,
          intervalMs: 20,
        })
        .catch((e: unknown) => e);
      expect(String(err)).toContain("slow did not become healthy within 0s (last probe: connection refused)");
    } finally {
      await c.stop();
    }
  });

  it("a missing binary fails as an exit, not a crash", async () => {
    const c = startProcess({
      name: "ghost",
      command: join(dir, "no-such-binary"),
      args: [],
      logFile: join(dir, "c.log"),
    });
    const err = await c.waitHealthy({ check: () => Promise.resolve(true), timeoutMs: 5000 }).then(
      () => c.exited.then(() => "exited"),
      (e: unknown) => String(e),
    );
    expect(err === "exited" || err.includes("ghost exited")).toBe(true);
    await c.exited;
    expect(tailFile(join(dir, "c.log"))).toContain("could not start");
  });

  it("stop ends the whole process group, children included", async () => {
    const c = startProcess({
      name: "parent",
      command: "sh",
      args: ["-c", "sleep 30 & sleep 30; wait"],
      logFile: join(dir, "d.log"),
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(groupAlive(c.pid)).toBe(true);
    await c.stop(2000);
    expect(c.running).toBe(false);
    expect(groupAlive(c.pid)).toBe(false);
  });
});
