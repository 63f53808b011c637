import type { KubeApi, RequestOptions, Verb } from "../../../../src/kube/client.js";
import { KubeError, type KubeResult } from "../../../../src/kube/errors.js";

export interface Call {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  body: unknown;
  patchType: string | undefined;
}

type Handler = (call: Call) => unknown;

/**
 * Routes "METHOD path" to handlers and records every call. A handler answers a body, or throws
 * a KubeError (see `status`) that becomes the failed result; unrouted calls answer 404.
 */
export class FakeApi implements KubeApi {
  readonly calls: Call[] = [];
  private readonly routes: { method: string; path: string | RegExp; handler: Handler }[] = [];

  on(method: string, path: string | RegExp, handler: Handler): this {
    this.routes.unshift({ method, path, handler });
    return this;
  }

  async request(method: Verb, path: string, opts: RequestOptions = {}): Promise<KubeResult<unknown>> {
    const call: Call = {
      method,
      path,
      query: { ...opts.query },
      body: opts.body === undefined ? undefined : JSON.parse(JSON.stringify(opts.body)),
      patchType: opts.patchType,
    };
    this.calls.push(call);
    for (const r of this.routes) {
      if (r.method !== method) continue;
      if (typeof r.path === "string" ? r.path === path : r.path.test(path)) {
        try {
          return { ok: true, value: r.handler(call) };
        } catch (err) {
          if (err instanceof KubeError) return { ok: false, error: err };
          throw err;
        }
      }
    }
    return {
      ok: false,
      error: status(404, "NotFound", `the server could not find the requested resource (${method} ${path})`),
    };
  }
}

export function status(code: number, reason: string, message: string): KubeError {
  return new KubeError("api", message, code, reason);
}
