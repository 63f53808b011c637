// core/v1 Events about HPAs, written as kube-controller-manager's event recorder writes them:
// source component "horizontal-pod-autoscaler", the HPA as involvedObject, and repeats of the
// same (type, reason, message) folded into one Event whose count and lastTimestamp go up.
// Writes are asynchronous and bounded; a failed write is logged and never fails a sync.
import type { Logger } from "../../log/logger.js";
import type { ControllerEvent } from "../algorithm/index.js";
import type { Clock } from "../controller/clock.js";
import type { EventObjectRef, EventRecorder } from "../controller/ports.js";
import { seg, type KubeApi } from "../../kube/client.js";
import { isNotFound, orThrow } from "../../kube/errors.js";

export const EVENT_SOURCE_COMPONENT = "horizontal-pod-autoscaler";

interface Seen {
  name: string;
  count: number;
  firstTimestamp: string;
}

export interface KubeEventRecorderOptions {
  component?: string;
  /** distinct (object, type, reason, message) keys remembered for aggregation */
  cacheSize?: number;
  /** parallel Event writes */
  concurrency?: number;
  /** Events waiting beyond this are dropped (and logged) */
  maxBacklog?: number;
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export class KubeEventRecorder implements EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly backlog: (() => Promise<void>)[] = [];
  private running = 0;
  private seq = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly component: string;
  private readonly cacheSize: number;
  private readonly concurrency: number;
  private readonly maxBacklog: number;

  constructor(
    private readonly http: KubeApi,
    private readonly clock: Clock,
    private readonly log: Logger,
    opts: KubeEventRecorderOptions = {},
  ) {
    this.component = opts.component ?? EVENT_SOURCE_COMPONENT;
    this.cacheSize = opts.cacheSize ?? 4096;
    this.concurrency = opts.concurrency ?? 4;
    this.maxBacklog = opts.maxBacklog ?? 2000;
  }

  record(obj: EventObjectRef, event: ControllerEvent): void {
    if (this.backlog.length >= this.maxBacklog) {
      this.log.warn(
        { hpa: `${obj.namespace}/${obj.name}`, reason: event.reason },
        "event backlog full; dropping event",
      );
      return;
    }
    this.backlog.push(() => this.write(obj, event));
    this.pump();
  }

  /** Resolves when every queued Event has been written (or has failed). */
  async flush(): Promise<void> {
    if (this.running === 0 && this.backlog.length === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.running < this.concurrency) {
      const job = this.backlog.shift();
      if (job === undefined) break;
      this.running++;
      void job().finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.backlog.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async write(obj: EventObjectRef, event: ControllerEvent): Promise<void> {
    const key = [obj.namespace, obj.name, obj.uid ?? "", event.type, event.reason, event.message].join(
      "\u0000",
    );
    const now = rfc3339(this.clock.now());
    const base = `/api/v1/namespaces/${seg(obj.namespace)}/events`;
    try {
      const prior = this.seen.get(key);
      if (prior !== undefined) {
        prior.count++;
        const patched = await this.http.request("PATCH", `${base}/${seg(prior.name)}`, {
          body: { count: prior.count, lastTimestamp: now },
          patchType: "strategic",
        });
        if (patched.ok) {
          this.touch(key, prior);
          return;
        }
        if (!isNotFound(patched.error)) throw patched.error;
        this.seen.delete(key); // expired or deleted: start a new Event
      }
      const name = `${obj.name}.${(BigInt(this.clock.now()) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
      const created = await this.http.request("POST", base, {
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace: obj.namespace },
          involvedObject: {
            kind: "HorizontalPodAutoscaler",
            apiVersion: "autoscaling/v2",
            namespace: obj.namespace,
            name: obj.name,
            ...(obj.uid !== undefined ? { uid: obj.uid } : {}),
            ...(obj.resourceVersion !== undefined ? { resourceVersion: obj.resourceVersion } : {}),
          },
          reason: event.reason,
          message: event.message,
          type: event.type,
          source: { component: this.component },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          reportingComponent: this.component,
          reportingInstance: "",
        },
      });
      orThrow(created);
      this.touch(key, { name, count: 1, firstTimestamp: now });
    } catch (err) {
      this.log.warn(
        {
          err: err instanceof Error ? err.message : String(err),
          hpa: `${obj.namespace}/${obj.name}`,
          reason: event.reason,
        },
        "could not write event",
      );
    }
  }

  private touch(key: string, seen: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, seen);
    if (this.seen.size > this.cacheSize) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
