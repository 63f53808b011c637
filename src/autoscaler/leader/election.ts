// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: a candidate takes
// the lease when it is free or when its holder has not renewed it within leaseDuration as seen
// on the candidate's own clock (so clock skew between replicas does not matter); the leader
// renews every retryPeriod and steps down when it could not renew for renewDeadline; a clean
// shutdown releases the lease so the next replica takes over at once.
import type { Logger } from "../../log/logger.js";
import type { Clock } from "../controller/clock.js";

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number; // epoch ms
  renewTime: number; // epoch ms
  leaseTransitions: number;
}

export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/** Where the lease lives; the real one is a Lease object, tests use a map. Writes are optimistic. */
export interface LeaseStore {
  get(): Promise<StoredLease | null>;
  /** throws when the lease already exists */
  create(record: LeaseRecord): Promise<StoredLease>;
  /** throws on a resourceVersion conflict */
  update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
  /** a short description for logs, e.g. "lease kube-system/prom-hpa-autoscaler" */
  readonly description: string;
}

export interface LeaderElectionConfig {
  store: LeaseStore;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock: Clock;
  log: Logger;
  onStartedLeading: () => void | Promise<void>;
  /** called when leadership is lost or released; the caller must stop acting as leader at once */
  onStoppedLeading: () => void | Promise<void>;
  onNewLeader?: (identity: string) => void;
}

export type ElectionState = "candidate" | "leader" | "stopped";

export class LeaderElector {
  private state: ElectionState = "candidate";
  private observed: StoredLease | null = null;
  private observedAt = 0;
  private lastRenew = 0;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastLeader = "";

  constructor(private readonly cfg: LeaderElectionConfig) {
    if (!(cfg.leaseDurationMs > cfg.renewDeadlineMs))
      throw new Error("leader election: lease duration must be greater than the renew deadline");
    if (!(cfg.renewDeadlineMs > cfg.retryPeriodMs))
      throw new Error("leader election: renew deadline must be greater than the retry period");
  }

  get isLeader(): boolean {
    return this.state === "leader";
  }
  get currentState(): ElectionState {
    return this.state;
  }
  /** who holds the lease as last observed ("" if nobody) */
  get leader(): string {
    return this.observed?.record.holderIdentity ?? "";
  }

  start(): void {
    if (this.loop !== undefined) return;
    this.loop = this.run();
  }

  /** Stop campaigning; a leader steps down and releases the lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    if (this.state === "leader") {
      await this.stepDown("shutdown");
      await this.release();
    } else if (this.observed?.record.holderIdentity === this.cfg.identity) {
      // acquired just as we were told to stop: give it back rather than let it expire
      await this.release();
    }
    this.state = "stopped";
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const ok = await this.tryAcquireOrRenew();
      const now = this.cfg.clock.now();
      if (this.stopping) break;
      if (this.state === "candidate" && ok) {
        this.state = "leader";
        this.cfg.log.info(
          { lease: this.cfg.store.description, identity: this.cfg.identity },
          "became leader",
        );
        await this.cfg.onStartedLeading();
      } else if (this.state === "leader" && !ok && now - this.lastRenew >= this.cfg.renewDeadlineMs) {
        await this.stepDown("could not renew the lease within the renew deadline");
      }
      await this.sleep(this.cfg.retryPeriodMs);
    }
  }

  private async stepDown(why: string): Promise<void> {
    if (this.state !== "leader") return;
    this.state = "candidate";
    this.cfg.log.warn(
      { lease: this.cfg.store.description, identity: this.cfg.identity, why },
      "stopped leading",
    );
    await this.cfg.onStoppedLeading();
  }

  /** One attempt, as client-go's tryAcquireOrRenew: true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { store, identity, clock } = this.cfg;
    const now = clock.now();
    const fresh: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.cfg.leaseDurationMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    let current: StoredLease | null;
    try {
      current = await store.get();
    } catch (err) {
      this.cfg.log.warn({ err, lease: store.description }, "could not read the lease");
      return false;
    }
    if (current === null) {
      try {
        this.setObserved(await store.create(fresh), clock.now());
        this.lastRenew = now;
        return true;
      } catch (err) {
        this.cfg.log.info({ err: String(err), lease: store.description }, "could not create the lease");
        return false;
      }
    }
    if (this.observed === null || this.observed.resourceVersion !== current.resourceVersion)
      this.setObserved(current, now);
    const held = current.record.holderIdentity;
    const expired = this.observedAt + current.record.leaseDurationSeconds * 1000 <= now;
    if (held !== "" && held !== identity && !expired) return false;
    const next: LeaseRecord =
      held === identity
        ? { ...current.record, renewTime: now, leaseDurationSeconds: fresh.leaseDurationSeconds }
        : { ...fresh, leaseTransitions: current.record.leaseTransitions + 1 };
    try {
      this.setObserved(await store.update(next, current.resourceVersion), now);
      this.lastRenew = now;
      return true;
    } catch (err) {
      this.cfg.log.info({ err: String(err), lease: store.description }, "could not update the lease");
      return false;
    }
  }

  private setObserved(lease: StoredLease, at: number): void {
    this.observed = lease;
    this.observedAt = at;
    const holder = lease.record.holderIdentity;
    if (holder !== this.lastLeader) {
      this.lastLeader = holder;
      if (holder !== "") this.cfg.onNewLeader?.(holder);
    }
  }

  /** Give the lease up so a standby replica need not wait for it to expire. */
  private async release(): Promise<void> {
    const current = this.observed;
    if (current === null || current.record.holderIdentity !== this.cfg.identity) return;
    const now = this.cfg.clock.now();
    try {
      this.setObserved(
        await this.cfg.store.update(
          {
            holderIdentity: "",
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: current.record.leaseTransitions,
          },
          current.resourceVersion,
        ),
        now,
      );
      this.cfg.log.info({ lease: this.cfg.store.description }, "released the lease");
    } catch (err) {
      this.cfg.log.warn(
        { err: String(err), lease: this.cfg.store.description },
        "could not release the lease",
      );
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.cfg.clock.setTimer(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        t.cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }
}
