import { describe, expect, it } from "vitest";
import { RequestTiming } from "../../../../src/adapter/server/timing.js";

function manualClock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("RequestTiming", () => {
  it("reports the whole request and the time spent waiting on Prometheus, in milliseconds", () => {
    const clock = manualClock(100);
    const timing = new RequestTiming(100, clock.now);
    clock.advance(0.25);
    timing.start();
    clock.advance(1.5);
    timing.stop();
    clock.advance(0.5);
    expect(timing.prometheusMs()).toBe(1.5);
    expect(timing.header()).toBe("total;dur=2.250, prometheus;dur=1.500");
  });

  it("counts overlapping waits once, as wall time", () => {
    const clock = manualClock();
    const timing = new RequestTiming(0, clock.now);
    timing.start(); // CPU query
    clock.advance(1);
    timing.start(); // memory query, in parallel
    clock.advance(2);
    timing.stop();
    clock.advance(1);
    timing.stop();
    expect(timing.prometheusMs()).toBe(4);
  });

  it("adds separate waits and counts a wait still running up to now", () => {
    const clock = manualClock();
    const timing = new RequestTiming(0, clock.now);
    timing.start();
    clock.advance(1);
    timing.stop();
    clock.advance(5);
    timing.start();
    clock.advance(2);
    expect(timing.prometheusMs()).toBe(3);
  });

  it("ignores a stop without a start", () => {
    const clock = manualClock();
    const timing = new RequestTiming(0, clock.now);
    timing.stop();
    clock.advance(3);
    expect(timing.prometheusMs()).toBe(0);
    expect(timing.header()).toBe("total;dur=3.000, prometheus;dur=0.000");
  });
});
