// Folds repeats of one log line: during an outage every request fails for the same cause, and
// one line per request buried the logs (27.5 MB in one run). The first occurrence of a cause is
// logged at once; later ones within the interval are only counted, and one summary line (count,
// first and last time) is written when the interval closes. Time is a parameter.

export interface FoldedRepeats {
  /** Occurrences folded into this summary (not counting the first, which was logged). */
  count: number;
  firstAt: Date;
  lastAt: Date;
}

export interface FoldSink<E> {
  /** The first occurrence of a cause in an interval: log it as it is. */
  first(entry: E): void;
  /** The repeats an interval held back, once the interval has closed. */
  repeated(entry: E, repeats: FoldedRepeats): void;
}

interface Window<E> {
  openedAt: number;
  entry: E;
  count: number;
  firstAt: number;
  lastAt: number;
}

export class RepeatFolder<E> {
  private readonly windows = new Map<string, Window<E>>();

  constructor(
    private readonly sink: FoldSink<E>,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs `entry` unless its cause (`key`) was logged less than an interval ago. */
  note(key: string, entry: E): void {
    const t = this.now();
    const open = this.windows.get(key);
    if (open !== undefined && t - open.openedAt < this.intervalMs) {
      if (open.count === 0) open.firstAt = t;
      open.count++;
      open.lastAt = t;
      open.entry = entry;
      return;
    }
    if (open !== undefined) this.close(open);
    this.windows.set(key, { openedAt: t, entry, count: 0, firstAt: t, lastAt: t });
    this.sink.first(entry);
  }

  /** Writes the summaries of every interval that has closed by now; call it periodically. */
  flush(): void {
    const t = this.now();
    for (const [key, w] of this.windows) {
      if (t - w.openedAt < this.intervalMs) continue;
      this.close(w);
      this.windows.delete(key);
    }
  }

  /** Writes every pending summary, closed or not (on shutdown). */
  flushAll(): void {
    for (const w of this.windows.values()) this.close(w);
    this.windows.clear();
  }

  private close(w: Window<E>): void {
    if (w.count === 0) return;
    this.sink.repeated(w.entry, { count: w.count, firstAt: new Date(w.firstAt), lastAt: new Date(w.lastAt) });
  }
}
