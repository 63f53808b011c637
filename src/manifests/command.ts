// `prom-hpa manifests`: render manifests/ from code, check it, or make a TLS overlay.
import { InvalidArgumentError, type Command } from "commander";
import { diffManifests, writeManifests } from "./render.js";
import { writeTlsOverlay } from "./tls.js";

export function registerManifestsCommand(program: Command): void {
  const manifests = program
    .command("manifests")
    .description("render RBAC and install manifests into manifests/ (or check them with --check)")
    .option("--out <dir>", "folder to render into", "manifests")
    .option("--check", "render nothing; exit 1 naming every file that differs from what the code renders")
    .action(async (opts: { out: string; check?: boolean }) => {
      if (opts.check) {
        const diffs = await diffManifests(opts.out);
        if (diffs.length > 0) {
          const lines = diffs.map((d) => `  ${opts.out}/${d.path}: ${d.problem}`);
          console.error(
            `${diffs.length} file${diffs.length === 1 ? " differs" : "s differ"} in ${opts.out}/ from what the code renders:\n${lines.join("\n")}\nRun \`npm run manifests\` and commit the result.`,
          );
          process.exitCode = 1;
          return;
        }
        console.log(`${opts.out}/ is up to date`);
        return;
      }
      const written = await writeManifests(opts.out);
      console.log(`rendered ${written.length} files into ${opts.out}/`);
    });

  manifests
    .command("tls")
    .description(
      "generate a CA, the adapter's serving pair and a kustomize overlay setting the APIServices' caBundle",
    )
    // Not --out: the parent `manifests` command owns that option name.
    .requiredOption("--overlay <dir>", "overlay folder to write (holds a private key: keep it out of git)")
    .option("--base <dir>", "the install manifests the overlay builds on", "manifests")
    .option("--service <name>", "Service the aggregator dials", "prom-hpa-adapter")
    .option("--namespace <ns>", "namespace of that Service", "prom-hpa")
    .option(
      "--days <n>",
      "validity in days",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0)
          throw new InvalidArgumentError("expected a positive whole number of days");
        return n;
      },
      365,
    )
    .action(
      async (opts: { overlay: string; base: string; service: string; namespace: string; days: number }) => {
        const files = await writeTlsOverlay(opts.overlay, opts.base, {
          serviceName: opts.service,
          namespace: opts.namespace,
          validDays: opts.days,
        });
        console.log(`wrote ${files.join(", ")}\napply with: kubectl apply -k ${opts.overlay}`);
      },
    );
}
