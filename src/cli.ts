#!/usr/bin/env node
// One entry point: `prom-hpa <subcommand>`. Each program registers its own subcommand so
// this file stays a table of contents.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";

type Register = (program: Command) => void;

// Each program's module is imported only when its subcommand runs (or for the full help), so
// the adapter's process does not load the autoscaler, the simulator or the manifests.
const SUBCOMMANDS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ["adapter", async () => (await import("./adapter/command.js")).registerAdapterCommand],
  ["autoscaler", async () => (await import("./autoscaler/command.js")).registerAutoscalerCommand],
  ["conformance", async () => (await import("./conformance/command.js")).registerConformanceCommand],
  ["explain", async () => (await import("./explain/command.js")).registerExplainCommand],
  ["manifests", async () => (await import("./manifests/command.js")).registerManifestsCommand],
  ["replay", async () => (await import("./replay/command.js")).registerReplayCommand],
  ["rules", async () => (await import("./rules-check/command.js")).registerRulesCommand],
  ["simulate", async () => (await import("./simulate/command.js")).registerSimulateCommand],
];

/** The CLI with every subcommand, or only `subcommand` when it names one. */
export async function buildCli(subcommand?: string): Promise<Command> {
  const program = new Command("prom-hpa")
    .description("Scale Kubernetes HorizontalPodAutoscalers on any metric Prometheus has.")
    .showHelpAfterError()
    .exitOverride();
  const one = SUBCOMMANDS.filter(([name]) => name === subcommand);
  for (const [, load] of one.length > 0 ? one : SUBCOMMANDS) (await load())(program);
  return program;
}

/** Parses argv and runs the subcommand; exits non-zero with the error's message on failure. */
export async function runCli(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await (await buildCli(argv[2])).parseAsync([...argv]);
  } catch (err: unknown) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}

// Run when executed directly (tsx src/cli.ts, node dist/cli.js); bin/prom-hpa.js calls runCli.
function isEntryPoint(entry: string | undefined): boolean {
  try {
    return entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false; // argv[1] is not a file (node -e, a REPL)
  }
}
if (isEntryPoint(process.argv[1])) void runCli();
