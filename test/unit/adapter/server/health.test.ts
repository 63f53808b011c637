import { describe, expect, it } from "vitest";
import { runHealth } from "../../../../src/adapter/server/health.js";

describe("health checks with a warning", () => {
  const checks = {
    livez: [],
    readyz: [
      { name: "ping", check: () => undefined },
      {
        name: "rules-reload",
        check: () => undefined,
        warning: () => "rules file refused: rules[0].name.matches: …",
      },
    ],
  };

  it("shows the warning with ?verbose and stays ready", () => {
    expect(runHealth(checks, "readyz", undefined, new URLSearchParams("verbose"))).toEqual({
      code: 200,
      body: "[+]ping ok\n[+]rules-reload ok (warning: rules file refused: rules[0].name.matches: …)\nreadyz check passed\n",
    });
    expect(runHealth(checks, "readyz", undefined, undefined)).toEqual({ code: 200, body: "ok" });
  });
});
