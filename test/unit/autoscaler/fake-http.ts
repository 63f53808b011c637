import { KubeApiError, type KubeHttp, type RequestOptions } from "../../../src/autoscaler/kube/rest.js";

export interface Call {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  body: unknown;
  patchType: string | undefined;
}

type Handler = (call: Call) => unknown;

/** Routes "METHOD path" to handlers; records every call. A handler throws KubeApiError for failures. */
export class FakeHttp implements KubeHttp {
  readonly calls: Call[] = [];
  private readonly routes: { method: string; path: string | RegExp; handler: Handler }[] = [];

  on(method: string, path: string | RegExp, handler: Handler): this {
    this.routes.unshift({ method, path, handler });
    return this;
  }

  async request(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, opts: RequestOptions = {}): Promise<unknown> {
    const call: Call = { method, path, query: opts.query ?? {}, body: opts.body === undefined ? undefined : JSON.parse(JSON.stringify(opts.body)), patchType: opts.patchType };
    this.calls.push(call);
    for (const r of this.routes) {
      if (r.method !== method) continue;
      if (typeof r.path === "string" ? r.path === path : r.path.test(path)) return r.handler(call);
    }
    throw new KubeApiError(`the server could not find the requested resource (${method} ${path})`, 404, "NotFound");
  }
}

export function status(code: number, reason: string, message: string): KubeApiError {
  return new KubeApiError(message, code, reason);
}
