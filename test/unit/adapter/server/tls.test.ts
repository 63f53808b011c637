import { X509Certificate } from "node:crypto";
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../../src/log/logger.js";
import {
  readServingCertificate,
  selfSignedCertificate,
  watchServingCertificate,
  type ServingCertificate,
} from "../../../../src/adapter/server/tls.js";

function servedCN(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/", rejectUnauthorized: false, agent: false },
      (res) => {
        const cert = (res.socket as TLSSocket).getPeerCertificate();
        res.resume();
        resolve(String(cert.subject.CN));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("serving certificates", () => {
  it("self-signs for the given names and IPs", async () => {
    const pair = await selfSignedCertificate(["adapter.example", "127.0.0.1"]);
    const x = new X509Certificate(pair.cert);
    expect(x.subject).toContain("CN=adapter.example");
    expect(x.subjectAltName).toContain("DNS:adapter.example");
    expect(x.subjectAltName).toContain("IP Address:127.0.0.1");
  });

  it("names the flag whose file is missing or does not match", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tls-"));
    const a = await selfSignedCertificate(["a.example"]);
    const b = await selfSignedCertificate(["b.example"]);
    writeFileSync(join(dir, "a.crt"), a.cert);
    writeFileSync(join(dir, "b.key"), b.key);
    expect(await readServingCertificate(join(dir, "missing.crt"), join(dir, "b.key"))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^--tls-cert-file /),
    });
    expect(await readServingCertificate(join(dir, "a.crt"), join(dir, "b.key"))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^--tls-private-key-file .*does not match/),
    });
  });

  it("serves the new pair after the files are replaced, without a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tls-"));
    const certFile = join(dir, "tls.crt");
    const keyFile = join(dir, "tls.key");
    const first = await selfSignedCertificate(["first.example"]);
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    const server = createServer({ cert: first.cert, key: first.key }, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const changed = new Promise<ServingCertificate>((resolve) => {
      const stop = watchServingCertificate(certFile, keyFile, silentLogger, (c) => {
        server.setSecureContext(c);
        stop();
        resolve(c);
      });
    });
    try {
      expect(await servedCN(port)).toBe("first.example");
      const second = await selfSignedCertificate(["second.example"]);
      // Replace atomically, as a Secret volume update does.
      writeFileSync(join(dir, "tls.key.new"), second.key);
      writeFileSync(join(dir, "tls.crt.new"), second.cert);
      renameSync(join(dir, "tls.key.new"), keyFile);
      renameSync(join(dir, "tls.crt.new"), certFile);
      await changed;
      expect(await servedCN(port)).toBe("second.example");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
