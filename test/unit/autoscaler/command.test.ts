import { Command } from "commander";
import { describe, expect, it } from "vitest";
import {
  optionsFromFlags,
  registerAutoscalerCommand,
  type AutoscalerFlags,
} from "../../../src/autoscaler/command.js";

/** The flags as commander hands them over with their defaults, plus `argv`. */
function flags(argv: string[]): AutoscalerFlags {
  const program = new Command().exitOverride();
  registerAutoscalerCommand(program);
  const cmd = program.commands.find((c) => c.name() === "autoscaler");
  if (!cmd) throw new Error("no autoscaler command");
  cmd.action(() => undefined);
  program.parse(["node", "prom-hpa", "autoscaler", ...argv]);
  return cmd.opts<AutoscalerFlags>();
}

describe("prom-hpa autoscaler flags", () => {
  it("defaults equal kube-controller-manager's, with the legacy delays off", () => {
    const o = optionsFromFlags(flags([]));
    expect(o.syncPeriodMs).toBe(15_000);
    expect(o.settings).toEqual({
      tolerance: 0.1,
      upscaleDelaySeconds: 0,
      downscaleDelaySeconds: 0,
      downscaleStabilizationWindowSeconds: 300,
      cpuInitializationPeriodSeconds: 300,
      delayOfInitialReadinessStatusSeconds: 30,
      scaleToZero: true,
    });
    expect(o.concurrentSyncs).toBe(5);
    expect(o.dryRun).toBe(false);
    expect(o.dryRunAnnotate).toBeUndefined();
    expect(o.leaderElection).toBeUndefined();
    expect(o.metricsBindAddress).toBe(":8080");
  });

  it("reads Go durations and the rest", () => {
    const o = optionsFromFlags(
      flags([
        "--sync-period=30s",
        "--upscale-delay=3m",
        "--downscale-delay=5m",
        "--downscale-stabilization=1m30s",
        "--tolerance=0.05",
        "--concurrent-syncs=20",
        "--namespaces=a, b",
        "--hpa-selector=team=x",
        "--ownership-annotation=autoscaler.prom-hpa.io/owner=prom-hpa",
        "--dry-run",
        "--scale-to-zero",
        "--leader-elect",
        "--leader-elect-lease-namespace=prom-hpa",
        "--leader-elect-lease-duration=20s",
      ]),
    );
    expect(o.syncPeriodMs).toBe(30_000);
    expect(o.settings).toMatchObject({
      upscaleDelaySeconds: 180,
      downscaleDelaySeconds: 300,
      downscaleStabilizationWindowSeconds: 90,
      tolerance: 0.05,
      scaleToZero: true,
    });
    expect(o.concurrentSyncs).toBe(20);
    expect(o.namespaces).toEqual(["a", "b"]);
    expect(o.hpaSelector).toBe("team=x");
    expect(o.ownershipAnnotation).toBe("autoscaler.prom-hpa.io/owner=prom-hpa");
    expect(o.dryRun).toBe(true);
    expect(o.dryRunAnnotate).toBeUndefined();
    expect(o.leaderElection).toEqual({
      leaseName: "prom-hpa-autoscaler",
      leaseNamespace: "prom-hpa",
      leaseDurationMs: 20_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });

  it("scale-to-zero is on by default (HPAScaleToZero is beta and on in 1.37) and --no-scale-to-zero turns it off", () => {
    expect(optionsFromFlags(flags([])).settings?.scaleToZero).toBe(true);
    expect(optionsFromFlags(flags(["--scale-to-zero"])).settings?.scaleToZero).toBe(true);
    expect(optionsFromFlags(flags(["--no-scale-to-zero"])).settings?.scaleToZero).toBe(false);
  });

  it("--dry-run-annotate opts a dry run in to the decision annotation", () => {
    expect(optionsFromFlags(flags(["--dry-run", "--dry-run-annotate"]))).toMatchObject({
      dryRun: true,
      dryRunAnnotate: true,
    });
  });

  it.each([
    [["--dry-run-annotate"], /^--dry-run-annotate: only with --dry-run/],
    [["--sync-period=15"], /^--sync-period: invalid duration "15"/],
    [["--sync-period=500ms"], /^--sync-period: "500ms" is below the minimum of 1s/],
    [["--upscale-delay=3 minutes"], /^--upscale-delay: invalid duration/],
    [["--downscale-delay=-1m"], /^--downscale-delay: invalid duration "-1m" \(must not be negative\)/],
    [["--tolerance=ten"], /^--tolerance: "ten" is not a non-negative number/],
    [["--concurrent-syncs=0"], /^--concurrent-syncs: "0" is not a whole number of at least 1/],
    [["--hpa-selector=a in b"], /^--hpa-selector: invalid label selector/],
    [["--namespaces=Bad_NS"], /^--namespaces: "Bad_NS" is not a namespace name/],
    [["--ownership-annotation==x"], /^--ownership-annotation: "=x" is not an annotation key/],
    [["--metrics-bind-address=localhost"], /^--metrics-bind-address: "localhost" is not an address/],
    [
      ["--leader-elect", "--leader-elect-renew-deadline=20s"],
      /^--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline/,
    ],
  ])("%j → a clear error naming the flag", (argv, message) => {
    expect(() => optionsFromFlags(flags(argv))).toThrowError(message);
  });
});
