import { describe, expect, it } from "vitest";
import { parseProcStatusWorkingSetBytes } from "../../../../scripts/cluster/podrunner/cadvisor.js";

describe("cAdvisor working set of a local pod process", () => {
  it("counts anonymous and shared memory, not the runtime's mapped file pages", () => {
    const status =
      "Name:\tnode\nVmRSS:\t   80000 kB\nRssAnon:\t   30000 kB\nRssFile:\t   49000 kB\nRssShmem:\t    1000 kB\n";
    expect(parseProcStatusWorkingSetBytes(status)).toBe(31_000 * 1024);
  });

  it("falls back to VmRSS where the kernel does not split it", () => {
    expect(parseProcStatusWorkingSetBytes("Name:\tnode\nVmRSS:\t   2048 kB\n")).toBe(2048 * 1024);
  });
});
