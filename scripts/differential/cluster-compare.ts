// The cluster differential's judgement, pure: each sync outcome of ours is matched against
// kube-controller-manager's sync outcomes of the same HPA near it in time. The two controllers
// sync the same HPA at different instants of each period and see metrics a scrape apart, so a
// decision of ours agrees when KCM made the same one (same kind, sizes and text) within the window.

/** One sync's outcome, in the words both controllers write. */
export type Outcome =
  | { kind: "hold"; replicas: number }
  | { kind: "rescale"; from: number; to: number; reason: string }
  /** no proposal: every metric failed (the FailedComputeMetricsReplicas message) */
  | { kind: "error"; message: string };

export interface SyncRecord {
  hpa: string;
  /** epoch ms the sync ended */
  at: number;
  outcome: Outcome;
}

export function outcomeText(o: Outcome): string {
  switch (o.kind) {
    case "hold":
      return `hold ${o.replicas}`;
    case "rescale":
      return `${o.from}→${o.to} (${o.reason})`;
    case "error":
      return `error: ${o.message}`;
  }
}

export interface Decision {
  hpa: string;
  step: number;
  at: number;
  ours: string;
  /** KCM's outcomes within the window, in time order */
  kcm: string[];
  agreed: boolean;
  /**
   * within `fluxMs` after a step began or KCM resized the target: pods and samples were still
   * moving (a new pod without samples yet, a counter with one scrape), so the two syncs may have
   * read different inputs
   */
  inFlux: boolean;
}

export interface SyncComparison {
  decisions: Decision[];
  /** our syncs with no KCM sync of that HPA within the window (not a decision of both) */
  unpaired: number;
  /** KCM's rescales, and how many of them we made too (the rest KCM made before our next sync) */
  kcmRescales: number;
  anticipated: number;
}

/**
 * Matches each of our syncs against KCM's syncs of the same HPA in [at − windowMs, at + windowMs].
 * `stepOf` names the step a time falls in.
 */
export function compareSyncs(
  ours: readonly SyncRecord[],
  kcm: readonly SyncRecord[],
  windowMs: number,
  stepOf: (at: number) => number,
  flux: { stepStarts: readonly number[]; fluxMs: number } = { stepStarts: [], fluxMs: 0 },
): SyncComparison {
  const byHpa = new Map<string, SyncRecord[]>();
  for (const r of kcm) byHpa.set(r.hpa, [...(byHpa.get(r.hpa) ?? []), r]);
  for (const list of byHpa.values()) list.sort((a, b) => a.at - b.at);
  const decisions: Decision[] = [];
  let unpaired = 0;
  for (const o of [...ours].sort((a, b) => a.at - b.at)) {
    const near = (byHpa.get(o.hpa) ?? []).filter((k) => Math.abs(k.at - o.at) <= windowMs);
    if (near.length === 0) {
      unpaired++;
      continue;
    }
    const mine = outcomeText(o.outcome);
    const theirs = near.map((k) => outcomeText(k.outcome));
    const changes = [
      ...flux.stepStarts,
      ...(byHpa.get(o.hpa) ?? []).filter((k) => k.outcome.kind === "rescale").map((k) => k.at),
    ];
    decisions.push({
      inFlux: changes.some((c) => o.at >= c && o.at - c <= flux.fluxMs),
      hpa: o.hpa,
      step: stepOf(o.at),
      at: o.at,
      ours: mine,
      kcm: theirs,
      agreed: theirs.includes(mine),
    });
  }
  const rescales = kcm.filter((k) => k.outcome.kind === "rescale");
  const anticipated = rescales.filter((k) =>
    ours.some(
      (o) =>
        o.hpa === k.hpa &&
        Math.abs(o.at - k.at) <= windowMs &&
        outcomeText(o.outcome) === outcomeText(k.outcome),
    ),
  ).length;
  return { decisions, unpaired, kcmRescales: rescales.length, anticipated };
}

/** klog's text header: severity, MMDD, time with microseconds, pid, file:line. */
const KLOG_LINE = /^([IWE])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6})\s+\d+ \S+\] "([^"]*)"(.*)$/;
const KV = /(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g;

function kvs(rest: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of rest.matchAll(KV)) {
    const raw = m[2] ?? "";
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        value = raw.slice(1, -1);
      }
    }
    out.set(m[1] ?? "", value);
  }
  return out;
}

const COMPUTE_FAILED =
  /^failed to compute desired number of replicas based on listed metrics for \w+\/([^/]+)\/(\S+): (.*)$/s;

/**
 * kube-controller-manager's sync outcomes in `namespace` from its log at -v=4 (horizontal.go:
 * "Decided not to scale", "Successfully rescaled", and the reconcile error of a sync that had no
 * proposal). The scale target is named like its HPA here. `year`: klog's header has none.
 */
export function parseKcmLog(text: string, namespace: string, year: number): SyncRecord[] {
  const out: SyncRecord[] = [];
  for (const line of text.split("\n")) {
    const m = KLOG_LINE.exec(line);
    if (!m) continue;
    const [, , mo, d, h, mi, s, us, msg, rest] = m;
    const at = new Date(
      year,
      Number(mo) - 1,
      Number(d),
      Number(h),
      Number(mi),
      Number(s),
      Math.floor(Number(us) / 1000),
    ).getTime();
    const f = kvs(rest ?? "");
    if (msg === "Decided not to scale") {
      const [, ns, name] = /^\w+\/([^/]+)\/(.+)$/.exec(f.get("scaleTarget") ?? "") ?? [];
      if (ns === namespace && name !== undefined)
        out.push({ hpa: name, at, outcome: { kind: "hold", replicas: Number(f.get("desiredReplicas")) } });
    } else if (msg === "Successfully rescaled") {
      const [ns, name] = (f.get("HPA") ?? "").split("/");
      if (ns === namespace && name !== undefined)
        out.push({
          hpa: name,
          at,
          outcome: {
            kind: "rescale",
            from: Number(f.get("currentReplicas")),
            to: Number(f.get("desiredReplicas")),
            reason: f.get("reason") ?? "",
          },
        });
    } else {
      const e = COMPUTE_FAILED.exec(f.get("err") ?? "");
      if (e && e[1] === namespace && e[2] !== undefined)
        out.push({ hpa: e[2], at, outcome: { kind: "error", message: e[3] ?? "" } });
    }
  }
  return out;
}
