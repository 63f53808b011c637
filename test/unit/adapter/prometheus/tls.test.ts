import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrometheusClient } from "../../../../src/adapter/prometheus/client.js";
import { vector } from "./fake-prometheus.js";

let server: Server;
let url: string;
let caFile: string;

beforeAll(async () => {
  const pems = await generate([{ name: "commonName", value: "prometheus.test" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), "prom-hpa-tls-"));
  caFile = join(dir, "ca.pem");
  writeFileSync(caFile, pems.cert);
  server = createServer({ cert: pems.cert, key: pems.private }, (req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(vector([{ metric: {}, value: 1 }])));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("Prometheus client over TLS", () => {
  it("refuses a certificate it cannot verify, as unreachable with the TLS reason", async () => {
    const c = createPrometheusClient({ url, timeoutMs: 2000 });
    const r = await c.query("up");
    await c.close();
    expect(!r.ok && r.error.kind).toBe("unreachable");
    expect(!r.ok && r.error.message).toMatch(/certificate/i);
  });

  it("verifies Prometheus against --prometheus-ca-file", async () => {
    const c = createPrometheusClient({ url, timeoutMs: 2000, tls: { caFile } });
    expect((await c.query("up")).ok).toBe(true);
    await c.close();
  });

  it("skips verification only when told to", async () => {
    const c = createPrometheusClient({ url, timeoutMs: 2000, tls: { insecureSkipVerify: true } });
    expect((await c.query("up")).ok).toBe(true);
    await c.close();
  });
});
