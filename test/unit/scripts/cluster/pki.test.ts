import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createCa,
  issueCert,
  issueServingCert,
  serviceDnsNames,
  writeKeyPair,
} from "../../../../scripts/cluster/pki.js";

const dir = mkdtempSync(join(tmpdir(), "pki-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("certificates", () => {
  it("a serving certificate for an aggregated server verifies as <service>.<namespace>.svc against its CA", async () => {
    const ca = await createCa("test-serving-ca");
    const caFiles = await writeKeyPair(dir, "serving-ca", ca);
    const served = await issueServingCert(caFiles, { service: "prom-hpa", namespace: "monitoring", dir });
    const cert = new X509Certificate(served.certPem);
    const caCert = new X509Certificate(served.caPem);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.checkHost("prom-hpa.monitoring.svc")).toBe("prom-hpa.monitoring.svc");
    expect(cert.checkHost("other.monitoring.svc")).toBeUndefined();
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(readFileSync(served.certFile, "utf8")).toBe(served.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
  });

  it("a client certificate carries the user as CN and the groups as O", async () => {
    const ca = await createCa("test-ca");
    const pair = await issueCert(ca, {
      commonName: "kubernetes-admin",
      organizations: ["system:masters"],
      usage: "client",
    });
    const cert = new X509Certificate(pair.certPem);
    expect(cert.subject).toContain("CN=kubernetes-admin");
    expect(cert.subject).toContain("O=system:masters");
    expect(cert.keyUsage).toContain("1.3.6.1.5.5.7.3.2"); // clientAuth
    expect(cert.keyUsage).not.toContain("1.3.6.1.5.5.7.3.1"); // not serverAuth
  });

  it("the names the aggregator checks are the service's in-cluster names", () => {
    expect(serviceDnsNames("api", "ns")).toEqual(["api.ns.svc", "api.ns.svc.cluster.local", "localhost"]);
  });
});
