// Starting, health-checking and stopping the control plane's processes. Each runs in its own
// process group (so a group kill also takes whatever it forked), logs into one file, and is
// tracked so stop, failure and Ctrl-C all end it.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync, readdirSync } from "node:fs";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface StartSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface Probe {
  /** Resolves true when healthy; any throw counts as "not yet". The message is kept for errors. */
  check: () => Promise<boolean>;
  timeoutMs: number;
  intervalMs?: number;
}

/** A component that did not start: names it and carries the tail of its log. */
export class ComponentError extends Error {
  constructor(
    readonly component: string,
    reason: string,
    readonly logFile: string,
    readonly logTail: string,
  ) {
    super(
      `${component} ${reason}\n--- last lines of ${logFile} ---\n${logTail}\n--- end of ${component} log ---`,
    );
    this.name = "ComponentError";
  }
}

export function tailFile(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, "utf8");
    return text
      .split("\n")
      .filter((l, i, all) => l.length > 0 || i < all.length - 1)
      .slice(-lines)
      .join("\n");
  } catch {
    return "(no log written)";
  }
}

export class Component {
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  logTail(lines = 30): string {
    return tailFile(this.logFile, lines);
  }

  /** Waits until `probe.check` passes; fails naming the component if it exits or times out. */
  async waitHealthy(probe: Probe): Promise<void> {
    const deadline = Date.now() + probe.timeoutMs;
    let lastError = "";
    for (;;) {
      if (!this.running) {
        throw new ComponentError(
          this.name,
          `exited (${this.exitCode !== null ? `code ${this.exitCode}` : `signal ${this.exitSignal}`}) before it became healthy`,
          this.logFile,
          this.logTail(),
        );
      }
      try {
        if (await probe.check()) return;
        lastError = "";
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() >= deadline) {
        const why = lastError ? ` (last probe: ${lastError})` : "";
        throw new ComponentError(
          this.name,
          `did not become healthy within ${Math.round(probe.timeoutMs / 1000)}s${why}`,
          this.logFile,
          this.logTail(),
        );
      }
      await sleep(probe.intervalMs ?? 250);
    }
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    killGroup(this.pid, "SIGTERM");
    const gone = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!gone) {
      killGroup(this.pid, "SIGKILL");
      await this.exited;
    }
    // The leader may be gone while something it forked still holds a port.
    killGroup(this.pid, "SIGKILL");
    for (let i = 0; i < 100 && groupAlive(this.pid); i++) await sleep(20);
  }
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 0) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * True while any process of the group still runs. Zombies do not count: an orphan whose
 * parent is gone waits for PID 1 to reap it, which in a container may take a while.
 */
export function groupAlive(pgid: number): boolean {
  if (pgid <= 0) return false;
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return true; // No /proc: trust kill(0).
  }
  return pids.some((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After the name: state, ppid, pgrp.
      return Number(fields[2]) === pgid && fields[0] !== "Z";
    } catch {
      return false;
    }
  });
}

export function startProcess(spec: StartSpec): Component {
  const fd = openSync(spec.logFile, "a");
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ["ignore", fd, fd],
      detached: true,
    });
    // An ENOENT or EACCES arrives as an 'error' event; the exit promise covers the rest.
    child.once("error", (err) => {
      appendFileSync(spec.logFile, `could not start ${spec.command}: ${err.message}\n`);
      child.emit("exit", 127, null);
    });
    return new Component(spec.name, child, spec.logFile);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup on Ctrl-C and on exit: every live component group of this process is killed.

const live = new Set<Component>();
let hooksInstalled = false;
let signalsOwnedByCaller = false;

/**
 * For a long-running owner (the cluster:up supervisor) that stops everything gracefully on
 * its own signal handlers: the harness then only keeps its last-resort kill on exit.
 */
export function leaveSignalsToCaller(): void {
  signalsOwnedByCaller = true;
}

export function track(c: Component): void {
  live.add(c);
  tellReaper(`+ ${c.pid}`);
  void c.exited.then(() => {
    live.delete(c);
    tellReaper(`- ${c.pid}`);
  });
  installHooks();
}

// The reaper: a tiny detached process holding a pipe from this one. When the pipe closes,
// however this process ended (even SIGKILL, or SIGPIPE when output goes to `head`), it kills
// every process group still registered, so no etcd or apiserver outlives its owner.
const REAPER_SOURCE = `
const groups = new Set();
let buf = "";
process.on("SIGINT", () => {});
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  for (let i = buf.indexOf("\\n"); i >= 0; i = buf.indexOf("\\n")) {
    const [op, id] = buf.slice(0, i).split(" ");
    buf = buf.slice(i + 1);
    if (op === "+") groups.add(Number(id)); else groups.delete(Number(id));
  }
});
const reap = () => {
  for (const g of groups) { try { process.kill(-g, "SIGKILL"); } catch {} }
  process.exit(0);
};
process.stdin.on("end", reap);
process.stdin.on("error", reap);
`;

let reaper: ChildProcess | undefined;

function tellReaper(line: string): void {
  if (!reaper) {
    reaper = spawn(process.execPath, ["-e", REAPER_SOURCE], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
    });
    reaper.unref();
    // The pipe must not keep this process alive; it only has to close when this process ends.
    (reaper.stdin as unknown as Socket | null)?.unref();
    reaper.stdin?.on("error", () => undefined);
  }
  reaper.stdin?.write(`${line}\n`);
}

function killAllNow(): void {
  for (const c of live) killGroup(c.pid, "SIGKILL");
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("exit", killAllNow);
  if (signalsOwnedByCaller) return;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      killAllNow();
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
}
