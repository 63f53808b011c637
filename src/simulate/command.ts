// `prom-hpa simulate FILE`: replay a scenario through the HPA algorithm, no cluster needed.
import { readFile } from "node:fs/promises";
import { CommanderError, type Command } from "commander";
import { renderTable, summaryLine, toJson } from "./format.js";
import { parseScenario, resolveSettings, ScenarioError, type SettingsText } from "./scenario.js";
import { simulate } from "./simulate.js";

interface SimulateFlags extends SettingsText {
  json?: boolean;
}

/** Exit status for input the user must fix (a bad file or flag), as distinct from a failure (1). */
export const EXIT_BAD_INPUT = 2;

const HELP_AFTER = `
The file (YAML) holds:
  hpa:             an autoscaling/v2 HorizontalPodAutoscaler (metadata, spec with metrics and optional behavior)
  settings:        syncPeriod, upscaleDelay, downscaleDelay, downscaleStabilization, tolerance,
                   cpuInitializationPeriod, initialReadinessDelay (Go durations; flags override them)
  initialReplicas: replicas at t=0 (default: minReplicas)
  pods:            requests (or containers: [{name, requests}]), readyAfter, metricWindow, labels
  steps:           [{ name, duration, readyAfter, metrics: { <key>: <level> } }]

A metric's key is its resource name (cpu), container/resource for ContainerResource, or its metric name.
A level is a quantity (1200m, 300Mi, 2): for Resource, ContainerResource and Pods metrics the total across
Ready pods, split evenly (more replicas, lower per-pod value); for Object and External metrics the value.
{ perPod: Q } gives every Ready pod Q; { error: text } makes the metrics API call fail. A step carries
the previous step's levels over for the metrics it does not name. Time advances one sync period per row.

Example: prom-hpa simulate examples/simulate/seed.yaml --upscale-delay 1m --json`;

async function run(file: string, flags: SimulateFlags): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err: unknown) {
    throw new ScenarioError(file, [
      `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    ]);
  }
  const scenario = parseScenario(text, file);
  let settings;
  try {
    settings = resolveSettings(scenario.settings, flags);
  } catch (err: unknown) {
    throw new ScenarioError(file, [err instanceof Error ? err.message : String(err)]);
  }
  const result = simulate(scenario, settings);
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify(toJson(scenario, result), null, 2)}\n`);
    return;
  }
  process.stdout.write(`${renderTable(scenario, result)}\n${summaryLine(scenario, result)}\n`);
}

/**
 * The autoscaler's algorithm settings as flags (legacy delays, stabilization, tolerance, pod
 * start-up windows): simulate, replay and explain take the same ones, read by resolveSettings.
 */
export function withSettingsOptions(cmd: Command): Command {
  return cmd
    .option(
      "--upscale-delay <duration>",
      "legacy delay after any scale before scaling up; 0 = off (default 0)",
    )
    .option(
      "--downscale-delay <duration>",
      "legacy delay after any scale before scaling down; 0 = off (default 0)",
    )
    .option(
      "--downscale-stabilization <duration>",
      "downscale stabilization window for HPAs without behavior (default 5m)",
    )
    .option("--tolerance <ratio>", "minimum change of the metric/target ratio before scaling (default 0.1)")
    .option(
      "--cpu-initialization-period <duration>",
      "period after pod start when CPU samples may be skipped (default 5m)",
    )
    .option(
      "--initial-readiness-delay <duration>",
      "period after pod start during which readiness changes are initial (default 30s)",
    );
}

export function registerSimulateCommand(program: Command): void {
  const cmd = program
    .command("simulate")
    .description(
      "replay a scripted sequence of metric levels through the HPA algorithm and show what the autoscaler would do",
    )
    .argument("<file>", "scenario YAML (see below; examples/simulate/seed.yaml)")
    .option(
      "--sync-period <duration>",
      "how often the HPA is synced (file: settings.syncPeriod; default 15s)",
    );
  withSettingsOptions(cmd)
    .option("--json", "print every sync as JSON instead of a table")
    .addHelpText("after", HELP_AFTER)
    // a flag commander rejects (unknown, missing its value) is bad input too; help still exits 0
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(EXIT_BAD_INPUT, err.code, err.message);
    })
    .action(async (file: string, flags: SimulateFlags) => {
      try {
        await run(file, flags);
      } catch (err: unknown) {
        if (!(err instanceof ScenarioError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = EXIT_BAD_INPUT;
      }
    });
}
