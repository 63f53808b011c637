// The rules file, watched while the adapter runs (a ConfigMap in production: the kubelet swaps a
// `..data` symlink, so the file is re-read rather than trusted to fire one event). A valid new
// version is handed to `apply`, which puts it in force without a failed request; an invalid one
// is refused and the old rules stay, logged once per version with the field path.
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import type { Logger } from "../../log/logger.js";
import { formatIssue, parseConfig } from "./load.js";
import type { MetricsDiscoveryConfig } from "./types.js";

export type ReloadResult = "applied" | "invalid" | "failed";

export interface ConfigReloaderOptions {
  path: string;
  /** The text in force at start, so an unchanged file is not re-applied. */
  initialText: string;
  /** Puts a valid config in force; an error message when it could not (the old one stays). */
  apply(config: MetricsDiscoveryConfig): Promise<string | undefined>;
  logger: Logger;
  /** Counts each attempt by result (the adapter's /metrics). */
  onResult?(result: ReloadResult): void;
  /** How often the file is re-read even without a watch event; default 10 s. */
  pollIntervalMs?: number;
}

export interface ConfigReloader {
  /** Why the newest version of the file is not in force, or undefined when it is. */
  warning(): string | undefined;
  /** Re-reads the file now; resolves when any reload it starts is done. */
  check(): Promise<void>;
  stop(): void;
}

const hash = (text: string): string => createHash("sha256").update(text).digest("hex");

export function watchConfigFile(options: ConfigReloaderOptions): ConfigReloader {
  const { path, logger } = options;
  let applied = hash(options.initialText);
  let refused: string | undefined; // hash of the newest version refused, logged once
  let warning: string | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const once = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      return; // mid-swap or briefly absent: the next check reads it
    }
    const h = hash(text);
    if (h === applied || h === refused) return;
    const parsed = parseConfig(text);
    if (!parsed.ok) {
      refused = h;
      warning = `rules file refused, previous rules in force: ${parsed.issues.map(formatIssue).join("; ")}`;
      logger.error(
        { file: path, issues: parsed.issues.map(formatIssue) },
        "new rules file refused; previous rules stay in force",
      );
      options.onResult?.("invalid");
      return;
    }
    const error = await options.apply(parsed.config);
    if (error !== undefined) {
      // Not marked refused: the same text is tried again at the next check (Prometheus may be back).
      const next = `new rules not applied yet, previous rules in force: ${error}`;
      // Logged when the reason changes, not on every retry.
      if (next !== warning)
        logger.warn({ file: path, err: error }, "new rules file could not be applied yet; retrying");
      warning = next;
      options.onResult?.("failed");
      return;
    }
    applied = h;
    refused = undefined;
    warning = undefined;
    logger.info({ file: path }, "rules file reloaded");
    options.onResult?.("applied");
  };

  const check = (): Promise<void> => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await once();
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  let watcher: FSWatcher | undefined;
  try {
    // The directory, not the file: a ConfigMap update replaces the file through a symlink swap.
    watcher = watch(dirname(path), () => void check());
    watcher.on("error", () => watcher?.close());
  } catch {
    watcher = undefined; // polling alone still works
  }
  const timer = setInterval(() => void check(), options.pollIntervalMs ?? 10_000);
  timer.unref();

  return {
    warning: () => warning,
    check,
    stop() {
      clearInterval(timer);
      watcher?.close();
    },
  };
}
