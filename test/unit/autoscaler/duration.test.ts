import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../../src/autoscaler/duration.js";

describe("Go durations", () => {
  it.each([
    ["30s", 30_000],
    ["3m", 180_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["250ms", 250],
    ["0", 0],
    ["2m30s", 150_000],
    ["+5s", 5_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text, "--x")).toBe(ms);
  });

  it.each(["", "10", "5 m", "3x", "-5s", "1h-3m", "s"])("rejects %j with an error naming the flag", (text) => {
    expect(() => parseDuration(text, "--sync-period")).toThrowError(/^--sync-period: invalid duration/);
  });

  it("prints like Go's Duration.String()", () => {
    expect(formatDuration(300_000)).toBe("5m0s");
    expect(formatDuration(30_000)).toBe("30s");
    expect(formatDuration(5_430_000)).toBe("1h30m30s");
    expect(formatDuration(0)).toBe("0s");
  });
});
