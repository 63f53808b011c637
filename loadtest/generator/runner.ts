// Runs a scenario: sends each segment's load, samples load, the metric the HPA sees and the
// replica counts every sampleInterval, and writes timeline.json and chart.svg at the end.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { renderChartSvg } from "./chart.js";
import { systemClock, type Clock } from "./clock.js";
import { autocannonDriver, type LoadDriver, type LoadHandle } from "./driver.js";
import { silentProgress, type ProgressReporter } from "./progress.js";
import { scenarioDuration, type Scenario } from "./scenario.js";
import { planSegments, segmentAt, type Segment } from "./schedule.js";
import { checkTarget } from "./target.js";
import {
  phaseSpans,
  renderTimelineJson,
  summarize,
  type PhaseSummary,
  type Sample,
  type Timeline,
} from "./timeline.js";

export interface ReplicaCounts {
  current: number | null;
  desired: number | null;
}

/** How the runner learns what the autoscaler sees; each is optional and may fail (→ null). */
export interface Samplers {
  /** The metric the HPA scales on, in its own unit. */
  metric?: () => Promise<number | null>;
  replicas?: () => Promise<ReplicaCounts>;
  /** Replaces the built-in load measure (responses per second seen by the driver). */
  rps?: (sinceLastSampleSeconds: number) => Promise<number>;
}

export interface RunScenarioOptions {
  /** Base URL of the service under load; must be loopback unless allowNonLoopback. */
  target: string;
  scenario: Scenario;
  samplers?: Samplers;
  /** Folder for timeline.json and chart.svg (created if missing). */
  reportDir: string;
  allowNonLoopback?: boolean;
  /** Axis title of the metric (e.g. "pods/cpu_system"), recorded in the timeline. */
  metricName?: string;
  /** Stops the run early (Ctrl-C); the report is still written. */
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** Called once per sampler that fails, with the first error (later ones are the same story). */
  onSamplerError?: (sampler: keyof Samplers, error: unknown) => void;
  clock?: Clock;
  driver?: LoadDriver;
  /** A sampler slower than this counts as failed for that sample. */
  samplerTimeoutMs?: number;
}

export interface RunScenarioResult {
  reportDir: string;
  timelineFile: string;
  chartFile: string;
  timeline: Timeline;
  summary: PhaseSummary[];
  segments: Segment[];
  aborted: boolean;
  /** Requests that got no response, and responses with status >= 400. */
  failedRequests: number;
  errorResponses: number;
}

export class TargetRefusedError extends Error {
  override name = "TargetRefusedError";
}

export async function runScenario(options: RunScenarioOptions): Promise<RunScenarioResult> {
  const checked = checkTarget(options.target, { allowNonLoopback: options.allowNonLoopback ?? false });
  if (!checked.ok) throw new TargetRefusedError(checked.message);
  const url = new URL(options.scenario.path, checked.url);

  const clock = options.clock ?? systemClock;
  const driver = options.driver ?? autocannonDriver(url);
  const progress = options.progress ?? silentProgress;
  const samplers = options.samplers ?? {};
  const timeoutMs = options.samplerTimeoutMs ?? 5_000;
  const reported = new Set<string>();
  const failedOnce = (name: keyof Samplers, err: unknown): null => {
    if (!reported.has(name)) {
      reported.add(name);
      options.onSamplerError?.(name, err);
    }
    return null;
  };

  const segments = planSegments(options.scenario);
  const total = scenarioDuration(options.scenario);
  const interval = options.scenario.sampleInterval;
  const samples: Sample[] = [];
  const t0 = clock.now();
  const elapsed = (): number => (clock.now() - t0) / 1000;
  let lastCount = driver.completedRequests();
  let lastT = 0;

  const takeSample = async (): Promise<void> => {
    const t = elapsed();
    const dt = t - lastT;
    const count = driver.completedRequests();
    const [rps, metric, replicas] = await Promise.all([
      samplers.rps
        ? withTimeout(samplers.rps(dt), timeoutMs).catch((e: unknown) => failedOnce("rps", e) ?? 0)
        : Promise.resolve(dt > 0 ? (count - lastCount) / dt : 0),
      samplers.metric
        ? withTimeout(samplers.metric(), timeoutMs).catch((e: unknown) => failedOnce("metric", e))
        : Promise.resolve(null),
      samplers.replicas
        ? withTimeout(samplers.replicas(), timeoutMs).catch((e: unknown) => failedOnce("replicas", e))
        : Promise.resolve(null),
    ]);
    lastCount = count;
    lastT = t;
    const sample: Sample = {
      t,
      rps,
      metric,
      currentReplicas: replicas?.current ?? null,
      desiredReplicas: replicas?.desired ?? null,
    };
    samples.push(sample);
    // The sample describes the interval that just ended: name the segment in its middle.
    progress.update(sample, segmentAt(segments, Math.min((t + t - dt) / 2, total - 1e-9)));
  };

  progress.start(total);
  let aborted = false;
  let handle: LoadHandle | undefined;
  // autocannon winds down within about a second of stop(); the next segment starts meanwhile.
  const stopping: Array<Promise<void>> = [];
  try {
    await takeSample();
    let nextSample = interval;
    for (const segment of segments) {
      if (options.signal?.aborted) break;
      handle = segment.rate === 0 ? undefined : driver.start(segment);
      const end = segment.start + segment.duration;
      // Sample on the interval grid while this segment runs; the segment's end is its own event.
      while (!options.signal?.aborted) {
        const next = Math.min(nextSample, end);
        await clock.sleep((next - elapsed()) * 1000, options.signal);
        if (options.signal?.aborted) break;
        if (next === nextSample) {
          await takeSample();
          nextSample += interval;
        }
        if (next === end) break;
      }
      if (handle) stopping.push(handle.stop());
      handle = undefined;
    }
    aborted = options.signal?.aborted ?? false;
    // A last sample at the very end, unless one was just taken there.
    const last = samples[samples.length - 1];
    if (last === undefined || elapsed() - last.t > 0.5) await takeSample();
  } finally {
    if (handle) stopping.push(handle.stop());
    await Promise.all(stopping);
    progress.finish();
  }

  const timeline: Timeline = {
    samples,
    phases: phaseSpans(segments),
    ...(options.metricName !== undefined ? { metricName: options.metricName } : {}),
  };
  const reportDir = resolve(options.reportDir);
  await mkdir(reportDir, { recursive: true });
  const timelineFile = join(reportDir, "timeline.json");
  const chartFile = join(reportDir, "chart.svg");
  await writeFile(timelineFile, renderTimelineJson(timeline));
  await writeFile(
    chartFile,
    renderChartSvg(timeline, {
      title: `${options.scenario.name}: load vs ${options.metricName ?? "metric"} vs replicas`,
    }),
  );
  return {
    reportDir,
    timelineFile,
    chartFile,
    timeline,
    summary: summarize(timeline),
    segments,
    aborted,
    failedRequests: driver.failedRequests(),
    errorResponses: driver.errorResponses(),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
