// An SVG chart of a run (pure): three panels over one time axis, load (req/s), the metric the
// HPA sees, and current/desired replicas, with the scenario's phases shaded behind them. The load
// test draws its runs with it (loadtest/generator), `prom-hpa replay` its candidates.

/** One point of the chart (the load test's timeline sample). */
export interface Sample {
  /** Seconds since the start. */
  t: number;
  rps: number;
  metric: number | null;
  currentReplicas: number | null;
  desiredReplicas: number | null;
}

/** A shaded span behind the panels. */
export interface PhaseSpan {
  name: string;
  start: number;
  end: number;
}

export interface Timeline {
  samples: Sample[];
  phases: PhaseSpan[];
  metricName?: string;
}

const WIDTH = 960;
const MARGIN = { left: 70, right: 24, top: 44, bottom: 44 };
const PANEL_HEIGHT = 150;
const PANEL_GAP = 34;
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;

const COLORS = {
  rps: "#1f77b4",
  metric: "#d62728",
  current: "#2ca02c",
  desired: "#9467bd",
  grid: "#e0e0e0",
  text: "#333333",
  phases: ["#f4f4f4", "#e9eef6"],
};

/** The smallest 1, 2 or 5 × 10^k that is at least `x` (and > 0). */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const exp = Math.floor(Math.log10(x));
  const base = 10 ** exp;
  for (const m of [1, 2, 5, 10]) if (m * base >= x - 1e-12) return m * base;
  return 10 * base;
}

/** A tick spacing a clock reads well (5s, 10s, 30s, 1m, 2m, 5m, …), at least `x` seconds. */
export function timeStep(x: number): number {
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]) if (s >= x) return s;
  return niceCeil(x / 3600) * 3600;
}

export interface ChartOptions {
  title?: string;
  /** Axis title of the metric panel, e.g. "pods/cpu_system". */
  metricName?: string;
  /** Axis title of the load panel (default "load (req/s)"). */
  loadName?: string;
  /** Names of the two replica lines (default "current replicas", "desired replicas"). */
  currentName?: string;
  desiredName?: string;
}

export function renderChartSvg(timeline: Timeline, options: ChartOptions = {}): string {
  const { samples, phases } = timeline;
  const tEnd = Math.max(1, ...samples.map((s) => s.t), ...phases.map((p) => p.end));
  const x = (t: number): number => MARGIN.left + (t / tEnd) * PLOT_WIDTH;
  const height = MARGIN.top + 3 * PANEL_HEIGHT + 2 * PANEL_GAP + MARGIN.bottom;
  const title = options.title ?? "load vs metric vs replicas";
  const metricName = options.metricName ?? timeline.metricName ?? "metric";

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(text(WIDTH / 2, 20, title, { anchor: "middle", size: 15, weight: "bold" }));

  const panelTop = (i: number): number => MARGIN.top + i * (PANEL_HEIGHT + PANEL_GAP);
  const totalHeight = 3 * PANEL_HEIGHT + 2 * PANEL_GAP;
  out.push(...phaseBands(phases, x, MARGIN.top, totalHeight));

  const rpsMax = niceCeil(Math.max(0, ...samples.map((s) => s.rps)));
  const metricValues = samples.map((s) => s.metric).filter((m): m is number => m !== null);
  const metricMax = niceCeil(Math.max(0, ...metricValues));
  const replicaValues = samples
    .flatMap((s) => [s.currentReplicas, s.desiredReplicas])
    .filter((r): r is number => r !== null);
  const replicasMax = Math.max(1, Math.ceil(Math.max(0, ...replicaValues)));

  const panels: Array<{ label: string; max: number; integer: boolean; series: Series[] }> = [
    {
      label: options.loadName ?? "load (req/s)",
      max: rpsMax,
      integer: false,
      series: [{ name: "load", color: COLORS.rps, pick: (s) => s.rps, step: false }],
    },
    {
      label: metricName,
      max: metricMax,
      integer: false,
      series: [{ name: metricName, color: COLORS.metric, pick: (s) => s.metric, step: false }],
    },
    {
      label: "replicas",
      max: replicasMax,
      integer: true,
      series: [
        {
          name: options.currentName ?? "current replicas",
          color: COLORS.current,
          pick: (s) => s.currentReplicas,
          step: true,
        },
        {
          name: options.desiredName ?? "desired replicas",
          color: COLORS.desired,
          pick: (s) => s.desiredReplicas,
          step: true,
          dashed: true,
        },
      ],
    },
  ];

  panels.forEach((panel, i) => {
    const top = panelTop(i);
    const y = (v: number): number => top + PANEL_HEIGHT - (v / panel.max) * PANEL_HEIGHT;
    out.push(...axes(panel.label, panel.max, panel.integer, top, y));
    for (const s of panel.series) out.push(...seriesPath(samples, s, x, y));
    out.push(...legend(panel.series, top));
  });

  // Time axis under the last panel.
  const bottom = panelTop(2) + PANEL_HEIGHT;
  const step = timeStep(tEnd / 8);
  for (let t = 0; t <= tEnd + 1e-9; t += step) {
    out.push(line(x(t), bottom, x(t), bottom + 4, COLORS.text));
    out.push(text(x(t), bottom + 17, formatSeconds(t), { anchor: "middle" }));
  }
  out.push(text(MARGIN.left + PLOT_WIDTH / 2, bottom + 36, "time since start", { anchor: "middle" }));
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

interface Series {
  name: string;
  color: string;
  pick: (s: Sample) => number | null;
  step: boolean;
  dashed?: boolean;
}

function phaseBands(
  phases: readonly PhaseSpan[],
  x: (t: number) => number,
  top: number,
  height: number,
): string[] {
  return phases.flatMap((p, i) => [
    `<rect x="${f(x(p.start))}" y="${top}" width="${f(x(p.end) - x(p.start))}" height="${height}" fill="${COLORS.phases[i % 2]}"/>`,
    text(x((p.start + p.end) / 2), top - 6, p.name, { anchor: "middle", size: 11 }),
  ]);
}

function axes(label: string, max: number, integer: boolean, top: number, y: (v: number) => number): string[] {
  const out: string[] = [];
  const ticks = integer ? integerTicks(max) : [0, max / 4, max / 2, (3 * max) / 4, max];
  for (const v of ticks) {
    out.push(line(MARGIN.left, y(v), MARGIN.left + PLOT_WIDTH, y(v), COLORS.grid));
    out.push(text(MARGIN.left - 6, y(v) + 4, formatValue(v), { anchor: "end", size: 11 }));
  }
  out.push(line(MARGIN.left, top, MARGIN.left, top + PANEL_HEIGHT, COLORS.text));
  out.push(line(MARGIN.left, top + PANEL_HEIGHT, MARGIN.left + PLOT_WIDTH, top + PANEL_HEIGHT, COLORS.text));
  out.push(
    `<text x="16" y="${f(top + PANEL_HEIGHT / 2)}" transform="rotate(-90 16 ${f(top + PANEL_HEIGHT / 2)})" text-anchor="middle" fill="${COLORS.text}">${escapeXml(label)}</text>`,
  );
  return out;
}

function integerTicks(max: number): number[] {
  const step = Math.max(1, Math.ceil(max / 5));
  const ticks: number[] = [];
  for (let v = 0; v <= max; v += step) ticks.push(v);
  if (ticks[ticks.length - 1] !== max) ticks.push(max);
  return ticks;
}

/** Lines over consecutive known values; a null value breaks the line. */
function seriesPath(
  samples: readonly Sample[],
  s: Series,
  x: (t: number) => number,
  y: (v: number) => number,
): string[] {
  const runs: string[] = [];
  let d = "";
  let prev: number | null = null;
  for (const sample of samples) {
    const v = s.pick(sample);
    if (v === null) {
      if (d !== "") runs.push(d);
      d = "";
      prev = null;
      continue;
    }
    if (d === "") d = `M${f(x(sample.t))},${f(y(v))}`;
    else if (s.step && prev !== null) d += ` H${f(x(sample.t))} V${f(y(v))}`;
    else d += ` L${f(x(sample.t))},${f(y(v))}`;
    prev = v;
  }
  if (d !== "") runs.push(d);
  return runs.map(
    (path) =>
      `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}><title>${escapeXml(s.name)}</title></path>`,
  );
}

function legend(series: readonly Series[], top: number): string[] {
  let xPos = MARGIN.left + PLOT_WIDTH - 10;
  const out: string[] = [];
  for (const s of [...series].reverse()) {
    const width = 34 + s.name.length * 6.5;
    xPos -= width;
    out.push(
      `<line x1="${f(xPos)}" y1="${top + 12}" x2="${f(xPos + 22)}" y2="${top + 12}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
    );
    out.push(text(xPos + 26, top + 16, s.name, { size: 11 }));
  }
  return out;
}

function line(x1: number, y1: number, x2: number, y2: number, color: string): string {
  return `<line x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}" stroke="${color}" stroke-width="1"/>`;
}

function text(
  xPos: number,
  yPos: number,
  content: string,
  o: { anchor?: "start" | "middle" | "end"; size?: number; weight?: string } = {},
): string {
  return `<text x="${f(xPos)}" y="${f(yPos)}"${o.anchor && o.anchor !== "start" ? ` text-anchor="${o.anchor}"` : ""}${o.size ? ` font-size="${o.size}"` : ""}${o.weight ? ` font-weight="${o.weight}"` : ""} fill="${COLORS.text}">${escapeXml(content)}</text>`;
}

export function formatSeconds(t: number): string {
  const s = Math.round(t);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  return rest === 0 ? `${m}m` : `${m}m${rest}s`;
}

function formatValue(v: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) >= 100) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

function f(n: number): string {
  return String(Math.round(n * 10) / 10);
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
