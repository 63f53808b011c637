import { describe, expect, it } from "vitest";
import { legacyDelayGate, shouldScale } from "../../../../src/autoscaler/algorithm/legacy-delay.js";

const now = Date.parse("2026-01-01T00:00:00Z");
const ago = (seconds: number) => now - seconds * 1000;
const delays = { upscaleDelaySeconds: 180, downscaleDelaySeconds: 300 };

describe("legacy shouldScale (1.9–1.11)", () => {
  it("never scales to the same size", () => {
    expect(shouldScale({ now, currentReplicas: 4, desiredReplicas: 4, lastScaleTime: null, ...delays })).toBe(
      false,
    );
  });
  it("allows any change when the target was never scaled", () => {
    expect(shouldScale({ now, currentReplicas: 7, desiredReplicas: 2, lastScaleTime: null, ...delays })).toBe(
      true,
    );
  });
  it("waits until strictly after the upscale delay", () => {
    expect(
      shouldScale({ now, currentReplicas: 3, desiredReplicas: 5, lastScaleTime: ago(180), ...delays }),
    ).toBe(false);
    expect(
      shouldScale({ now, currentReplicas: 3, desiredReplicas: 5, lastScaleTime: ago(181), ...delays }),
    ).toBe(true);
  });
  it("holds a scale-down between the upscale and downscale delays", () => {
    expect(
      shouldScale({ now, currentReplicas: 5, desiredReplicas: 3, lastScaleTime: ago(240), ...delays }),
    ).toBe(false);
    expect(
      shouldScale({ now, currentReplicas: 5, desiredReplicas: 3, lastScaleTime: ago(301), ...delays }),
    ).toBe(true);
  });
});

describe("the controller's delay gate", () => {
  it("reports BackoffBoth while both windows are open", () => {
    const g = legacyDelayGate({
      now,
      currentReplicas: 3,
      desiredReplicas: 5,
      lastScaleTime: ago(60),
      ...delays,
    });
    expect(g.allowed).toBe(false);
    expect(g.backoff).toMatchObject({ type: "AbleToScale", status: "False", reason: "BackoffBoth" });
  });
  it("reports BackoffDownscale once only the downscale window is open, and lets a scale-up through", () => {
    const g = legacyDelayGate({
      now,
      currentReplicas: 3,
      desiredReplicas: 5,
      lastScaleTime: ago(240),
      ...delays,
    });
    expect(g.allowed).toBe(true);
    expect(g.backoff?.reason).toBe("BackoffDownscale");
    expect(g.backoff?.message).toBe(
      "the time since the previous scale is still within the downscale forbidden window",
    );
  });
  it("treats a delay of 0 as no gate for that direction", () => {
    const g = legacyDelayGate({
      now,
      currentReplicas: 3,
      desiredReplicas: 5,
      lastScaleTime: now,
      upscaleDelaySeconds: 0,
      downscaleDelaySeconds: 300,
    });
    expect(g.allowed).toBe(true);
    expect(g.backoff?.reason).toBe("BackoffDownscale");
  });
  it("reports nothing once both windows have passed", () => {
    expect(
      legacyDelayGate({ now, currentReplicas: 5, desiredReplicas: 3, lastScaleTime: ago(301), ...delays }),
    ).toEqual({ allowed: true });
  });
  it("never allows an unchanged size", () => {
    expect(
      legacyDelayGate({ now, currentReplicas: 5, desiredReplicas: 5, lastScaleTime: null, ...delays }),
    ).toEqual({ allowed: false });
  });
});
