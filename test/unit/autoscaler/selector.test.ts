import { describe, expect, it } from "vitest";
import { labelSelectorToString, matches, parseSelector } from "../../../src/autoscaler/kube/selector.js";

describe("label selectors", () => {
  const pod = { app: "web", tier: "front", version: "3" };

  it.each([
    ["", true],
    ["app=web", true],
    ["app==web,tier=front", true],
    ["app!=web", false],
    ["tier in (front,back)", true],
    ["tier notin (front)", false],
    ["version", true],
    ["!canary", true],
    ["!app", false],
    ["version>2", true],
    ["version<3", false],
    ["app=web, tier in ( front ), !canary", true],
    ["missing=x", false],
  ])("%j matches the pod: %s", (sel, want) => {
    expect(matches(parseSelector(sel), pod)).toBe(want);
  });

  it("reads an empty value as the empty string, as labels.Parse does", () => {
    expect(parseSelector("app=")).toEqual([{ key: "app", op: "=", value: "" }]);
    expect(matches(parseSelector("app="), { app: "" })).toBe(true);
  });

  it.each(["app in front", "=web", "app in (a", "app=web tier=x", "app=web,,tier", "app in (a) b"])("rejects %j", (sel) => {
    expect(() => parseSelector(sel)).toThrowError(/invalid label selector/);
  });

  it("prints a metav1.LabelSelector sorted by key as apimachinery does", () => {
    expect(
      labelSelectorToString({
        matchLabels: { zone: "a", app: "web" },
        matchExpressions: [
          { key: "tier", operator: "In", values: ["front", "back"] },
          { key: "canary", operator: "DoesNotExist" },
          { key: "env", operator: "Exists" },
        ],
      }),
    ).toBe("app=web,!canary,env,tier in (back,front),zone=a");
    expect(labelSelectorToString(null)).toBe("");
    expect(labelSelectorToString({})).toBe("");
  });
});
