#!/usr/bin/env node
// One entry point: `prom-hpa <subcommand>`. Each program registers its own subcommand so
// this file stays a table of contents.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { registerAdapterCommand } from "./adapter/command.js";
import { registerAutoscalerCommand } from "./autoscaler/command.js";
import { registerConformanceCommand } from "./conformance/command.js";
import { registerExplainCommand } from "./explain/command.js";
import { registerManifestsCommand } from "./manifests/command.js";
import { registerRulesCommand } from "./rules-check/command.js";
import { registerReplayCommand } from "./replay/command.js";
import { registerSimulateCommand } from "./simulate/command.js";

export function buildCli(): Command {
  const program = new Command("prom-hpa")
    .description("Scale Kubernetes HorizontalPodAutoscalers on any metric Prometheus has.")
    .showHelpAfterError()
    .exitOverride();
  registerAdapterCommand(program);
  registerAutoscalerCommand(program);
  registerConformanceCommand(program);
  registerManifestsCommand(program);
  registerRulesCommand(program);
  registerSimulateCommand(program);
  registerReplayCommand(program);
  registerExplainCommand(program);
  return program;
}

/** Parses argv and runs the subcommand; exits non-zero with the error's message on failure. */
export async function runCli(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync([...argv]);
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
