import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { optionsFromFlags, type AdapterFlags } from "../../../../src/adapter/command.js";

const base: AdapterFlags = {
  securePort: "6443",
  bindAddress: "0.0.0.0",
  selfSignedHosts: "localhost,127.0.0.1",
  prometheusUrl: "http://127.0.0.1:9090",
  prometheusTimeout: "10s",
  prometheusHeader: [],
  prometheusVerb: "GET",
  metricsRelistInterval: "1m",
  authenticationTokenWebhookCacheTtl: "10s",
  authorizationWebhookCacheAuthorizedTtl: "10s",
  authorizationWebhookCacheUnauthorizedTtl: "10s",
  logLevel: "info",
};

describe("adapter flags", () => {
  it("turn into options with prometheus-adapter's meanings", async () => {
    const o = await optionsFromFlags({
      ...base,
      securePort: "0",
      requestheaderAllowedNames: "front-proxy-client, aggregator",
      allowAnonymous: true,
    });
    expect(o.securePort).toBe(0);
    expect(o.prometheus?.relistIntervalMs).toBe(60_000);
    expect(o.prometheus?.options.url).toBe("http://127.0.0.1:9090");
    expect(o.authentication?.requestHeaderAllowedNames).toEqual(["front-proxy-client", "aggregator"]);
    expect(o.allowAnonymous).toBe(true);
    const aged = await optionsFromFlags({ ...base, metricsMaxAge: "5m" });
    expect(aged.prometheus?.metricsMaxAgeMs).toBe(300_000);
  });

  it("refuse bad values with a message naming the flag", async () => {
    await expect(optionsFromFlags({ ...base, securePort: "http" })).rejects.toThrow(/^--secure-port: /);
    await expect(optionsFromFlags({ ...base, bindAddress: "localhost" })).rejects.toThrow(
      /^--bind-address: /,
    );
    await expect(optionsFromFlags({ ...base, prometheusUrl: "prometheus:9090" })).rejects.toThrow(
      /^--prometheus-url: /,
    );
    await expect(optionsFromFlags({ ...base, metricsRelistInterval: "10" })).rejects.toThrow(
      /^--metrics-relist-interval: /,
    );
    await expect(optionsFromFlags({ ...base, tlsCertFile: "/x.crt" })).rejects.toThrow(
      /--tls-private-key-file/,
    );
    await expect(optionsFromFlags({ ...base, clientCaFile: "/nonexistent/ca.crt" })).rejects.toThrow(
      /^--client-ca-file \/nonexistent\/ca.crt: /,
    );
    const dir = mkdtempSync(join(tmpdir(), "adapter-flags-"));
    writeFileSync(join(dir, "ca.crt"), "not a certificate");
    await expect(
      optionsFromFlags({ ...base, requestheaderClientCaFile: join(dir, "ca.crt") }),
    ).rejects.toThrow(/^--requestheader-client-ca-file .*: no PEM certificate/);
  });
});
