import type { Command } from "commander";

export function registerConformanceCommand(program: Command): void {
  program
    .command("conformance")
    .description("run upstream HPA test vectors through the algorithm")
    .action(() => {
      throw new Error("prom-hpa conformance: not built yet");
    });
}
