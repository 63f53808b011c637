// Phase scheduling (pure): a scenario becomes a list of constant-rate segments on a time line.
// A ramp is cut into steps of `rampStep` seconds, each at the ramp's rate at the step's middle,
// so the requests sent over the ramp match the straight line from `from` to `to`.
import type { PhaseType, Scenario } from "./scenario.js";

export interface Segment {
  /** Index of the phase this segment belongs to. */
  phase: number;
  phaseName: string;
  type: PhaseType;
  /** Seconds from the start of the scenario. */
  start: number;
  duration: number;
  /** Requests per second (whole, >= 1); `undefined` for unthrottled; 0 for no load. */
  rate: number | undefined;
  connections: number;
  /** The phase's rate as the scenario wrote it, for tables: "1→30", "40", "max", "0". */
  targetRps: string;
}

export function phaseName(scenario: Scenario, index: number): string {
  const p = scenario.phases[index];
  return p?.name ?? `${index + 1}:${p?.type ?? "?"}`;
}

export function planSegments(scenario: Scenario): Segment[] {
  const out: Segment[] = [];
  let t = 0;
  scenario.phases.forEach((p, index) => {
    const name = phaseName(scenario, index);
    if (p.type === "idle") {
      out.push({
        phase: index,
        phaseName: name,
        type: p.type,
        start: t,
        duration: p.duration,
        rate: 0,
        connections: 0,
        targetRps: "0",
      });
    } else if (p.type === "ramp") {
      const steps = Math.max(1, Math.round(p.duration / scenario.rampStep));
      const step = p.duration / steps;
      for (let i = 0; i < steps; i++) {
        const middle = (i + 0.5) / steps;
        const r = p.from + (p.to - p.from) * middle;
        out.push({
          phase: index,
          phaseName: name,
          type: p.type,
          start: t + i * step,
          duration: step,
          rate: wholeRate(r),
          connections: p.connections,
          targetRps: `${p.from}→${p.to}`,
        });
      }
    } else {
      out.push({
        phase: index,
        phaseName: name,
        type: p.type,
        start: t,
        duration: p.duration,
        rate: p.rate === undefined ? undefined : wholeRate(p.rate),
        connections: p.connections,
        targetRps: p.rate === undefined ? "max" : String(p.rate),
      });
    }
    t += p.duration;
  });
  return out;
}

/** autocannon paces whole requests per second; below one per second there is no load. */
function wholeRate(r: number): number {
  return r < 0.5 ? 0 : Math.max(1, Math.round(r));
}

/** The segment running at `t` seconds (the last one once the scenario is over). */
export function segmentAt(segments: readonly Segment[], t: number): Segment | undefined {
  let found: Segment | undefined;
  for (const s of segments) if (s.start <= t) found = s;
  return found;
}
