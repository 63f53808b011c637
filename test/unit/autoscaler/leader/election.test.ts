import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../../src/autoscaler/controller/clock.js";
import {
  LeaderElector,
  type LeaseRecord,
  type LeaseStore,
  type StoredLease,
} from "../../../../src/autoscaler/leader/election.js";
import { silentLogger } from "../../../../src/log/logger.js";

/** A lease in memory with the apiserver's optimistic concurrency. */
class FakeLeaseStore implements LeaseStore {
  readonly description = "lease test/lease";
  stored: StoredLease | null = null;
  private rv = 0;
  down = false;
  writes = 0;
  async get(): Promise<StoredLease | null> {
    if (this.down) throw new Error("connection refused");
    return this.stored === null ? null : structuredClone(this.stored);
  }
  async create(record: LeaseRecord): Promise<StoredLease> {
    if (this.down) throw new Error("connection refused");
    if (this.stored !== null) throw new Error("already exists");
    this.writes++;
    this.stored = { record: { ...record }, resourceVersion: String(++this.rv) };
    return structuredClone(this.stored);
  }
  async update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    if (this.down) throw new Error("connection refused");
    if (this.stored === null || this.stored.resourceVersion !== resourceVersion) throw new Error("conflict");
    this.writes++;
    this.stored = { record: { ...record }, resourceVersion: String(++this.rv) };
    return structuredClone(this.stored);
  }
}

function candidate(store: LeaseStore, clock: FakeClock, identity: string) {
  const log: string[] = [];
  const elector = new LeaderElector({
    store,
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    log: silentLogger,
    onStartedLeading: () => void log.push("started"),
    onStoppedLeading: () => void log.push("stopped"),
  });
  return { elector, log };
}

describe("leader election", () => {
  it("takes a free lease and renews it every retry period", async () => {
    const clock = new FakeClock(1_000_000);
    const store = new FakeLeaseStore();
    const a = candidate(store, clock, "a");
    a.elector.start();
    await clock.advance(0);
    expect(a.elector.isLeader).toBe(true);
    expect(a.log).toEqual(["started"]);
    expect(store.stored?.record).toMatchObject({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    await clock.advance(10_000);
    expect(store.stored?.record.renewTime).toBe(clock.now());
    await a.elector.stop();
  });

  it("when the leader is cut off, it steps down before the standby (on its own clock) takes over: never two leaders", async () => {
    const clock = new FakeClock(1_000_000);
    const store = new FakeLeaseStore();
    let cutOff = false;
    // the leader's view of the API: fails once it is cut off (a killed or partitioned process)
    const leaderView: LeaseStore = {
      description: store.description,
      get: () => (cutOff ? Promise.reject(new Error("unreachable")) : store.get()),
      create: (r) => (cutOff ? Promise.reject(new Error("unreachable")) : store.create(r)),
      update: (r, v) => (cutOff ? Promise.reject(new Error("unreachable")) : store.update(r, v)),
    };
    const a = candidate(leaderView, clock, "a");
    const b = candidate(store, clock, "b");
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    await clock.advance(30_000);
    expect(b.elector.isLeader).toBe(false);
    expect(b.elector.leader).toBe("a");
    cutOff = true;
    const cutAt = clock.now();
    let bothLeading = false;
    let bTookOverAfter = -1;
    for (let t = 0; t < 30; t++) {
      await clock.advance(1_000);
      if (a.elector.isLeader && b.elector.isLeader) bothLeading = true;
      if (bTookOverAfter < 0 && b.elector.isLeader) bTookOverAfter = clock.now() - cutAt;
    }
    expect(bothLeading).toBe(false);
    expect(a.log).toEqual(["started", "stopped"]);
    expect(bTookOverAfter).toBeGreaterThanOrEqual(15_000);
    expect(bTookOverAfter).toBeLessThanOrEqual(15_000 + 2 * 2_000);
    expect(store.stored?.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    await b.elector.stop();
  });

  it("the leader steps down when it cannot renew within the renew deadline", async () => {
    const clock = new FakeClock(1_000_000);
    const store = new FakeLeaseStore();
    const a = candidate(store, clock, "a");
    a.elector.start();
    await clock.advance(0);
    store.down = true;
    await clock.advance(8_000);
    expect(a.elector.isLeader).toBe(true);
    await clock.advance(4_000);
    expect(a.elector.isLeader).toBe(false);
    expect(a.log).toEqual(["started", "stopped"]);
    // and becomes leader again when the API is back and nobody else took the lease
    store.down = false;
    await clock.advance(4_000);
    expect(a.elector.isLeader).toBe(true);
    await a.elector.stop();
  });

  it("stop() steps down, then releases the lease so a standby takes over at its next retry", async () => {
    const clock = new FakeClock(1_000_000);
    const store = new FakeLeaseStore();
    const a = candidate(store, clock, "a");
    const b = candidate(store, clock, "b");
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    await clock.advance(4_000);
    await a.elector.stop();
    expect(a.log).toEqual(["started", "stopped"]);
    expect(store.stored?.record.holderIdentity).toBe("");
    await clock.advance(2_000);
    expect(b.elector.isLeader).toBe(true);
    await b.elector.stop();
  });

  it("two candidates racing for a free lease: exactly one wins", async () => {
    const clock = new FakeClock(1_000_000);
    const store = new FakeLeaseStore();
    const a = candidate(store, clock, "a");
    const b = candidate(store, clock, "b");
    a.elector.start();
    b.elector.start();
    await clock.advance(20_000);
    expect([a.elector.isLeader, b.elector.isLeader].filter(Boolean)).toHaveLength(1);
    await a.elector.stop();
    await b.elector.stop();
  });

  it("rejects settings where a standby could take over before the leader steps down", () => {
    const store = new FakeLeaseStore();
    expect(
      () =>
        new LeaderElector({
          store,
          identity: "a",
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
          retryPeriodMs: 2_000,
          clock: new FakeClock(),
          log: silentLogger,
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
        }),
    ).toThrowError(/lease duration must be greater than the renew deadline/);
  });
});
