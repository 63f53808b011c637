// Time as a dependency, so the loop's timing is tested with a fake clock.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number; // epoch ms
  setTimer(fn: () => void, delayMs: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, delayMs) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock that moves only when told to; timers fire in due order as time advances. */
export class FakeClock implements Clock {
  private timers: { due: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  private seq = 0;
  constructor(private t = 0) {}

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const timer = { due: this.t + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Move time forward, firing due timers (and letting promise callbacks run between them). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flushMicrotasks();
      this.timers = this.timers.filter((x) => !x.cancelled);
      this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const first = this.timers[0];
      if (first === undefined || first.due > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, first.due);
      first.fn();
    }
    this.t = end;
    await flushMicrotasks();
  }

  pendingTimers(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
