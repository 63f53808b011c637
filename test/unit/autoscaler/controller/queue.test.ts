import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../../src/autoscaler/controller/clock.js";
import { WorkQueue } from "../../../../src/autoscaler/controller/queue.js";

async function drain(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.length > 0) {
    const k = await q.get();
    if (k === undefined) break;
    out.push(k);
    q.done(k);
  }
  return out;
}

describe("WorkQueue", () => {
  it("hands out a delayed key only when its time has come, in due order", async () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue(clock);
    q.addAfter("late", 3000);
    q.addAfter("early", 1000);
    expect(q.length).toBe(0);
    await clock.advance(999);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(await drain(q)).toEqual(["early"]);
    await clock.advance(2000);
    expect(await drain(q)).toEqual(["late"]);
  });

  it("keeps the earlier due time when a waiting key is added again", async () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue(clock);
    q.addAfter("a", 10_000);
    q.addAfter("a", 2_000);
    q.addAfter("a", 5_000);
    await clock.advance(2_000);
    expect(await drain(q)).toEqual(["a"]);
    await clock.advance(20_000);
    expect(await drain(q)).toEqual([]);
  });

  it("never hands the same key to two workers; a re-add during processing runs after done()", async () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue(clock);
    q.add("a");
    const first = await q.get();
    expect(first).toBe("a");
    q.add("a");
    expect(q.length).toBe(0);
    q.done("a");
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
  });

  it("a delayed re-add during processing waits its delay after done()", async () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue(clock);
    q.add("a");
    await q.get();
    q.addAfter("a", 15_000);
    q.done("a");
    expect(q.length).toBe(0);
    await clock.advance(15_000);
    expect(q.length).toBe(1);
  });

  it("wakes a waiting worker when a key becomes due", async () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue(clock);
    const got = q.get();
    q.addAfter("a", 500);
    await clock.advance(500);
    expect(await got).toBe("a");
  });

  it("remove() forgets a waiting key", async () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue(clock);
    q.addAfter("a", 1000);
    q.add("b");
    q.remove("a");
    q.remove("b");
    await clock.advance(5000);
    expect(q.length).toBe(0);
    expect(q.size).toBe(0);
  });

  it("shutDown() releases waiting workers with undefined and waits for keys in flight", async () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue(clock);
    const idle = q.get();
    q.add("busy");
    // the idle getter took "busy"; take another getter that will wait
    expect(await idle).toBe("busy");
    const waiting = q.get();
    let down = false;
    const shut = q.shutDown().then(() => (down = true));
    expect(await waiting).toBeUndefined();
    await clock.advance(0);
    expect(down).toBe(false);
    q.done("busy");
    await shut;
    expect(down).toBe(true);
    q.add("after");
    expect(await q.get()).toBeUndefined();
  });

  it("keeps one timer for many delayed keys", async () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue(clock);
    for (let i = 0; i < 1000; i++) q.addAfter(`k${i}`, 1000 + (i % 100) * 10);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(2000);
    expect(q.length).toBe(1000);
  });
});
