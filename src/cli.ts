#!/usr/bin/env node
// One entry point: `prom-hpa <subcommand>`. Each program registers its own subcommand so
// this file stays a table of contents.
import { Command, CommanderError } from "commander";
import { registerAdapterCommand } from "./adapter/command.js";
import { registerAutoscalerCommand } from "./autoscaler/command.js";
import { registerConformanceCommand } from "./conformance/command.js";
import { registerManifestsCommand } from "./rbac/command.js";

export function buildCli(): Command {
  const program = new Command("prom-hpa")
    .description("Scale Kubernetes HorizontalPodAutoscalers on any metric Prometheus has.")
    .showHelpAfterError()
    .exitOverride();
  registerAdapterCommand(program);
  registerAutoscalerCommand(program);
  registerConformanceCommand(program);
  registerManifestsCommand(program);
  return program;
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/").split("/").pop() ?? "");
if (isMain) {
  buildCli()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      if (err instanceof CommanderError) process.exit(err.exitCode);
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
