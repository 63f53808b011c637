// What the user sees while a scenario runs: a progress bar on a terminal, one line per sample
// otherwise (CI logs, pipes).
import ProgressBar from "progress";
import { formatSeconds } from "./chart.js";
import type { Segment } from "./schedule.js";
import type { Sample } from "./timeline.js";

export interface ProgressReporter {
  start(totalSeconds: number): void;
  /** After every sample. */
  update(sample: Sample, segment: Segment | undefined): void;
  finish(): void;
}

const fmt = (v: number | null, digits = 3): string =>
  v === null ? "-" : String(Number(v.toPrecision(digits)));

function describe(sample: Sample, segment: Segment | undefined): Record<string, string> {
  return {
    phase: segment?.phaseName ?? "-",
    rps: sample.rps.toFixed(1),
    metric: fmt(sample.metric),
    replicas: `${fmt(sample.currentReplicas)}→${fmt(sample.desiredReplicas)}`,
  };
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY) return lineProgress((line) => stream.write(`${line}\n`));
  let bar: ProgressBar | undefined;
  let total = 0;
  return {
    start(totalSeconds) {
      total = Math.max(1, Math.round(totalSeconds));
      bar = new ProgressBar(
        ":bar :percent :elapsed_/:total_ :phase  rps :rps  metric :metric  replicas :replicas",
        {
          total,
          width: 30,
          stream,
          renderThrottle: 200,
          clear: false,
        },
      );
    },
    update(sample, segment) {
      if (!bar) return;
      const target = Math.min(total, Math.round(sample.t));
      const tokens = {
        ...describe(sample, segment),
        elapsed_: formatSeconds(sample.t),
        total_: formatSeconds(total),
      };
      bar.tick(Math.max(0, target - bar.curr), tokens);
    },
    finish() {
      if (bar && !bar.complete) bar.terminate();
    },
  };
}

/** One line per sample, for logs. */
export function lineProgress(write: (line: string) => void): ProgressReporter {
  let total = 0;
  return {
    start(totalSeconds) {
      total = totalSeconds;
    },
    update(sample, segment) {
      const d = describe(sample, segment);
      write(
        `[${formatSeconds(sample.t)}/${formatSeconds(total)}] ${d.phase}  rps ${d.rps}  metric ${d.metric}  replicas ${d.replicas}`,
      );
    },
    finish() {},
  };
}

export const silentProgress: ProgressReporter = { start() {}, update() {}, finish() {} };
