import { describe, expect, it } from "vitest";
import { parseQueryBody } from "../../../../src/adapter/prometheus/schema.js";

const vector = (result: unknown, extra: Record<string, unknown> = {}) => ({
  status: "success",
  data: { resultType: "vector", result },
  ...extra,
});

describe("parseQueryBody", () => {
  it("reads an instant vector's labels, millisecond timestamps and float texts", () => {
    expect(
      parseQueryBody(
        vector(
          [
            { metric: { pod: "a" }, value: [1700000000.123, "1.5"] },
            { metric: {}, value: [1700000000, "+Inf"] },
          ],
          { warnings: ["slow"] },
        ),
      ),
    ).toEqual({
      ok: true,
      value: {
        resultType: "vector",
        result: [
          { metric: { pod: "a" }, timestampMs: 1700000000123, value: 1.5 },
          { metric: {}, timestampMs: 1700000000000, value: Infinity },
        ],
      },
      warnings: ["slow"],
    });
  });

  it.each([
    ["a sample with three fields", vector([{ metric: {}, value: [1, "2", 3] }]), "data.result.0.value"],
    [
      "a label that is not a string",
      vector([{ metric: { pod: 1 }, value: [1, "2"] }]),
      "data.result.0.metric.pod",
    ],
    ["a value that is a number", vector([{ metric: {}, value: [1, 2] }]), "data.result.0.value.1"],
    ["warnings that are not strings", vector([], { warnings: [1] }), "warnings.0"],
  ])("refuses %s, naming where", (_, body, where) => {
    const r = parseQueryBody(body);
    expect(r.ok ? "" : r.error.message).toContain(`at ${where}:`);
  });

  it("reads a scalar", () => {
    expect(parseQueryBody({ status: "success", data: { resultType: "scalar", result: [2, "3"] } })).toEqual({
      ok: true,
      value: { resultType: "scalar", result: { timestampMs: 2000, value: 3 } },
    });
  });
});
