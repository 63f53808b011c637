// `prom-hpa rules check`: how a user debugs a rules file. For each rule, the series it matches,
// the metrics and resources it yields, one rendered query and (with Prometheus) a sample answer;
// rules that match nothing and metric names two rules both claim are flagged. Offline with
// --series-file (one series per line, `name{label="value",…}`).
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { Option } from "commander";
import { defaultConfig, formatIssue, loadConfigFile } from "../adapter/config/index.js";
import type { MetricsDiscoveryConfig } from "../adapter/config/types.js";
import { createPrometheusClient } from "../adapter/prometheus/client.js";
import type { SeriesLabels } from "../adapter/prometheus/schema.js";
import { checkRules, type CheckReport } from "./check.js";
import { formatReport } from "./format.js";
import { builtInMapper } from "./mapper.js";
import { compileMatchers, parseSelector, parseSeriesLine } from "./selector.js";

/** Exit codes: 0 clean, 1 something flagged, 2 bad input (a flag, the config, the series file). */
export const EXIT_FLAGGED = 1;
export const EXIT_BAD_INPUT = 2;

export class InputError extends Error {}

export interface RulesCheckFlags {
  config?: string;
  prometheusUrl?: string;
  seriesFile?: string;
  output: "text" | "json";
}

export interface RulesCheckResult {
  report: CheckReport;
  /** Per rule path: the first samples Prometheus answered for the example query. */
  samples: Map<string, string>;
}

async function readConfig(path: string | undefined): Promise<MetricsDiscoveryConfig> {
  if (path === undefined) return defaultConfig();
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) throw new InputError(loaded.issues.map((i) => `${path}: ${formatIssue(i)}`).join("\n"));
  return loaded.config;
}

/** Series from a file: one per line; blank lines and lines starting with # are skipped. */
export function parseSeriesFile(text: string, file: string): SeriesLabels[] {
  const out: SeriesLabels[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const s = parseSeriesLine(line);
    if (!s.ok) throw new InputError(`${file}:${i + 1}: ${s.message}`);
    out.push(s.value);
  }
  return out;
}

export function offlineSeries(all: readonly SeriesLabels[]): (selector: string) => SeriesLabels[] {
  return (selector) => {
    const parsed = parseSelector(selector);
    if (!parsed.ok) throw new InputError(`seriesQuery ${JSON.stringify(selector)}: ${parsed.message}`);
    const matches = compileMatchers(parsed.value);
    if (!matches.ok) throw new InputError(`seriesQuery ${JSON.stringify(selector)}: ${matches.message}`);
    return all.filter(matches.value);
  };
}

export async function runRulesCheck(flags: RulesCheckFlags): Promise<RulesCheckResult> {
  if ((flags.prometheusUrl === undefined) === (flags.seriesFile === undefined))
    throw new InputError("give exactly one of --prometheus-url and --series-file");
  const config = await readConfig(flags.config);
  const samples = new Map<string, string>();
  if (flags.seriesFile !== undefined) {
    const file = flags.seriesFile;
    const text = await readFile(file, "utf8").catch((err: unknown) => {
      throw new InputError(`--series-file ${file}: ${err instanceof Error ? err.message : String(err)}`);
    });
    return { report: checkRules(config, builtInMapper, offlineSeries(parseSeriesFile(text, file))), samples };
  }
  const url = flags.prometheusUrl as string;
  try {
    new URL(url);
  } catch {
    throw new InputError(`--prometheus-url: not a URL: ${JSON.stringify(url)}`);
  }
  const client = createPrometheusClient({ url, timeoutMs: 10_000 });
  try {
    const selectors = [...config.rules, ...config.externalRules].map((r) => r.seriesQuery.trim());
    const fetched = new Map<string, SeriesLabels[]>();
    for (const sel of new Set(selectors)) {
      const answer = await client.series([sel], { start: new Date(Date.now() - 10 * 60_000) });
      if (!answer.ok) throw new InputError(`series ${JSON.stringify(sel)}: ${answer.error.message}`);
      fetched.set(sel, answer.value);
    }
    const report = checkRules(config, builtInMapper, (sel) => fetched.get(sel) ?? []);
    for (const r of report.rules) {
      if (r.exampleQuery === undefined) continue;
      const answer = await client.query(r.exampleQuery);
      if (!answer.ok) samples.set(r.path, `error: ${answer.error.message}`);
      else if (answer.value.resultType === "vector")
        samples.set(
          r.path,
          answer.value.result.length === 0
            ? "(empty vector)"
            : answer.value.result
                .slice(0, 3)
                .map((s) => `${JSON.stringify(s.metric)} ${s.value}`)
                .join("; "),
        );
      else if (answer.value.resultType === "scalar")
        samples.set(r.path, `scalar ${answer.value.result.value}`);
      else samples.set(r.path, `a ${answer.value.resultType}, not a vector`);
    }
    return { report, samples };
  } finally {
    await client.close();
  }
}

export function registerRulesCommand(program: Command): void {
  const rules = program.command("rules").description("Work with prometheus-adapter rules files");
  rules
    .command("check")
    .description(
      "For each rule: the series it matches, the metrics it yields, one rendered query and a sample answer; " +
        "flags rules that match nothing and metric names two rules claim. Exit 0 clean, 1 flagged, 2 bad input.",
    )
    .option("--config <file>", "the rules file (default: the adapter's default rules)")
    .option("--prometheus-url <url>", "read series (last 10m) and sample answers from this Prometheus")
    .option(
      "--series-file <file>",
      'offline: one series per line, e.g. http_requests_total{namespace="a",pod="p"}',
    )
    .addOption(new Option("-o, --output <format>", "text or json").choices(["text", "json"]).default("text"))
    .action(async (flags: RulesCheckFlags) => {
      try {
        const { report, samples } = await runRulesCheck(flags);
        process.stdout.write(
          flags.output === "json"
            ? JSON.stringify({ ...report, samples: Object.fromEntries(samples) }, null, 2) + "\n"
            : formatReport(report, samples),
        );
        process.exitCode = report.warningCount > 0 ? EXIT_FLAGGED : 0;
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        process.stderr.write(`rules check: ${err.message}\n`);
        process.exitCode = EXIT_BAD_INPUT;
      }
    });
}
