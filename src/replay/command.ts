// `prom-hpa replay`: recorded Prometheus data through one or more candidate HPAs.
import { readFile, writeFile } from "node:fs/promises";
import { CommanderError, Option, type Command } from "commander";
import { parse as parseYaml } from "yaml";
import {
  defaultConfig,
  formatIssue,
  loadConfigFile,
  type MetricsDiscoveryConfig,
} from "../adapter/config/index.js";
import { createPrometheusClient } from "../adapter/prometheus/client.js";
import { prometheusOptionsFromFlags } from "../adapter/prometheus/flags.js";
import { parseDurationField } from "../kube/duration.js";
import {
  horizontalPodAutoscalerSchema,
  resourceListSchema,
  type HorizontalPodAutoscaler,
  type ResourceList,
} from "../kube/objects.js";
import { resolveSettings, type SettingsText } from "../simulate/scenario.js";
import { EXIT_BAD_INPUT, withSettingsOptions } from "../simulate/command.js";
import { renderReplayTable, replayJson, type ReplayReport } from "./format.js";
import { readRecording, ReplayReadError } from "./read.js";
import { replayCandidate, type LoadModel } from "./replay.js";
import { replaySvg } from "./svg.js";

interface ReplayFlags extends SettingsText {
  prometheusUrl: string;
  config?: string;
  hpa: string[];
  since: string;
  step: string;
  until?: string;
  model: LoadModel;
  output: "text" | "json";
  svg?: string;
  readyAfter: string;
  podRequests?: string;
}

class BadInput extends Error {}

async function readHpa(file: string): Promise<HorizontalPodAutoscaler> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new BadInput(
      `${file}: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  const parsed = horizontalPodAutoscalerSchema.safeParse(parseYaml(text));
  if (!parsed.success)
    throw new BadInput(
      `${file}: not an autoscaling/v2 HorizontalPodAutoscaler: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

function parseRequests(text: string | undefined): ResourceList {
  if (text === undefined) return {};
  const entries = text.split(",").map((kv) => kv.split("=").map((x) => x.trim()));
  const parsed = resourceListSchema.safeParse(Object.fromEntries(entries));
  if (!parsed.success || entries.some((e) => e.length !== 2))
    throw new BadInput(`--pod-requests: "${text}" is not a list like cpu=500m,memory=256Mi`);
  return parsed.data;
}

async function loadRules(file: string | undefined): Promise<MetricsDiscoveryConfig> {
  if (file === undefined) return defaultConfig();
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) throw new BadInput(`${file}: ${loaded.issues.map(formatIssue).join("; ")}`);
  return loaded.config;
}

async function run(flags: ReplayFlags): Promise<void> {
  const config = await loadRules(flags.config);
  const hpas = await Promise.all(flags.hpa.map(readHpa));
  const requests = parseRequests(flags.podRequests);
  const usesUtilization = hpas.some((h) =>
    (h.spec.metrics ?? []).some((m) => (m.resource ?? m.containerResource)?.target.type === "Utilization"),
  );
  if (usesUtilization && Object.keys(requests).length === 0)
    throw new BadInput("a Utilization target needs the pods' requests: --pod-requests cpu=500m");
  let settings;
  let window;
  try {
    settings = resolveSettings({}, flags);
    const endMs = flags.until !== undefined ? Date.parse(flags.until) : Date.now();
    if (Number.isNaN(endMs)) throw new Error(`--until: "${flags.until ?? ""}" is not an RFC 3339 time`);
    window = {
      startMs: endMs - parseDurationField(flags.since, "--since"),
      endMs,
      stepMs: parseDurationField(flags.step, "--step"),
    };
  } catch (err) {
    throw new BadInput(err instanceof Error ? err.message : String(err));
  }
  const prometheus = await prometheusOptionsFromFlags({ url: flags.prometheusUrl });
  if (!prometheus.ok) throw new BadInput(prometheus.message);
  const client = createPrometheusClient(prometheus.options);
  try {
    const candidates = [];
    let recording;
    for (const [i, hpa] of hpas.entries()) {
      const rec = await readRecording(client, config, hpa, window);
      recording ??= rec;
      const name =
        hpas.length > 1
          ? `${flags.hpa[i] ?? ""}`
          : `${hpa.metadata.namespace ?? "default"}/${hpa.metadata.name}`;
      candidates.push(
        replayCandidate(name, rec, hpa, {
          model: flags.model,
          settings,
          readyAfterMs: parseDurationField(flags.readyAfter, "--ready-after"),
          requests,
        }),
      );
    }
    if (!recording) return;
    const report: ReplayReport = {
      recording,
      model: flags.model,
      syncPeriodMs: settings.syncPeriodMs,
      candidates,
    };
    if (flags.svg !== undefined) await writeFile(flags.svg, replaySvg(report));
    process.stdout.write(
      flags.output === "json"
        ? `${JSON.stringify(replayJson(report), null, 2)}\n`
        : `${renderReplayTable(report)}\n`,
    );
  } finally {
    await client.close();
  }
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerReplayCommand(program: Command): void {
  const cmd = program
    .command("replay")
    .description(
      "replay recorded Prometheus data through candidate HPAs, sync by sync, with the autoscaler's algorithm",
    )
    .requiredOption("--prometheus-url <url>", "the Prometheus the adapter reads")
    .option("--config <file>", "the adapter's rules config (default: the adapter's default rules)")
    .requiredOption(
      "--hpa <file>",
      "a candidate HorizontalPodAutoscaler (YAML); repeat to compare several",
      collect,
    )
    .option("--since <duration>", "how far back the window starts", "24h")
    .option("--until <time>", "the window's end, RFC 3339 (default: now)")
    .option("--step <duration>", "the resolution of the recorded data", "30s")
    .addOption(new Option("--model <model>", "load model").choices(["demand", "per-pod"]).default("demand"))
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .option("--svg <file>", "also write an SVG chart of recorded vs simulated replicas and the metric")
    .option("--ready-after <duration>", "how long a new simulated pod stays not Ready", "0s")
    .option(
      "--pod-requests <list>",
      "each pod's requests, for Utilization targets, e.g. cpu=500m,memory=256Mi",
    )
    .option("--sync-period <duration>", "how often the HPA is synced (default 15s)");
  withSettingsOptions(cmd)
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(EXIT_BAD_INPUT, err.code, err.message);
    })
    .action(async (flags: ReplayFlags) => {
      try {
        await run(flags);
      } catch (err: unknown) {
        if (!(err instanceof BadInput) && !(err instanceof ReplayReadError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = err instanceof BadInput ? EXIT_BAD_INPUT : 1;
      }
    });
}
