import { afterEach, describe, expect, it } from "vitest";
import { demoOptions, sequence } from "../../../../scripts/demo.js";
import { helloWorldObjects } from "../../../../scripts/cluster/addons/workload.js";
import { autoscalerFlags } from "../../../../scripts/cluster/addons/autoscaler.js";

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith("PROM_HPA_DEMO_")) delete process.env[k];
  Object.assign(process.env, saved);
});

describe("demo options", () => {
  it("defaults to the shortened seed timings: 5s sync, 20s up, 40s down, no stabilization window", () => {
    const o = demoOptions({}, new Date("2026-01-02T03:04:05.678Z"));
    expect(o).toMatchObject({
      syncPeriod: "5s",
      upscaleDelay: "20s",
      downscaleDelay: "40s",
      downscaleStabilization: "0s",
      rateWindow: "30s",
      burnMs: 10,
      cpuRequest: "100m",
      settleSeconds: 180,
      describeEverySeconds: 60,
    });
    expect(o.scenarioFile).toMatch(/loadtest\/scenarios\/demo\.yaml$/);
    expect(o.reportDir).toMatch(/reports\/demo-2026-01-02T03-04-05-678Z$/);
  });

  it("takes PROM_HPA_DEMO_* environment variables where no flag is given, flags first", () => {
    process.env.PROM_HPA_DEMO_SYNC_PERIOD = "3s";
    process.env.PROM_HPA_DEMO_DOWNSCALE_DELAY = "15s";
    process.env.PROM_HPA_DEMO_REPORT_DIR = "/tmp/r";
    const o = demoOptions({ downscaleDelay: "1m" });
    expect(o.syncPeriod).toBe("3s");
    expect(o.downscaleDelay).toBe("1m");
    expect(o.reportDir).toBe("/tmp/r");
  });

  it("names the flag of a bad value", () => {
    expect(() => demoOptions({ upscaleDelay: "soon" })).toThrow(/--upscale-delay: invalid duration "soon"/);
    expect(() => demoOptions({ burnMs: "-1" })).toThrow(/--burn-ms must be a number of milliseconds/);
    expect(() => demoOptions({ cpuRequest: "lots" })).toThrow(/--cpu-request must be a CPU quantity/);
    process.env.PROM_HPA_DEMO_SETTLE = "forever";
    expect(() => demoOptions({})).toThrow(/--settle: invalid duration/);
  });

  it("collapses a replica series into its steps", () => {
    expect(sequence([null, 1, 1, 2, 2, null, 4, 3, 3, 1])).toEqual([1, 2, 4, 3, 1]);
  });
});

describe("addon objects", () => {
  it("deploys the example hello-world with the requested replicas and CPU request, other fields kept", () => {
    const [deployment, service] = helloWorldObjects({ replicas: 2, cpuRequest: "100m" }) as [
      {
        spec: {
          replicas: number;
          template: { spec: { containers: Array<{ image: string; resources: unknown }> } };
        };
      },
      { kind: string },
    ];
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.containers[0]?.resources).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
    });
    expect(deployment.spec.template.spec.containers[0]?.image).toBe("prom-hpa-hello-world");
    expect(service.kind).toBe("Service");
  });

  it("passes only the autoscaler flags it was given", () => {
    expect(autoscalerFlags({})).toEqual([]);
    expect(
      autoscalerFlags({ syncPeriod: "5s", downscaleDelay: "40s", extraArgs: ["--tolerance=0.2"] }),
    ).toEqual(["--sync-period=5s", "--downscale-delay=40s", "--tolerance=0.2"]);
  });
});
