import type { Command } from "commander";

export function registerAutoscalerCommand(program: Command): void {
  program
    .command("autoscaler")
    .description("run the HPA control loop on autoscaling/v2 HorizontalPodAutoscalers")
    .action(() => {
      throw new Error("prom-hpa autoscaler: not built yet");
    });
}
