import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createPrometheusClient, type PrometheusClient } from "../../../../src/adapter/prometheus/client.js";
import { prometheusOptionsFromFlags } from "../../../../src/adapter/prometheus/flags.js";
import type { PrometheusOptions } from "../../../../src/adapter/prometheus/options.js";
import { startFakePrometheus, vector, type FakePrometheus } from "./fake-prometheus.js";

let fake: FakePrometheus | undefined;
let client: PrometheusClient | undefined;
afterEach(async () => {
  await client?.close();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

async function setup(
  opts: Partial<PrometheusOptions> = {},
  metrics = {},
): Promise<{ fake: FakePrometheus; client: PrometheusClient }> {
  fake = await startFakePrometheus();
  client = await createPrometheusClient({ url: fake.url, timeoutMs: 1000, ...opts }, { metrics });
  return { fake, client };
}

describe("Prometheus client", () => {
  it("POSTs the query form-encoded and parses a vector, including NaN and +Inf", async () => {
    const { fake, client } = await setup();
    fake.handle(() => ({
      body: vector([
        { metric: { pod: "a" }, value: "1.5", ts: 1700000000.5 },
        { metric: { pod: "b" }, value: "+Inf" },
        { metric: { pod: "c" }, value: "NaN" },
      ]),
    }));
    const r = await client.query('sum(x{pod=~"a|b"}) by (pod)');
    expect(fake.requests[0]?.method).toBe("POST");
    expect(fake.requests[0]?.path).toBe("/api/v1/query");
    expect(fake.requests[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(fake.requests[0]?.form.get("query")).toBe('sum(x{pod=~"a|b"}) by (pod)');
    if (!r.ok || r.value.resultType !== "vector") throw new Error("expected a vector");
    expect(r.value.result[0]).toEqual({ metric: { pod: "a" }, timestampMs: 1700000000500, value: 1.5 });
    expect(r.value.result[1]?.value).toBe(Infinity);
    expect(r.value.result[2]?.value).toBeNaN();
  });

  it("sends every match[] of a series call in the body, so huge selections are no URL problem", async () => {
    const { fake, client } = await setup();
    fake.handle(() => ({ body: { status: "success", data: [{ __name__: "up", job: "x" }] } }));
    const long = `up{pod=~"${Array.from({ length: 5000 }, (_, i) => `pod-${i}`).join("|")}"}`;
    const r = await client.series(["up", long], { start: new Date(1700000000000) });
    expect(r).toEqual({ ok: true, value: [{ __name__: "up", job: "x" }] });
    expect(fake.requests[0]?.path).toBe("/api/v1/series");
    expect(fake.requests[0]?.form.getAll("match[]")).toEqual(["up", long]);
    expect(fake.requests[0]?.form.get("start")).toBe("1700000000.000");
  });

  it("turns a Prometheus error body into a query_error with its errorType", async () => {
    const { fake, client } = await setup();
    fake.handle(() => ({
      status: 400,
      body: { status: "error", errorType: "bad_data", error: "parse error at char 3" },
    }));
    const r = await client.query("sum(");
    expect(r).toEqual({
      ok: false,
      error: {
        kind: "query_error",
        errorType: "bad_data",
        status: 400,
        message: "Prometheus refused the query (bad_data): parse error at char 3",
      },
    });
    expect(client.lastCall().ok).toBe(true);
  });

  it("reports a non-JSON answer or an unexpected shape as bad_response", async () => {
    const { fake, client } = await setup();
    fake.handle(() => ({ status: 502, body: "<html>bad gateway</html>" }));
    const r1 = await client.query("up");
    expect(!r1.ok && r1.error.kind).toBe("bad_response");
    expect(!r1.ok && r1.error.message).toContain("HTTP 502");
    fake.handle(() => ({
      body: {
        status: "success",
        data: { resultType: "vector", result: [{ metric: {}, value: ["x", "1"] }] },
      },
    }));
    const r2 = await client.query("up");
    expect(!r2.ok && r2.error.kind).toBe("bad_response");
    expect(client.lastCall().ok).toBe(false);
  });

  it("gives up after the timeout and says so", async () => {
    const { fake, client } = await setup({ timeoutMs: 100 });
    fake.handle(() => ({ body: vector([]), delayMs: 1000 }));
    const started = Date.now();
    const r = await client.query("up");
    expect(Date.now() - started).toBeLessThan(900);
    expect(!r.ok && r.error.kind).toBe("timeout");
  });

  it("reports a closed port as unreachable with the cause", async () => {
    const { fake } = await setup();
    const url = fake.url;
    await fake.close();
    const c = await createPrometheusClient({ url, timeoutMs: 1000 });
    const r = await c.query("up");
    await c.close();
    expect(!r.ok && r.error.kind).toBe("unreachable");
    expect(!r.ok && r.error.message).toMatch(/cannot reach Prometheus at .*ECONNREFUSED/);
  });

  it("coalesces identical concurrent queries into one HTTP call", async () => {
    let coalesced = 0;
    const seen: string[] = [];
    const { fake, client } = await setup(
      {},
      { coalescedQuery: () => coalesced++, prometheusRequest: (_e: string, o: string) => seen.push(o) },
    );
    fake.handle(() => ({ body: vector([{ metric: {}, value: 1 }]), delayMs: 50 }));
    const rs = await Promise.all([
      client.query("up"),
      client.query("up"),
      client.query("up"),
      client.query("down"),
    ]);
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(fake.requests).toHaveLength(2);
    expect(coalesced).toBe(2);
    expect(seen).toEqual(["ok", "ok"]);
    await client.query("up");
    expect(fake.requests).toHaveLength(3);
  });

  it("tells a query's wait timer when the caller starts and stops waiting, coalesced or not", async () => {
    const { fake, client } = await setup();
    fake.handle(() => ({ body: vector([{ metric: {}, value: 1 }]), delayMs: 30 }));
    const events: string[] = [];
    const timer = (name: string) => ({
      start: () => events.push(`${name} start`),
      stop: () => events.push(`${name} stop`),
    });
    const answered = (name: string) => (r: Awaited<ReturnType<PrometheusClient["query"]>>) => {
      events.push(`${name} answered`);
      return r;
    };
    // Parsing the answer is the adapter's work, not Prometheus': the waits must end before it.
    const parse = JSON.parse;
    const spy = vi.spyOn(JSON, "parse").mockImplementation((text: string) => {
      if (text.includes('"resultType"')) events.push("parse"); // the answer, not the fake's own parsing
      return parse(text) as unknown;
    });
    let a: Awaited<ReturnType<PrometheusClient["query"]>>;
    let b: typeof a;
    try {
      [a, b] = await Promise.all([
        client.query("up", { wait: timer("a") }).then(answered("a")),
        client.query("up", { wait: timer("b") }).then(answered("b")),
      ]);
    } finally {
      spy.mockRestore();
    }
    expect(a.ok && b.ok).toBe(true);
    expect(fake.requests).toHaveLength(1);
    expect(events).toEqual(["a start", "b start", "a stop", "b stop", "parse", "a answered", "b answered"]);
    fake.handle(() => ({ status: 503, body: "down" }));
    events.length = 0;
    const failed = await client.query("up", { wait: timer("c") });
    expect(failed.ok).toBe(false);
    expect(events).toEqual(["c start", "c stop"]);
  });

  it("sends bearer tokens (inline or from a file), basic auth and extra headers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prom-hpa-"));
    writeFileSync(join(dir, "token"), "file-token\n");
    const { fake, client } = await setup({
      auth: { bearerTokenFile: join(dir, "token") },
      headers: { "x-scope-orgid": "tenant-1" },
    });
    fake.handle(() => ({ body: vector([]) }));
    await client.query("up");
    expect(fake.requests[0]?.headers.authorization).toBe("Bearer file-token");
    expect(fake.requests[0]?.headers["x-scope-orgid"]).toBe("tenant-1");
    const basic = await createPrometheusClient({
      url: fake.url,
      auth: { basic: { username: "u", password: "p" } },
    });
    await basic.query("up");
    await basic.close();
    expect(fake.requests[1]?.headers.authorization).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);
  });
});

describe("Prometheus flags", () => {
  it("reads credentials and CA from a kubeconfig-format --prometheus-auth-config", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prom-hpa-"));
    const file = join(dir, "auth.yaml");
    writeFileSync(
      file,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: prom",
        "clusters: [{name: prom, cluster: {server: 'https://prom:9090', certificate-authority: ca.pem}}]",
        "users: [{name: me, user: {token: abc}}]",
        "contexts: [{name: prom, context: {cluster: prom, user: me}}]",
      ].join("\n"),
    );
    const r = await prometheusOptionsFromFlags({
      url: "https://prom:9090",
      authConfigFile: file,
      headers: ["X-Scope-OrgID=t1"],
    });
    expect(r).toEqual({
      ok: true,
      options: {
        url: "https://prom:9090",
        auth: { bearerToken: "abc" },
        tls: { caFile: join(dir, "ca.pem") },
        headers: { "x-scope-orgid": "t1" },
      },
    });
  });

  it("refuses a URL that is not one, and a client cert without its key", async () => {
    expect(await prometheusOptionsFromFlags({ url: "not a url" })).toEqual({
      ok: false,
      message: '--prometheus-url: "not a url" is not a URL',
    });
    const r = await prometheusOptionsFromFlags({ url: "http://p", clientCertFile: "/c.pem" });
    expect(r.ok).toBe(false);
  });
});
