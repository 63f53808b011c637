import type { Command } from "commander";

export function registerAdapterCommand(program: Command): void {
  program
    .command("adapter")
    .description("serve the custom, external and resource metrics APIs from Prometheus")
    .action(() => {
      throw new Error("prom-hpa adapter: not built yet");
    });
}
