// Structured logs (pino, JSON lines on stderr) shared by every program. Each error is
// logged once, where it is handled, with its context as fields.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level, base: { component: name } }, pino.destination(2));
}

/** A logger that drops everything: for unit tests and library callers that bring none. */
export const silentLogger: Logger = pino({ level: "silent" });
