// `tsx loadtest/generator/cli.ts --scenario FILE --target URL [--hpa NS/NAME] ...`
// Runs a load scenario against a loopback service, shows progress, writes timeline.json and
// chart.svg into the report folder, prints a table per phase and, last, the folder's path.
import { KubeConfig } from "@kubernetes/client-node";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { terminalProgress, silentProgress } from "./progress.js";
import { runScenario, TargetRefusedError, type Samplers } from "./runner.js";
import { kubeHpaSamplers } from "./samplers.js";
import { formatIssues, loadScenarioFile } from "./scenario.js";
import { renderSummaryTable } from "./table.js";
import { checkTarget } from "./target.js";

interface CliOptions {
  scenario: string;
  target?: string;
  reportDir?: string;
  allowNonLoopback?: boolean;
  hpa?: { namespace: string; name: string };
  metric?: string;
  kubeconfig?: string;
  progress: boolean;
}

function hpaRef(raw: string): { namespace: string; name: string } {
  const m = /^([a-z0-9-.]+)\/([a-z0-9-.]+)$/.exec(raw);
  if (!m) throw new InvalidArgumentError(`expected NAMESPACE/NAME, got "${raw}"`);
  return { namespace: m[1] ?? "", name: m[2] ?? "" };
}

export function buildCli(): Command {
  return new Command("loadgen")
    .description("Drive a loopback service through a load scenario and record how the HPA follows")
    .requiredOption("--scenario <file>", "scenario YAML (phases: ramp, steady, spike, idle)")
    .option("--target <url>", "base URL under load (default: the scenario's target)")
    .option("--report-dir <dir>", "where timeline.json and chart.svg go (default: reports/loadtest-<time>)")
    .option("--allow-non-loopback", "allow a target that is not localhost/127.0.0.0/8/::1")
    .option("--hpa <namespace/name>", "sample this HPA's status for the metric and replica counts", hpaRef)
    .option("--metric <name>", "which of the HPA's current metrics to record (default: its first)")
    .option("--kubeconfig <file>", "kubeconfig for --hpa (default: $KUBECONFIG or ~/.kube/config)")
    .option("--no-progress", "no progress bar or per-sample lines")
    .exitOverride();
}

async function main(argv: string[]): Promise<number> {
  const cli = buildCli();
  try {
    cli.parse(argv);
  } catch (err: unknown) {
    // Commander has printed the help or the usage error already.
    return err instanceof CommanderError && err.exitCode === 0 ? 0 : 2;
  }
  const opts = cli.opts<CliOptions>();

  const loaded = await loadScenarioFile(opts.scenario);
  if (!loaded.ok) {
    console.error(formatIssues(opts.scenario, loaded.issues));
    return 2;
  }
  const scenario = loaded.scenario;
  const target = opts.target ?? scenario.target;
  if (target === undefined) {
    console.error("--target: no target given and the scenario names none");
    return 2;
  }
  const checked = checkTarget(target, { allowNonLoopback: opts.allowNonLoopback ?? false });
  if (!checked.ok) {
    console.error(checked.message);
    return 2;
  }

  let samplers: Samplers = {};
  if (opts.hpa) {
    const kc = new KubeConfig();
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
    samplers = kubeHpaSamplers(kc, {
      ...opts.hpa,
      ...(opts.metric !== undefined ? { metric: opts.metric } : {}),
    });
  }

  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    console.error("\nstopping (Ctrl-C again to quit at once); writing the report so far");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);

  const reportDir =
    opts.reportDir ?? resolve("reports", `loadtest-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  const metricName = opts.metric ?? (opts.hpa ? `${opts.hpa.name} metric` : "metric");
  try {
    const result = await runScenario({
      target,
      scenario,
      samplers,
      reportDir,
      allowNonLoopback: opts.allowNonLoopback ?? false,
      metricName,
      signal: controller.signal,
      progress: opts.progress ? terminalProgress() : silentProgress,
      onSamplerError: (name, err) =>
        console.error(
          `sampler ${name} failed (recorded as null): ${err instanceof Error ? err.message : String(err)}`,
        ),
    });
    console.log(renderSummaryTable(result.summary, metricName));
    if (result.failedRequests > 0 || result.errorResponses > 0) {
      console.log(
        `${result.failedRequests} requests got no response; ${result.errorResponses} responses had status >= 400`,
      );
    }
    console.log(result.reportDir);
    return result.aborted ? 130 : 0;
  } catch (err: unknown) {
    console.error(
      err instanceof TargetRefusedError
        ? err.message
        : `load generator failed: ${err instanceof Error ? err.stack : String(err)}`,
    );
    return err instanceof TargetRefusedError ? 2 : 1;
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  main(process.argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
