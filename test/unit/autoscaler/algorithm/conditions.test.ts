import { describe, expect, it } from "vitest";
import {
  formatTime,
  removeCondition,
  setCondition,
} from "../../../../src/autoscaler/algorithm/conditions.js";

const now = Date.parse("2026-01-01T00:00:00.750Z");
const earlier = "2025-12-31T00:00:00Z";

describe("setCondition", () => {
  it("adds a missing condition with the current time", () => {
    expect(
      setCondition(
        [],
        { type: "AbleToScale", status: "True", reason: "SucceededGetScale", message: "m" },
        now,
      ),
    ).toEqual([
      {
        type: "AbleToScale",
        status: "True",
        reason: "SucceededGetScale",
        message: "m",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ]);
  });
  it("keeps lastTransitionTime when only the reason changes", () => {
    const list = [
      {
        type: "AbleToScale",
        status: "True",
        reason: "ReadyForNewScale",
        message: "a",
        lastTransitionTime: earlier,
      },
    ];
    expect(
      setCondition(
        list,
        { type: "AbleToScale", status: "True", reason: "SucceededRescale", message: "b" },
        now,
      )[0],
    ).toEqual({
      type: "AbleToScale",
      status: "True",
      reason: "SucceededRescale",
      message: "b",
      lastTransitionTime: earlier,
    });
  });
  it("moves lastTransitionTime when the status flips, leaving the input untouched", () => {
    const list = [
      {
        type: "ScalingActive",
        status: "True",
        reason: "ValidMetricFound",
        message: "a",
        lastTransitionTime: earlier,
      },
    ];
    const next = setCondition(
      list,
      { type: "ScalingActive", status: "False", reason: "FailedGetResourceMetric", message: "b" },
      now,
    );
    expect(next[0]?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    expect(list[0]?.status).toBe("True");
  });
  it("removes a condition by type", () => {
    expect(
      removeCondition(
        [
          { type: "ScaledToZero", status: "True" },
          { type: "AbleToScale", status: "True" },
        ],
        "ScaledToZero",
      ),
    ).toEqual([{ type: "AbleToScale", status: "True" }]);
  });
  it("formats times as metav1.Time does (whole seconds)", () => {
    expect(formatTime(now)).toBe("2026-01-01T00:00:00Z");
  });
});
