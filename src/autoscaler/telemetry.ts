// The autoscaler's own Prometheus metrics, on a registry of its own so that several instances
// in one process (tests, the demo) do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Telemetry {
  readonly registry = new Registry();
  readonly syncs: Counter<"result">;
  readonly syncDuration: Histogram;
  readonly errors: Counter<"reason">;
  readonly desiredReplicas: Gauge<"namespace" | "name">;
  readonly currentReplicas: Gauge<"namespace" | "name">;
  readonly decisions: Counter<"direction" | "reason">;
  readonly queueDepth: Gauge;
  readonly hpas: Gauge;
  readonly leader: Gauge;

  constructor(opts: { dryRun: boolean; defaultMetrics?: boolean }) {
    this.registry.setDefaultLabels({ mode: opts.dryRun ? "dry-run" : "active" });
    const registers = [this.registry];
    this.syncs = new Counter({
      name: "prom_hpa_autoscaler_syncs_total",
      help: "HPA syncs, by result",
      labelNames: ["result"],
      registers,
    });
    this.syncDuration = new Histogram({
      name: "prom_hpa_autoscaler_sync_duration_seconds",
      help: "time to sync one HPA",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.errors = new Counter({
      name: "prom_hpa_autoscaler_errors_total",
      help: "sync errors, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.desiredReplicas = new Gauge({
      name: "prom_hpa_autoscaler_desired_replicas",
      help: "the replica count the last sync chose (or would choose, in dry-run)",
      labelNames: ["namespace", "name"],
      registers,
    });
    this.currentReplicas = new Gauge({
      name: "prom_hpa_autoscaler_current_replicas",
      help: "the target's replica count seen by the last sync",
      labelNames: ["namespace", "name"],
      registers,
    });
    this.decisions = new Counter({
      name: "prom_hpa_autoscaler_decisions_total",
      help: "sync decisions: direction up/down/none and the reason",
      labelNames: ["direction", "reason"],
      registers,
    });
    this.queueDepth = new Gauge({
      name: "prom_hpa_autoscaler_queue_depth",
      help: "HPAs due for a sync and not yet started",
      registers,
    });
    this.hpas = new Gauge({ name: "prom_hpa_autoscaler_hpas", help: "HPAs this autoscaler owns", registers });
    this.leader = new Gauge({
      name: "prom_hpa_autoscaler_is_leader",
      help: "1 when this replica is the leader (or leader election is off)",
      registers,
    });
    if (opts.defaultMetrics === true)
      collectDefaultMetrics({ register: this.registry, prefix: "prom_hpa_autoscaler_" });
  }

  forgetHpa(namespace: string, name: string): void {
    this.desiredReplicas.remove({ namespace, name });
    this.currentReplicas.remove({ namespace, name });
  }
}
