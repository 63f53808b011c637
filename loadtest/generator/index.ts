// The load generator's programmatic API (the demo and e2e tests use it; cli.ts wraps it).
export { runScenario, TargetRefusedError } from "./runner.js";
export type { RunScenarioOptions, RunScenarioResult, Samplers, ReplicaCounts } from "./runner.js";
export {
  parseScenario,
  loadScenarioFile,
  validateScenario,
  formatIssues,
  parseDuration,
  scenarioDuration,
} from "./scenario.js";
export type { Scenario, Phase, PhaseType, ScenarioIssue, ScenarioResult } from "./scenario.js";
export { planSegments } from "./schedule.js";
export type { Segment } from "./schedule.js";
export { checkTarget, isLoopbackHost } from "./target.js";
export { renderChartSvg } from "./chart.js";
export { renderTimelineJson, summarize, phaseSpans } from "./timeline.js";
export type { Sample, Timeline, PhaseSpan, PhaseSummary } from "./timeline.js";
export { renderSummaryTable } from "./table.js";
export { terminalProgress, lineProgress, silentProgress } from "./progress.js";
export type { ProgressReporter } from "./progress.js";
export { hpaStatusSamplers, kubeHpaSamplers, metricValue, pickMetric } from "./samplers.js";
export { systemClock } from "./clock.js";
export type { Clock } from "./clock.js";
export { autocannonDriver } from "./driver.js";
export type { LoadDriver, LoadHandle } from "./driver.js";
