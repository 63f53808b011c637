import { describe, expect, it } from "vitest";
import {
  DurationError,
  formatDuration,
  parseDurationField,
  parseGoDuration,
} from "../../../src/kube/duration.js";

describe("parseGoDuration reads time.ParseDuration's grammar", () => {
  it.each([
    ["30s", 30_000],
    ["3m", 180_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["250ms", 250],
    ["1m0s", 60_000],
    ["2m30s", 150_000],
    ["1s1s", 2_000],
    ["30s1m", 90_000],
    [".5s", 500],
    ["5.s", 5_000],
    ["1500us", 1.5],
    ["1500\u00b5s", 1.5],
    ["1500\u03bcs", 1.5],
    ["2000000ns", 2],
    ["0", 0],
    ["+0", 0],
    ["-0", 0],
    ["+5s", 5_000],
    ["-5s", -5_000],
    ["-1h30m", -5_400_000],
  ])("%j is %d ms", (text, ms) => {
    expect(parseGoDuration(text)).toEqual({ ok: true, ms });
  });

  it.each([
    ["", "empty"],
    ["-", "empty"],
    ["10", "expected a number followed by a unit (ns, us, ms, s, m, h)"],
    ["s", "expected a number followed by a unit (ns, us, ms, s, m, h)"],
    [".s", "expected a number followed by a unit (ns, us, ms, s, m, h)"],
    ["5d", "expected a number followed by a unit (ns, us, ms, s, m, h)"],
    ["1h0", 'unexpected "0"'],
    ["1h-3m", 'unexpected "-3m"'],
    ["5m x", 'unexpected " x"'],
    [" 5m", "expected a number followed by a unit (ns, us, ms, s, m, h)"],
    ["3000000h", "too large"],
  ])("refuses %j: %s", (text, problem) => {
    expect(parseGoDuration(text)).toEqual({ ok: false, problem });
  });
});

describe("parseDurationField, for flags and config fields", () => {
  it("returns milliseconds of a non-negative duration", () => {
    expect(parseDurationField("1m30s", "--sync-period")).toBe(90_000);
    expect(parseDurationField("0", "--sync-period")).toBe(0);
  });

  it("throws a DurationError naming the field and the problem", () => {
    const err = (() => {
      try {
        parseDurationField("10", "--sync-period");
      } catch (e: unknown) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(DurationError);
    expect(err).toMatchObject({ field: "--sync-period", text: "10" });
    expect((err as DurationError).message).toBe(
      '--sync-period: invalid duration "10" (expected a number followed by a unit (ns, us, ms, s, m, h)); use a Go duration such as 30s, 3m or 1h30m',
    );
  });

  it("refuses negative durations, which no setting of ours means", () => {
    expect(() => parseDurationField("-5s", "annotation x")).toThrowError(
      /^annotation x: invalid duration "-5s" \(must not be negative\)/,
    );
  });
});

describe("formatDuration", () => {
  it("prints like Go's Duration.String()", () => {
    expect(formatDuration(300_000)).toBe("5m0s");
    expect(formatDuration(30_000)).toBe("30s");
    expect(formatDuration(5_430_000)).toBe("1h30m30s");
    expect(formatDuration(0)).toBe("0s");
  });
});
