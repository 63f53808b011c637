// Where one request's time went, answered in a `Server-Timing` header (W3C Server Timing) on
// metric requests: the whole time in the adapter up to the response, and the part of it spent
// waiting on Prometheus. `curl -v` shows it; the benchmark reads it instead of scraping /metrics
// between requests (which would add its own work to the process it measures).
import type { BackendWaitTimer } from "../provider.js";

export class RequestTiming implements BackendWaitTimer {
  private waiting = 0;
  private since = 0;
  private waitedMs = 0;

  constructor(
    private readonly startedAt: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  // Overlapping waits (a PodMetrics request's CPU and memory queries) count once.
  start(): void {
    if (this.waiting++ === 0) this.since = this.clock();
  }

  stop(): void {
    if (this.waiting === 0) return;
    if (--this.waiting === 0) this.waitedMs += this.clock() - this.since;
  }

  /** Milliseconds spent waiting on Prometheus so far (a wait still running counts up to now). */
  prometheusMs(): number {
    return this.waiting > 0 ? this.waitedMs + (this.clock() - this.since) : this.waitedMs;
  }

  /** `total;dur=2.104, prometheus;dur=1.532`: milliseconds, as Server-Timing writes durations. */
  header(): string {
    const total = this.clock() - this.startedAt;
    return `total;dur=${total.toFixed(3)}, prometheus;dur=${this.prometheusMs().toFixed(3)}`;
  }
}
