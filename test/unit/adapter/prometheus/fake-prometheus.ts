// A tiny stand-in for Prometheus' HTTP API on 127.0.0.1:0, for unit tests at the client boundary.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  form: URLSearchParams;
}

export type Handler = (
  req: RecordedRequest,
) => { status?: number; body: unknown; delayMs?: number } | undefined;

export interface FakePrometheus {
  url: string;
  requests: RecordedRequest[];
  handle(h: Handler): void;
  close(): Promise<void>;
}

export const vector = (
  samples: { metric: Record<string, string>; value: number | string; ts?: number }[],
) => ({
  status: "success",
  data: {
    resultType: "vector",
    result: samples.map((s) => ({ metric: s.metric, value: [s.ts ?? 1700000000, String(s.value)] })),
  },
});

export async function startFakePrometheus(handler: Handler = () => undefined): Promise<FakePrometheus> {
  let h = handler;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const form = new URLSearchParams(
        req.method === "POST" ? Buffer.concat(chunks).toString("utf8") : url.search,
      );
      const rec: RecordedRequest = {
        method: req.method ?? "",
        path: url.pathname,
        headers: req.headers,
        form,
      };
      requests.push(rec);
      const answer = h(rec) ?? {
        status: 404,
        body: { status: "error", errorType: "not_found", error: "no handler" },
      };
      const send = (): void => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, { "content-type": "application/json" });
        res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      h = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
