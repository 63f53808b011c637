import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { burnCpu, createWorkload, parseBurn } from "../../../loadtest/workload/server.js";

describe("the sample workload", () => {
  const { server } = createWorkload({ burnMs: 1, name: "pod-a" });
  let base = "";
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("counts served requests in http_requests_total and times them in the histogram", async () => {
    for (let i = 0; i < 3; i++) expect(await (await fetch(`${base}/`)).text()).toBe("hello from pod-a\n");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('http_requests_total{method="GET",path="/",code="200"} 3');
    expect(metrics).toContain('http_request_duration_seconds_count{method="GET",path="/",code="200"} 3');
    expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
  });

  it("refuses a bad burn amount with 400 naming it, and counts that too", async () => {
    const res = await fetch(`${base}/?burnMs=lots`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("burnMs must be a number of milliseconds");
    expect(await (await fetch(`${base}/metrics`)).text()).toContain(
      'http_requests_total{method="GET",path="/",code="400"} 1',
    );
  });

  it("burns CPU time, not wall time", () => {
    const before = process.cpuUsage();
    burnCpu(30);
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeGreaterThanOrEqual(30);
  });

  it("parses the per-request burn", () => {
    expect(parseBurn(null, 20)).toBe(20);
    expect(parseBurn("5", 20)).toBe(5);
    expect(parseBurn("-1", 20)).toBeInstanceOf(Error);
    expect(parseBurn("", 20)).toBeInstanceOf(Error);
    expect(parseBurn("99999", 20)).toBeInstanceOf(Error);
  });
});
