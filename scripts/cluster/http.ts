// Tiny HTTP(S) GET for health probes: one request, no keep-alive, a hard timeout, and the
// component's own CA (never skipping verification).
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface GetResult {
  status: number;
  body: string;
}

export function httpGet(url: string, tls: TlsMaterial = {}, timeoutMs = 3000): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const options = {
      method: "GET",
      timeout: timeoutMs,
      agent: false as const,
      ...(u.protocol === "https:" ? tls : {}),
    };
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs}ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** A probe that passes on a 2xx answer and reports anything else as its reason. */
export function okProbe(url: string, tls: TlsMaterial = {}): () => Promise<boolean> {
  return async () => {
    const res = await httpGet(url, tls);
    if (res.status >= 200 && res.status < 300) return true;
    throw new Error(`GET ${url} answered ${res.status}: ${res.body.slice(0, 200).trim()}`);
  };
}
