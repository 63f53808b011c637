import { describe, expect, it } from "vitest";
import { parseBindAddress, startHealthServer } from "../../../src/autoscaler/server.js";
import { Telemetry } from "../../../src/autoscaler/telemetry.js";

describe("health and metrics endpoints", () => {
  it("serve /healthz, /readyz (following readiness) and /metrics in Prometheus format", async () => {
    const t = new Telemetry({ dryRun: true });
    t.syncs.inc({ result: "success" });
    t.desiredReplicas.set({ namespace: "default", name: "web" }, 4);
    let ready = false;
    const s = await startHealthServer({
      bindAddress: "127.0.0.1:0",
      registry: t.registry,
      ready: () => ready,
      healthy: () => true,
    });
    try {
      const base = `http://127.0.0.1:${s.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('prom_hpa_autoscaler_syncs_total{result="success",mode="dry-run"} 1');
      expect(metrics).toContain(
        'prom_hpa_autoscaler_desired_replicas{namespace="default",name="web",mode="dry-run"} 4',
      );
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it("reads bind addresses as host:port, :port or port", () => {
    expect(parseBindAddress(":8080", "--x")).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(parseBindAddress("127.0.0.1:0", "--x")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseBindAddress("[::1]:9000", "--x")).toEqual({ host: "::1", port: 9000 });
    expect(parseBindAddress("9090", "--x")).toEqual({ host: "0.0.0.0", port: 9090 });
    expect(() => parseBindAddress("host:99999", "--x")).toThrowError(/^--x: "host:99999" is not an address/);
  });
});
