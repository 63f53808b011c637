import type { Command } from "commander";

export function registerManifestsCommand(program: Command): void {
  program
    .command("manifests")
    .description("render RBAC and install manifests into manifests/")
    .action(() => {
      throw new Error("prom-hpa manifests: not built yet");
    });
}
