// The load generator only aims at this machine unless told otherwise: a typo in --target must
// not turn a demo into traffic against someone else's server.
import { isIP } from "node:net";

export interface TargetOptions {
  allowNonLoopback?: boolean;
}

export type TargetResult = { ok: true; url: URL } | { ok: false; message: string };

/** True for localhost, 127.0.0.0/8, ::1 (and IPv4-mapped ::ffff:127.x.y.z). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host === "localhost.") return true;
  if (isIP(host) === 4) return host.split(".")[0] === "127";
  if (isIP(host) === 6) {
    if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    return mapped !== null && (mapped[1] ?? "").startsWith("127.");
  }
  return false;
}

export function checkTarget(raw: string, options: TargetOptions = {}): TargetResult {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      ok: false,
      message: `--target: not a URL: ${JSON.stringify(raw)} (expected e.g. http://127.0.0.1:8080/)`,
    };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, message: `--target: only http and https are supported, got ${url.protocol}` };
  }
  if (!isLoopbackHost(url.hostname) && !options.allowNonLoopback) {
    return {
      ok: false,
      message:
        `--target: refusing to send load to ${url.hostname}: not a loopback address ` +
        `(localhost, 127.0.0.0/8, ::1). Pass --allow-non-loopback if you own that server and mean it.`,
    };
  }
  return { ok: true, url };
}
