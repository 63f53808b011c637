import { describe, expect, it } from "vitest";
import { checkTarget, isLoopbackHost } from "../../../loadtest/generator/target.js";
import { runScenario, TargetRefusedError } from "../../../loadtest/generator/runner.js";

describe("isLoopbackHost", () => {
  it.each(["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "::1", "::ffff:127.0.0.1", "LOCALHOST"])(
    "accepts %s",
    (h) => {
      expect(isLoopbackHost(h)).toBe(true);
    },
  );

  it.each([
    "10.0.0.1",
    "192.168.1.10",
    "172.16.0.1",
    "8.8.8.8",
    "128.0.0.1",
    "example.com",
    "localhost.example.com",
    "[::2]",
    "0.0.0.0",
  ])("refuses %s", (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
});

describe("checkTarget", () => {
  it("accepts loopback URLs", () => {
    const r = checkTarget("http://127.0.0.1:8080/x");
    expect(r.ok && r.url.port).toBe("8080");
  });

  it("refuses a non-loopback target and says how to allow it", () => {
    expect(checkTarget("http://10.1.2.3:80/")).toEqual({
      ok: false,
      message:
        "--target: refusing to send load to 10.1.2.3: not a loopback address (localhost, 127.0.0.0/8, ::1). Pass --allow-non-loopback if you own that server and mean it.",
    });
  });

  it("allows a non-loopback target only with the explicit flag", () => {
    expect(checkTarget("http://10.1.2.3/", { allowNonLoopback: true }).ok).toBe(true);
  });

  it("refuses what is not an http(s) URL", () => {
    expect(checkTarget("127.0.0.1:8080")).toMatchObject({ ok: false });
    expect(checkTarget("ftp://127.0.0.1/")).toEqual({
      ok: false,
      message: "--target: only http and https are supported, got ftp:",
    });
  });

  it("stops runScenario before any request is sent", async () => {
    let started = 0;
    await expect(
      runScenario({
        target: "http://192.168.0.10/",
        scenario: {
          name: "x",
          path: "/",
          sampleInterval: 1,
          rampStep: 1,
          phases: [{ type: "steady", rate: 5, duration: 1, connections: 1 }],
        },
        reportDir: "/nonexistent/never-written",
        driver: {
          start: () => {
            started++;
            return { stop: async () => {} };
          },
          completedRequests: () => 0,
          failedRequests: () => 0,
          errorResponses: () => 0,
        },
      }),
    ).rejects.toBeInstanceOf(TargetRefusedError);
    expect(started).toBe(0);
  });
});
