import { createServer, request, type Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  answerClientError,
  clientErrorStatus,
  MAX_HEADER_BYTES,
} from "../../../../src/adapter/server/client-error.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function listen(): Promise<number> {
  server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (_req, res) => res.end("ok"));
  server.on("clientError", answerClientError);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return (server!.address() as AddressInfo).port;
}

function get(port: number, path: string): Promise<{ code: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () =>
        resolve({ code: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("requests Node refuses before the handler", () => {
  it("serves a 100 KB labelSelector, as kube-apiserver forwards it (Node's 16 KiB default refused it)", async () => {
    const port = await listen();
    const selector = `app in (${Array.from({ length: 10_000 }, (_, i) => `value-${i}`).join(",")})`;
    expect(selector.length).toBeGreaterThan(100_000);
    const res = await get(
      port,
      `/apis/custom.metrics.k8s.io/v1beta1/x?labelSelector=${encodeURIComponent(selector)}`,
    );
    expect(res.code).toBe(200);
  });

  it("answers a head over 1 MiB with a 431 Kubernetes Status, not an empty body", async () => {
    const port = await listen();
    const res = await get(port, `/x?labelSelector=${"a".repeat(MAX_HEADER_BYTES + 10)}`);
    expect(res.code).toBe(431);
    expect(res.type).toBe("application/json");
    expect(JSON.parse(res.body)).toMatchObject({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      reason: "RequestHeaderFieldsTooLarge",
      code: 431,
    });
  });

  it("answers an unparsable request with a 400 Status", async () => {
    const port = await listen();
    const answer = await new Promise<string>((resolve) => {
      const sock = connect(port, "127.0.0.1", () => sock.write("NOT HTTP AT ALL\r\n\r\n"));
      let text = "";
      sock.setEncoding("utf8");
      sock.on("data", (c: string) => (text += c));
      sock.on("close", () => resolve(text));
    });
    expect(answer.startsWith("HTTP/1.1 400 Bad Request\r\n")).toBe(true);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toMatchObject({
      reason: "BadRequest",
      code: 400,
    });
  });

  it("names the limit in the 431 message", () => {
    const e = Object.assign(new Error("Header overflow"), { code: "HPE_HEADER_OVERFLOW" });
    expect(clientErrorStatus(e).message).toBe("the request's line and headers are larger than 1048576 bytes");
  });
});
