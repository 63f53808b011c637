// A stand-in API server at the HTTP boundary (plain HTTP on 127.0.0.1): tests route requests to
// handlers, keep watch responses open and push events into them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

export interface FakeApiServer {
  url: string;
  /** path + query of every request, in order */
  requests: string[];
  /** Authorization header of every request, in order */
  authorizations: (string | undefined)[];
  kubeConfig(user?: { token?: string }): KubeConfig;
  close(): Promise<void>;
}

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export async function fakeApiServer(route: Route): Promise<FakeApiServer> {
  const requests: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(url.pathname + url.search);
    authorizations.push(req.headers.authorization);
    route(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    authorizations,
    kubeConfig: (user = {}) => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: "fake", server: url, skipTLSVerify: true }],
        users: [{ name: "u", ...user }],
        contexts: [{ name: "fake", cluster: "fake", user: "u" }],
        currentContext: "fake",
      });
      return kc;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

export function watchEvent(res: ServerResponse, type: string, object: unknown): void {
  res.write(JSON.stringify({ type, object }) + "\n");
}
