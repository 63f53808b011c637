// A delaying work queue with client-go's workqueue guarantees: a key is handed to at most one
// worker at a time, adding a key that is already waiting keeps the earlier due time, and a key
// added while it is being processed is handed out again once its worker is done.
import type { Clock, TimerHandle } from "./clock.js";

interface Entry {
  due: number;
  key: string;
}

export class WorkQueue {
  /** key → due time, for keys waiting on the clock */
  private readonly waiting = new Map<string, number>();
  private heap: Entry[] = [];
  /** keys due now, in order */
  private readonly ready: string[] = [];
  private readonly readySet = new Set<string>();
  private readonly processing = new Set<string>();
  /** keys re-added while processing: key → due time */
  private readonly dirty = new Map<string, number>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private timer: TimerHandle | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private shuttingDown = false;
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly clock: Clock) {}

  get length(): number {
    return this.ready.length;
  }
  get size(): number {
    return this.waiting.size + this.ready.length + this.processing.size;
  }
  has(key: string): boolean {
    return this.waiting.has(key) || this.readySet.has(key) || this.processing.has(key);
  }

  add(key: string): void {
    this.addAfter(key, 0);
  }

  /** Make `key` due in `delayMs`, unless it is already due sooner. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    const due = this.clock.now() + Math.max(0, delayMs);
    if (this.processing.has(key)) {
      const d = this.dirty.get(key);
      if (d === undefined || due < d) this.dirty.set(key, due);
      return;
    }
    if (this.readySet.has(key)) return;
    const w = this.waiting.get(key);
    if (w !== undefined && w <= due) return;
    if (delayMs <= 0) {
      this.waiting.delete(key);
      this.pushReady(key);
      return;
    }
    this.waiting.set(key, due);
    this.heapPush({ due, key });
    this.arm();
  }

  /** Forget a key wherever it waits (the HPA was deleted or is no longer ours). */
  remove(key: string): void {
    this.waiting.delete(key);
    this.dirty.delete(key);
    if (this.readySet.delete(key)) {
      const i = this.ready.indexOf(key);
      if (i >= 0) this.ready.splice(i, 1);
    }
  }

  /** The next due key; `undefined` once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.ready.shift();
    if (key !== undefined) {
      this.readySet.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** The worker finished `key`; a re-add that arrived meanwhile is queued now. */
  done(key: string): void {
    this.processing.delete(key);
    const d = this.dirty.get(key);
    if (d !== undefined) {
      this.dirty.delete(key);
      this.addAfter(key, d - this.clock.now());
    }
    if (this.processing.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Stop handing out keys; waiting workers get `undefined`. Resolves when in-flight keys are done. */
  async shutDown(): Promise<void> {
    this.shuttingDown = true;
    this.timer?.cancel();
    this.timer = undefined;
    for (const g of this.getters.splice(0)) g(undefined);
    if (this.processing.size > 0) await new Promise<void>((r) => this.drainWaiters.push(r));
  }

  private pushReady(key: string): void {
    const g = this.getters.shift();
    if (g !== undefined) {
      this.processing.add(key);
      g(key);
      return;
    }
    this.ready.push(key);
    this.readySet.add(key);
  }

  private arm(): void {
    const top = this.heap[0];
    if (top === undefined) return;
    if (this.timer !== undefined && this.timerDue <= top.due) return;
    this.timer?.cancel();
    this.timerDue = top.due;
    this.timer = this.clock.setTimer(() => this.fire(), top.due - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.due > now) break;
      this.heapPop();
      // stale heap entries (re-scheduled or removed keys) are skipped
      if (this.waiting.get(top.key) !== top.due) continue;
      this.waiting.delete(top.key);
      this.pushReady(top.key);
    }
    this.arm();
  }

  private heapPush(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const hp = h[p] as Entry;
      if (hp.due <= e.due) break;
      h[i] = hp;
      i = p;
    }
    h[i] = e;
  }

  private heapPop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let mDue = last.due;
      const hl = h[l];
      const hr = h[r];
      if (hl !== undefined && hl.due < mDue) {
        m = l;
        mDue = hl.due;
      }
      if (hr !== undefined && hr.due < mDue) m = r;
      if (m === i) break;
      h[i] = h[m] as Entry;
      i = m;
    }
    h[i] = last;
  }
}
