import type { Command } from "commander";
import { runFiles } from "./runner.js";

export function registerConformanceCommand(program: Command): void {
  program
    .command("conformance")
    .description(
      "run conformance vector files (../shared/conformance format) through the algorithm and quantity code",
    )
    .argument("<files...>", "vector files")
    .option("--by-kind", "print passed/failed per kind before the total")
    .action(async (files: string[], opts: { byKind?: boolean }) => {
      const summary = await runFiles(files);
      for (const f of summary.failures) {
        console.log(`FAIL ${f.file} :: ${f.name}\n  expected: ${f.expected}\n  got:      ${f.got}`);
      }
      if (opts.byKind) {
        for (const [kind, t] of Object.entries(summary.byKind))
          console.log(`${kind}: ${t.passed} passed, ${t.failed} failed`);
      }
      console.log(`${summary.passed} passed, ${summary.failed} failed`);
      if (summary.failed > 0) process.exitCode = 1;
    });
}
